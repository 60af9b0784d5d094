/* libjpeg-turbo decoding of a centred luma rectangle (host/jpeg_decode.h). */
#include "host/jpeg_decode.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
    char why[JMSG_LENGTH_MAX];
    int warned; /* corrupt data libjpeg patched over: a failure for us */
} jpeg_failure;

static void on_error(j_common_ptr c)
{
    jpeg_failure *f = (jpeg_failure *)c->err;
    c->err->format_message(c, f->why);
    longjmp(f->back, 1);
}

/* Level -1 is a warning about corrupt data (libjpeg pads a cut scan with
 * zeros and goes on); higher levels are trace messages. The first warning
 * is kept. */
static void on_message(j_common_ptr c, int level)
{
    jpeg_failure *f = (jpeg_failure *)c->err;
    if (level < 0 && !f->warned) {
        c->err->format_message(c, f->why);
        f->warned = 1;
    }
}

/* stb_image's x * y / 255, rounded, for its CMYK and YCCK greys. */
static uint8_t blinn_8x8(unsigned x, unsigned y)
{
    unsigned t = x * y + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

/* (77R + 150G + 29B) >> 8: stb_image's luma of RGB, truncated (libjpeg's own
 * grey conversion rounds, and would move RGB files' pixels by up to two
 * levels). */
static uint8_t stb_luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 77 + g * 150 + b * 29) >> 8);
}

/* One decoded row of interleaved samples in the file's own colour space to
 * luma, as stb_image 2.27 makes it: RGB by stb_luma; CMYK (Adobe transform
 * 0) through its RGB; YCCK (transform 2) from the inverted Y and K alone. */
static void row_to_luma(uint8_t *dst, const uint8_t *row, int n, J_COLOR_SPACE space)
{
    for (int i = 0; i < n; i++) {
        if (space == JCS_RGB) {
            const uint8_t *p = row + 3 * i;
            dst[i] = stb_luma(p[0], p[1], p[2]);
        } else if (space == JCS_YCCK) {
            const uint8_t *p = row + 4 * i;
            dst[i] = blinn_8x8(255u - p[0], p[3]);
        } else {
            const uint8_t *p = row + 4 * i;
            dst[i] = stb_luma(blinn_8x8(p[0], p[3]), blinn_8x8(p[1], p[3]),
                              blinn_8x8(p[2], p[3]));
        }
    }
}

/* What the decode owns; it lives in the caller's frame, so that the
 * setjmp there sees its current contents whatever libjpeg unwinds. */
typedef struct jpeg_decode {
    struct jpeg_decompress_struct cinfo;
    jpeg_failure fail;
    uint8_t *pixels, *row;
} jpeg_decode;

/* Everything after jpeg_create_decompress; libjpeg's errors longjmp out. */
static int decode_rect(jpeg_decode *d, const unsigned char *bytes, size_t len, int cw, int ch,
                       const char *name, int *w, int *h, siam_error *err)
{
    struct jpeg_decompress_struct *ci = &d->cinfo;
    jpeg_mem_src(ci, bytes, (unsigned long)len);
    jpeg_read_header(ci, TRUE);
    J_COLOR_SPACE space = ci->jpeg_color_space;
    /* RGB, CMYK and YCCK files come out in their own space (libjpeg's null
     * conversion) and are made grey here; YCbCr and grey files libjpeg
     * makes grey itself, by taking Y alone. */
    int raw = space == JCS_RGB || space == JCS_CMYK || space == JCS_YCCK;
    ci->out_color_space = raw ? space : JCS_GRAYSCALE;
    ci->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(ci);
    int iw = (int)ci->output_width, ih = (int)ci->output_height;
    int comps = ci->output_components;
    if (cw == 0 && ch == 0) {
        cw = iw;
        ch = ih;
    }
    if (cw > iw || ch > ih)
        return siam_fail(err, "%s: crop %d is larger than the %dx%d image", name,
                         cw > ch ? cw : ch, iw, ih);
    int x0 = (iw - cw) / 2, y0 = (ih - ch) / 2;
    /* libjpeg widens the column range to whole blocks: xoff moves left to
     * a block edge and width grows to cover the request. */
    JDIMENSION xoff = (JDIMENSION)x0, width = (JDIMENSION)cw;
    if (cw < iw)
        jpeg_crop_scanline(ci, &xoff, &width);
    d->pixels = malloc((size_t)cw * (size_t)ch);
    d->row = malloc((size_t)width * (size_t)comps);
    if (d->pixels == NULL || d->row == NULL)
        return siam_fail(err, "%s: out of memory decoding the image", name);
    if (y0 > 0)
        jpeg_skip_scanlines(ci, (JDIMENSION)y0);
    size_t skip = (size_t)(x0 - (int)xoff) * (size_t)comps;
    for (int y = 0; y < ch; y++) {
        JSAMPROW r = d->row;
        if (jpeg_read_scanlines(ci, &r, 1) != 1)
            return siam_fail(err, "%s: corrupt JPEG (row %d could not be read)", name, y0 + y);
        uint8_t *dst = d->pixels + (size_t)y * cw;
        if (raw)
            row_to_luma(dst, d->row + skip, cw, space);
        else
            memcpy(dst, d->row + skip, (size_t)cw);
    }
    if (d->fail.warned)
        return siam_fail(err, "%s: corrupt JPEG (%s)", name, d->fail.why);
    *w = iw;
    *h = ih;
    return 0;
}

int siam_jpeg_decode_luma(const unsigned char *bytes, size_t len, int cw, int ch,
                          const char *name, uint8_t **out, int *w, int *h, siam_error *err)
{
    *out = NULL;
    jpeg_decode d;
    memset(&d, 0, sizeof d);
    d.cinfo.err = jpeg_std_error(&d.fail.mgr);
    d.fail.mgr.error_exit = on_error;
    d.fail.mgr.emit_message = on_message;
    if (setjmp(d.fail.back)) {
        jpeg_destroy_decompress(&d.cinfo);
        free(d.pixels);
        free(d.row);
        return siam_fail(err, "%s: corrupt JPEG (%s)", name, d.fail.why);
    }
    jpeg_create_decompress(&d.cinfo);
    int rc = decode_rect(&d, bytes, len, cw, ch, name, w, h, err);
    /* The rows below the rectangle are never decoded, so the decoder is
     * stopped rather than finished (jpeg_finish_decompress would ask for
     * them). */
    jpeg_destroy_decompress(&d.cinfo);
    free(d.row);
    if (rc < 0) {
        free(d.pixels);
        return -1;
    }
    *out = d.pixels;
    return 0;
}
