/* Decoding (libjpeg-turbo for JPEG: host/jpeg_decode.h; stb_image for
 * the other formats) and the parallel decode of an image list
 * (host/parallel.h). */
#include "host/lfw_images.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "host/escape.h"
#include "host/hash.h"
#include "host/image_check.h"
#include "host/jpeg_decode.h"
#include "host/parallel.h"
#include "host/read_stream.h"
#include "host/regular_file.h"
#include "host/resize.h"

/* Largest accepted source side: far above LFW's 250, small enough that a
 * corrupt header cannot make stb allocate gigabytes. */
#define MAX_SIDE 8192

/* JPEG entropy data cannot contain FF D9 (0xFF is byte-stuffed), so a file
 * without the end-of-image marker near its end was cut short. stb_image
 * itself pads a truncated JPEG with zeros and reports success. */
static int jpeg_has_end_marker(const unsigned char *b, size_t len)
{
    size_t from = len > 1024 ? len - 1024 : 0;
    for (size_t i = len - 1; i > from; i--)
        if (b[i] == 0xD9 && b[i - 1] == 0xFF)
            return 1;
    return 0;
}

int siam_image_probe_memory(const unsigned char *bytes, size_t len, const char *name, int *w,
                            int *h, siam_error *err)
{
    if (len == 0)
        return siam_fail(err, "%s: empty file (0 bytes), not an image", name);
    if (len > 0x7fffffff)
        return siam_fail(err, "%s: file too large for an image (%zu bytes)", name, len);
    int c;
    char why[160];
    /* Faults of stb_image 2.27 turn some corrupt files into memory errors
     * or huge allocations: those are checked first (host/image_check.h). */
    size_t jpeg = siam_jpeg_start(bytes, len);
    if (jpeg && siam_jpeg_check_tables(bytes, len, why, sizeof why))
        return siam_fail(err, "%s: corrupt JPEG (%s)", name, why);
    if (siam_pnm_check_header(bytes, len, why, sizeof why))
        return siam_fail(err, "%s: %s", name, why);
    int png = len >= 8 && memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0;
    uint32_t hw, hh;
    int sized = siam_image_header_size(bytes, len, &hw, &hh);
    if (sized < 0)
        return siam_fail(err, "%s: truncated or corrupt PNG (no IHDR header after the "
                              "signature)", name);
    if (sized && (hw == 0 || hh == 0 || hw > MAX_SIDE || hh > MAX_SIDE))
        return siam_fail(err, "%s: image size %ux%u out of range (1..%d)", name, hw, hh,
                         MAX_SIDE);
    if (siam_png_check_chunks(bytes, len, why, sizeof why))
        return siam_fail(err, "%s: truncated PNG (%s)", name, why);
    if (!stbi_info_from_memory(bytes, (int)len, w, h, &c))
        return siam_fail(err, "%s: not a readable image (%s)", name,
                         png    ? "a corrupt PNG header"
                         : jpeg ? "a corrupt JPEG header"
                                : stbi_failure_reason());
    if (*w <= 0 || *h <= 0 || *w > MAX_SIDE || *h > MAX_SIDE)
        return siam_fail(err, "%s: image size %dx%d out of range (1..%d)", name, *w, *h,
                         MAX_SIDE);
    if (jpeg && !jpeg_has_end_marker(bytes, len))
        return siam_fail(err, "%s: truncated JPEG (no end-of-image marker)", name);
    return 0;
}

