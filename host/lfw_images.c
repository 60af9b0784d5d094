/* Decoding (stb_image) and the parallel decode of an image list
 * (host/parallel.h). */
#include "host/lfw_images.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "host/escape.h"
#include "host/hash.h"
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

/* stb_image 2.27 (Debian 12's libstb) fills a Huffman table with as many
 * codes as a DHT segment's 16 counts add up to, up to 4080, into arrays of
 * 256: a corrupt JPEG writes past them into the decoder's state, function
 * pointers included (found by tests/fuzz/fuzz_image.c; later stb versions
 * refuse more than 256). So every DHT segment stb could reach is checked
 * first: the walk goes marker to marker, segments skipped by their length
 * and entropy-coded data byte by byte to its next marker, and reads each
 * segment's tables as the decoder does (a table may run past the segment
 * and the file). 0, or the code count of the first table above 256. */
/* Where a JPEG's segments start (just after SOI), or 0 when the bytes are
 * no JPEG to stb: it takes any run of 0xFF fill bytes before D8. */
static size_t jpeg_start(const unsigned char *b, size_t len)
{
    size_t i = 0;
    while (i < len && b[i] == 0xFF)
        i++;
    return i >= 1 && i < len && b[i] == 0xD8 ? i + 1 : 0;
}

static int jpeg_oversized_huffman_table(const unsigned char *b, size_t len)
{
    size_t i = jpeg_start(b, len);
    while (i + 1 < len) {
        unsigned m = b[i + 1];
        if (b[i] != 0xFF || m == 0x00 || m == 0xFF || m == 0x01 || m == 0xD8 ||
            (m >= 0xD0 && m <= 0xD7)) {
            i++; /* entropy-coded data, stuffing, fill, or a marker without length */
            continue;
        }
        if (m == 0xD9 || i + 4 > len)
            return 0; /* end of image */
        size_t seg = ((size_t)b[i + 2] << 8 | b[i + 3]), end = i + 2 + seg;
        /* Tables as stb reads them: while the segment's length lasts, and
         * with zeros past the end of the file. */
        long left = (long)seg - 2;
        for (size_t t = i + 4; m == 0xC4 && left > 0;) {
            int n = 0;
            for (size_t k = t + 1; k <= t + 16; k++)
                n += k < len ? b[k] : 0;
            if (n > 256)
                return n;
            t += 17 + (size_t)n;
            left -= 17 + n;
        }
        i = seg < 2 ? i + 2 : end;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The size a PNG's header declares (its IHDR chunk, which must come first:
 * PNG 1.2, section 11.2.2), read here because stb_image 2.27 answers a
 * header beyond its own limits with "unknown image type". 1 with *w, *h
 * set; 0 when the bytes are no PNG; -1 when the header is cut or is not
 * IHDR. */
static int png_header_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (len < 8 || memcmp(b, sig, 8) != 0)
        return 0;
    if (len < 8 + 8 + 13 || memcmp(b + 12, "IHDR", 4) != 0)
        return -1;
    *w = be32(b + 16);
    *h = be32(b + 20);
    return 1;
}

/* A PNG cut short: its chunks, walked by their lengths, run past the end
 * or stop before IEND. 1 with what is missing in `what`; 0 when whole.
 * stb_image reports such a file by whatever it read last ("outofdata", or
 * the first bytes of a cut chunk type). */
static int png_cut(const unsigned char *b, size_t len, char *what, size_t cap)
{
    for (size_t i = 8; i + 8 <= len;) {
        uint32_t n = be32(b + i);
        if ((uint64_t)i + 12 + n > len) {
            char type[SIAM_ESCAPE_CAP(4)];
            siam_escape(type, sizeof type, (const char *)b + i + 4, 4);
            snprintf(what, cap, "the file ends inside its %s chunk", type);
            return 1;
        }
        if (memcmp(b + i + 4, "IEND", 4) == 0)
            return 0;
        i += 12 + (size_t)n;
    }
    snprintf(what, cap, "no IEND chunk");
    return 1;
}

/* The size a JPEG's frame header (SOFn, T.81 B.2.2) declares, found by
 * walking the segments before the first scan: 1 with *w, *h; 0 when there
 * is none to read. */
static int jpeg_frame_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
    size_t i = jpeg_start(b, len);
    while (i + 1 < len) {
        unsigned m = b[i + 1];
        if (b[i] != 0xFF || m == 0x00 || m == 0xFF || m == 0x01 || m == 0xD8 ||
            (m >= 0xD0 && m <= 0xD7)) {
            i++;
            continue;
        }
        if (m == 0xD9 || m == 0xDA || i + 4 > len)
            return 0;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > len)
                return 0;
            *h = (uint32_t)b[i + 5] << 8 | b[i + 6];
            *w = (uint32_t)b[i + 7] << 8 | b[i + 8];
            return 1;
        }
        size_t seg = ((size_t)b[i + 2] << 8 | b[i + 3]);
        i = seg < 2 ? i + 2 : i + 2 + seg;
    }
    return 0;
}

int siam_image_probe_memory(const unsigned char *bytes, size_t len, const char *name, int *w,
                            int *h, siam_error *err)
{
    if (len == 0)
        return siam_fail(err, "%s: empty file (0 bytes), not an image", name);
    if (len > 0x7fffffff)
        return siam_fail(err, "%s: file too large for an image (%zu bytes)", name, len);
    int c, codes;
    size_t jpeg = jpeg_start(bytes, len);
    if (jpeg && (codes = jpeg_oversized_huffman_table(bytes, len)) > 0)
        return siam_fail(err, "%s: corrupt JPEG (a Huffman table of %d codes, more than 256)",
                         name, codes);
    uint32_t hw, hh;
    int png = png_header_size(bytes, len, &hw, &hh);
    if (png < 0)
        return siam_fail(err, "%s: truncated or corrupt PNG (no IHDR header after the "
                              "signature)", name);
    int sized = png > 0 || (jpeg && jpeg_frame_size(bytes, len, &hw, &hh));
    if (sized && (hw == 0 || hh == 0 || hw > MAX_SIDE || hh > MAX_SIDE))
        return siam_fail(err, "%s: image size %ux%u out of range (1..%d)", name, hw, hh,
                         MAX_SIDE);
    char cut[64];
    if (png && png_cut(bytes, len, cut, sizeof cut))
        return siam_fail(err, "%s: truncated PNG (%s)", name, cut);
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
