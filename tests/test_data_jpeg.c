/* JPEG decoding through libjpeg-turbo (host/jpeg_decode.h): for every
 * colour space a JPEG may hold (YCbCr at 4:2:0 and 4:4:4, grey, RGB, CMYK,
 * YCCK, progressive), the luma is within one grey level (two for CMYK
 * and YCCK) of what stb_image 2.27 gives for the same bytes (the decoder the project used before, and
 * so the pixels every earlier run trained on); a crop is exactly the same
 * rectangle of the whole image at offsets off the 8x8 block grid; corrupt
 * data that libjpeg would only warn about is an error. The files are made
 * here with libjpeg's encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jpeglib.h>
#include <stb/stb_image.h>

#include "host/jpeg_decode.h"
#include "host/lfw_images.h"

typedef struct jpeg_file {
    unsigned char *b;
    unsigned long n;
} jpeg_file;

/* A smooth, non-separable pattern with edges, so that every block has AC
 * energy and chroma differs from luma. */
static unsigned char sample(int x, int y, int c)
{
    int v = (x * (3 + c) + y * (5 - c) + ((x / 9 + y / 7) % 3) * 40 + x * y / 13) & 255;
    return (unsigned char)v;
}

/* Encodes a w x h image with `comps` input channels of space `in` as
 * colour space `out` (JCS_YCbCr, JCS_GRAYSCALE, JCS_RGB, JCS_CMYK, JCS_YCCK);
 * h_samp: the luma's horizontal and vertical sampling (2: 4:2:0, 1: 4:4:4). */
static jpeg_file encode(int w, int h, J_COLOR_SPACE in, int comps, J_COLOR_SPACE out,
                        int h_samp, int progressive)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_file f = {NULL, 0};
    jpeg_mem_dest(&c, &f.b, &f.n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = in;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, out);
    jpeg_set_quality(&c, 90, TRUE);
    if (out == JCS_YCbCr || out == JCS_YCCK) {
        c.comp_info[0].h_samp_factor = h_samp;
        c.comp_info[0].v_samp_factor = h_samp;
    }
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)w * comps);
    assert_non_null(row);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int k = 0; k < comps; k++)
                row[x * comps + k] = sample(x, y, k);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return f;
}

/* The largest |ours - stb's| over the whole image, and the check that each
 * crop is the matching window of the whole decode, bit for bit. */
static int compare_with_stb(jpeg_file f, int w, int h)
{
    siam_error e;
    uint8_t *whole;
    int iw, ih;
    assert_int_equal(siam_jpeg_decode_luma(f.b, f.n, 0, 0, "t.jpg", &whole, &iw, &ih, &e), 0);
    assert_int_equal(iw, w);
    assert_int_equal(ih, h);
    int sw, sh, sc;
    unsigned char *ref = stbi_load_from_memory(f.b, (int)f.n, &sw, &sh, &sc, 1);
    assert_non_null(ref);
    assert_int_equal(sw, w);
    assert_int_equal(sh, h);
    int worst = 0;
    for (int i = 0; i < w * h; i++) {
        int d = abs((int)whole[i] - (int)ref[i]);
        worst = d > worst ? d : worst;
    }
    stbi_image_free(ref);
    /* Crops whose offsets fall on and off the block grid: (w - c) / 2 for
     * c = 140 on 250 is 55, for 141 is 54, for 16 is 117. */
    const int sides[][2] = {{140, 140}, {141, 141}, {16, 16}, {w, 7}, {9, h}, {w, h}};
    for (size_t s = 0; s < sizeof sides / sizeof sides[0]; s++) {
        int cw = sides[s][0], ch = sides[s][1];
        if (cw > w || ch > h)
            continue;
        uint8_t *cut;
        assert_int_equal(siam_jpeg_decode_luma(f.b, f.n, cw, ch, "t.jpg", &cut, &iw, &ih, &e),
                         0);
        int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
        for (int y = 0; y < ch; y++)
            assert_memory_equal(cut + (size_t)y * cw, whole + (size_t)(y0 + y) * w + x0,
                                (size_t)cw);
        free(cut);
    }
    free(whole);
    return worst;
}