int siam_image_decode_memory(uint8_t *out, int H, int W, int crop, const unsigned char *bytes,
                             size_t len, const char *name, siam_error *err)
{
    if (crop < 0)
        return siam_fail(err, "%s: crop %d: expected 0 (whole image) or a side in pixels", name,
                         crop);
    int w, h, c;
    if (siam_image_probe_memory(bytes, len, name, &w, &h, err))
        return -1;
    size_t jpeg = siam_jpeg_start(bytes, len);
    if (jpeg) {
        /* libjpeg wants SOI first: any fill bytes stb skips before it go. */
        size_t soi = jpeg - 2;
        uint8_t *cut;
        int side = crop > 0 ? crop : 0;
        if (siam_jpeg_decode_luma(bytes + soi, len - soi, side, side, name, &cut, &w, &h, err))
            return -1;
        int rc = side ? siam_resize_u8(out, H, W, cut, side, side, err)
                      : siam_resize_u8(out, H, W, cut, h, w, err);
        free(cut);
        return rc < 0 ? siam_fail_wrap(err, "%s", name) : 0;
    }
    unsigned char *grey = stbi_load_from_memory(bytes, (int)len, &w, &h, &c, 1);
    if (grey == NULL) {
        /* stb_image's reason may quote the file's own bytes (a chunk type). */
        const char *why = stbi_failure_reason();
        char shown[SIAM_ESCAPE_CAP(64)];
        siam_escape(shown, sizeof shown, why ? why : "", why ? strnlen(why, 64) : 0);
        return siam_fail(err, "%s: corrupt image (%s)", name, shown);
    }
    if (crop > w || crop > h) {
        stbi_image_free(grey);
        return siam_fail(err, "%s: crop %d is larger than the %dx%d image", name, crop, w, h);
    }
    int rc;
    if (crop > 0 && (crop < w || crop < h)) {
        /* The centred square, copied out so that the resizer sees a plain
         * unpadded image. */
        uint8_t *cut = malloc((size_t)crop * crop);
        if (cut == NULL) {
            stbi_image_free(grey);
            return siam_fail(err, "%s: out of memory cropping the image", name);
        }
        int y0 = (h - crop) / 2, x0 = (w - crop) / 2;
        for (int y = 0; y < crop; y++)
            memcpy(cut + (size_t)y * crop, grey + (size_t)(y0 + y) * w + x0, (size_t)crop);
        rc = siam_resize_u8(out, H, W, cut, crop, crop, err);
        free(cut);
    } else {
        rc = siam_resize_u8(out, H, W, grey, h, w, err);
    }
    stbi_image_free(grey);
    if (rc < 0)
        return siam_fail_wrap(err, "%s", name);
    return 0;
}

/* The file's bytes, decoded; *hash (when non-NULL) their hash. */
static int decode_file_hashed(uint8_t *out, int H, int W, int crop, const char *path,
                              uint64_t *hash, siam_error *err)
{
    FILE *f = siam_open_regular(path, "image", err);
    if (f == NULL)
        return -1;
    size_t len;
    int read_failed;
    unsigned char *buf = siam_read_stream(f, &len, &read_failed);
    int read_error = read_failed ? errno : 0;
    fclose(f);
    /* File names come from directory listings and pairs files. */
    char shown[SIAM_ESCAPE_CAP(512)];
    siam_escape(shown, sizeof shown, path, strlen(path));
    if (buf == NULL)
        return siam_fail(err, "%s: out of memory reading the image", shown);
    if (hash)
        *hash = siam_hash64_blocks(buf, len);
    int rc = read_error ? siam_fail(err, "%s: cannot read image: %s", shown, strerror(read_error))
                        : siam_image_decode_memory(out, H, W, crop, buf, len, shown, err);
    free(buf);
    return rc;
}

int siam_image_decode_file(uint8_t *out, int H, int W, int crop, const char *path,
                           siam_error *err)
{
    return decode_file_hashed(out, H, W, crop, path, NULL, err);
}

typedef struct decode_job {
    uint8_t *pixels;
    int H, W, crop;
    const char *const *paths;
    uint64_t *hashes;
} decode_job;

static int decode_one(void *ctx, int i, siam_error *err)
{
    const decode_job *job = ctx;
    uint8_t *out = job->pixels + (size_t)i * job->H * job->W;
    return decode_file_hashed(out, job->H, job->W, job->crop, job->paths[i],
                              job->hashes ? &job->hashes[i] : NULL, err);
}

int siam_image_decode_all(uint8_t *pixels, int H, int W, int crop, const char *const *paths,
                          int count, int threads, uint64_t *hashes, siam_error *err)
{
    decode_job job = { .pixels = pixels, .H = H, .W = W, .crop = crop, .paths = paths,
                       .hashes = hashes };
    return siam_parallel_for(count, threads, decode_one, &job, err);
}