static void every_colour_space_matches_stb(void **state)
{
    (void)state;
    const struct {
        const char *what;
        J_COLOR_SPACE in, out;
        int comps, samp, progressive, tolerance;
    } cases[] = {
        {"YCbCr 4:2:0", JCS_RGB, JCS_YCbCr, 3, 2, 0, 1},
        {"YCbCr 4:4:4", JCS_RGB, JCS_YCbCr, 3, 1, 0, 1},
        {"YCbCr progressive", JCS_RGB, JCS_YCbCr, 3, 2, 1, 1},
        {"grey", JCS_GRAYSCALE, JCS_GRAYSCALE, 1, 1, 0, 1},
        {"RGB", JCS_RGB, JCS_RGB, 3, 1, 0, 1},
        /* Two decoders' one-level IDCT differences in two channels that
         * are multiplied (C by K): up to two levels. */
        {"CMYK", JCS_CMYK, JCS_CMYK, 4, 1, 0, 2},
        {"YCCK", JCS_CMYK, JCS_YCCK, 4, 2, 0, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* LFW's 250x250, and an odd size whose last blocks are partial. */
        const int sizes[][2] = {{250, 250}, {203, 157}};
        for (int s = 0; s < 2; s++) {
            int w = sizes[s][0], h = sizes[s][1];
            jpeg_file f = encode(w, h, cases[i].in, cases[i].comps, cases[i].out,
                                 cases[i].samp, cases[i].progressive);
            int worst = compare_with_stb(f, w, h);
            if (worst > cases[i].tolerance)
                fail_msg("%s %dx%d: luma differs from stb_image's by %d levels",
                         cases[i].what, w, h, worst);
            free(f.b);
        }
    }
}

static void corrupt_scans_and_crops_are_errors(void **state)
{
    (void)state;
    jpeg_file f = encode(64, 48, JCS_RGB, 3, JCS_YCbCr, 2, 0);
    siam_error e;
    uint8_t *out;
    int w, h;
    assert_int_equal(siam_jpeg_decode_luma(f.b, f.n, 65, 65, "c.jpg", &out, &w, &h, &e), -1);
    assert_string_equal(e.msg, "c.jpg: crop 65 is larger than the 64x48 image");
    assert_null(out);
    assert_int_equal(siam_jpeg_decode_luma(f.b, f.n, 49, 49, "c.jpg", &out, &w, &h, &e), -1);
    assert_string_equal(e.msg, "c.jpg: crop 49 is larger than the 64x48 image");
    /* The scan cut in the middle, the end-of-image marker kept: libjpeg
     * warns, pads the scan with zeros and would go on. */
    unsigned char *cut = malloc(f.n);
    assert_non_null(cut);
    size_t keep = f.n / 2;
    memcpy(cut, f.b, keep);
    cut[keep] = 0xFF;
    cut[keep + 1] = 0xD9;
    assert_int_equal(siam_jpeg_decode_luma(cut, keep + 2, 0, 0, "c.jpg", &out, &w, &h, &e), -1);
    assert_string_equal(e.msg, "c.jpg: corrupt JPEG (Corrupt JPEG data: premature end of data "
                               "segment)");
    assert_null(out);
    /* Not a JPEG at all, and an empty buffer. */
    assert_int_equal(siam_jpeg_decode_luma((const unsigned char *)"GIF89a", 6, 0, 0, "c.jpg",
                                           &out, &w, &h, &e), -1);
    assert_string_equal(e.msg, "c.jpg: corrupt JPEG (Not a JPEG file: starts with 0x47 0x49)");
    /* Through the image decoder, the cut scan is refused the same way, not
     * trained on. */
    uint8_t px[105 * 105];
    assert_int_equal(siam_image_decode_memory(px, 105, 105, 0, cut, keep + 2, "c.jpg", &e), -1);
    assert_string_equal(e.msg, "c.jpg: corrupt JPEG (Corrupt JPEG data: premature end of data "
                               "segment)");
    free(cut);
    free(f.b);
}

/* Fill bytes before SOI, which stb skipped and libjpeg does not: the image
 * decoder still reads the file. */
static void fill_bytes_before_the_start_are_skipped(void **state)
{
    (void)state;
    jpeg_file f = encode(32, 32, JCS_GRAYSCALE, 1, JCS_GRAYSCALE, 1, 0);
    unsigned char *padded = malloc(f.n + 3);
    assert_non_null(padded);
    memset(padded, 0xFF, 3);
    memcpy(padded + 3, f.b, f.n);
    uint8_t a[32 * 32], b[32 * 32];
    siam_error e;
    assert_int_equal(siam_image_decode_memory(a, 32, 32, 0, f.b, f.n, "a.jpg", &e), 0);
    assert_int_equal(siam_image_decode_memory(b, 32, 32, 0, padded, f.n + 3, "b.jpg", &e), 0);
    assert_memory_equal(a, b, sizeof a);
    free(padded);
    free(f.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_colour_space_matches_stb),
        cmocka_unit_test(corrupt_scans_and_crops_are_errors),
        cmocka_unit_test(fill_bytes_before_the_start_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
