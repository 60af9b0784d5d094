/* Image decoding and resizing: luma of known colours, the area filter against
 * a double-precision reference, other sizes, the parallel decoder, and clear
 * errors (no crash) for empty, truncated, corrupt and non-image files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <stb/stb_image_write.h>

#include "host/lfw_images.h"
#include "host/resize.h"
#include "tests/support/data_fixture.h"

typedef struct membuf {
    unsigned char b[1 << 16];
    int n;
} membuf;

static void put(void *ctx, void *data, int n)
{
    membuf *m = ctx;
    assert_true(m->n + n <= (int)sizeof m->b);
    memcpy(m->b + m->n, data, (size_t)n);
    m->n += n;
}

static void pattern_rgb(unsigned char *rgb, int w, int h)
{
    for (int i = 0; i < w * h * 3; i++)
        rgb[i] = (unsigned char)((i * 7 + i / 97) & 255);
}

/* Pure colours in four quadrants: stb's luma is (77 R + 150 G + 29 B) >> 8. */
static void rgb_png_gives_luma(void **state)
{
    (void)state;
    const unsigned char colour[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    const int luma[4] = {76, 149, 28, 255};
    unsigned char rgb[4 * 4 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            memcpy(rgb + (y * 4 + x) * 3, colour[(y / 2) * 2 + x / 2], 3);
    membuf m = {.n = 0};
    assert_true(stbi_write_png_to_func(put, &m, 4, 4, 3, rgb, 12));
    uint8_t out[16];
    siam_error e;
    assert_int_equal(siam_image_decode_memory(out, 4, 4, 0, m.b, (size_t)m.n, "q.png", &e), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            assert_int_equal(out[y * 4 + x], luma[(y / 2) * 2 + x / 2]);
}

static void area_filter_matches_reference(void **state)
{
    (void)state;
    /* 4x4 -> 2x2: each output is the mean of a 2x2 block. */
    const uint8_t a[16] = {0, 4, 8, 12, 8, 4, 100, 200, 1, 1, 50, 50, 1, 1, 50, 54};
    uint8_t o[4];
    siam_error e;
    assert_int_equal(siam_resize_u8(o, 2, 2, a, 4, 4, &e), 0);
    assert_int_equal(o[0], 4);
    assert_int_equal(o[1], 80);
    assert_int_equal(o[2], 1);
    assert_int_equal(o[3], 51);
    /* 250 -> 105 on a random image against the exact-area formula in double:
     * output (i, j) = sum over source pixels of overlap area / s^2. */
    enum { S = 250, D = 105 };
    uint8_t *src = malloc(S * S), *dst = malloc(D * D);
    assert_non_null(src);
    assert_non_null(dst);
    for (int i = 0; i < S * S; i++)
        src[i] = (uint8_t)((i * 2654435761u) >> 24);
    assert_int_equal(siam_resize_u8(dst, D, D, src, S, S, &e), 0);
    double s = (double)S / D;
    int worst = 0;
    for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
            double acc = 0;
            for (int y = 0; y < S; y++) {
                double oy = fmin(y + 1, (i + 1) * s) - fmax(y, i * s);
                if (oy <= 0)
                    continue;
                for (int x = 0; x < S; x++) {
                    double ox = fmin(x + 1, (j + 1) * s) - fmax(x, j * s);
                    if (ox > 0)
                        acc += ox * oy * src[y * S + x];
                }
            }
            int d = abs((int)dst[i * D + j] - (int)lround(acc / (s * s)));
            worst = d > worst ? d : worst;
        }
    }
    /* Rounding of values within float error of .5 may differ by one. */
    assert_true(worst <= 1);
    free(src);
    free(dst);
}

/* The filter in the plainest form: per output, taps in order from 0, the
 * horizontal pass first, in float, rounded half to even. The resizer's
 * vectorised passes must give exactly these pixels (it reorders loops, never
 * an output's sum), so that cached images and earlier runs keep theirs. */
static void plain_area_resize(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw)
{
    float *tmp = malloc(sizeof *tmp * (size_t)sh * dw);
    assert_non_null(tmp);
    double sx = (double)sw / dw, sy = (double)sh / dh;
    for (int y = 0; y < sh; y++)
        for (int j = 0; j < dw; j++) {
            double lo = j * sx, hi = (j + 1) * sx;
            int i1 = (int)ceil(hi) < sw ? (int)ceil(hi) : sw;
            float acc = 0;
            for (int i = (int)floor(lo); i < i1; i++) {
                double a = i > lo ? i : lo, b = i + 1 < hi ? i + 1 : hi;
                acc += (float)((b - a) / sx) * src[(size_t)y * sw + i];
            }
            tmp[(size_t)y * dw + j] = acc;
        }
    for (int i = 0; i < dh; i++) {
        double lo = i * sy, hi = (i + 1) * sy;
        int y1 = (int)ceil(hi) < sh ? (int)ceil(hi) : sh;
        for (int j = 0; j < dw; j++) {
            float acc = 0;
            for (int y = (int)floor(lo); y < y1; y++) {
                double a = y > lo ? y : lo, b = y + 1 < hi ? y + 1 : hi;
                acc += (float)((b - a) / sy) * tmp[(size_t)y * dw + j];
            }
            long v = lrintf(acc);
            dst[(size_t)i * dw + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(tmp);
}

static void area_filter_is_the_plain_sum_exactly(void **state)
{
    (void)state;
    /* LFW whole and cropped, a non-square source, odd sizes, a 2:1 ratio
     * whose sums land on exact halves (where the rounding must be lrintf's). */
    const int sizes[][4] = {{250, 250, 105, 105}, {140, 140, 105, 105}, {200, 300, 105, 105},
                            {157, 203, 61, 97},   {8, 8, 4, 4},         {31, 17, 30, 16}};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int sh = sizes[c][0], sw = sizes[c][1], dh = sizes[c][2], dw = sizes[c][3];
        uint8_t *src = malloc((size_t)sh * sw), *a = malloc((size_t)dh * dw),
                *b = malloc((size_t)dh * dw);
        assert_true(src && a && b);
        for (int i = 0; i < sh * sw; i++)
            src[i] = (uint8_t)(c == 4 ? (i & 1) : (i * 2654435761u) >> 24);
        siam_error e;
        assert_int_equal(siam_resize_u8(a, dh, dw, src, sh, sw, &e), 0);
        plain_area_resize(b, dh, dw, src, sh, sw);
        assert_memory_equal(a, b, (size_t)dh * dw);
        free(src);
        free(a);
        free(b);
    }
}

static void other_sizes_and_copies(void **state)
{
    (void)state;
    siam_error e;
    uint8_t flat[300 * 200];
    memset(flat, 77, sizeof flat);
    uint8_t out[105 * 105];
    /* Shrinking and growing a flat image keep it flat. */
    assert_int_equal(siam_resize_u8(out, 105, 105, flat, 200, 300, &e), 0);
    for (int i = 0; i < 105 * 105; i++)
        assert_int_equal(out[i], 77);
    assert_int_equal(siam_resize_u8(out, 105, 105, flat, 60, 80, &e), 0);
    for (int i = 0; i < 105 * 105; i++)
        assert_int_equal(out[i], 77);
    /* Equal sizes copy exactly. */
    uint8_t src[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, cp[9];
    assert_int_equal(siam_resize_u8(cp, 3, 3, src, 3, 3, &e), 0);
    assert_memory_equal(cp, src, 9);
    /* Growing interpolates: a 0/255 step gets values in between (nearest
     * neighbour would give only 0 and 255). */
    uint8_t step[4] = {0, 255, 0, 255}, up[2 * 8];
    assert_int_equal(siam_resize_u8(up, 2, 8, step, 2, 2, &e), 0);
    int between = 0;
    for (int i = 0; i < 16; i++)
        between += up[i] > 20 && up[i] < 235;
    assert_true(between >= 4);
    assert_int_equal(siam_resize_u8(out, 0, 5, src, 3, 3, &e), -1);
    assert_string_equal(e.msg, "cannot resize 3x3 to 5x0");
}

static void expect_decode_error(const unsigned char *b, size_t n, const char *msg)
{
    uint8_t out[105 * 105];
    siam_error e = {{0}};
    assert_int_equal(siam_image_decode_memory(out, 105, 105, 0, b, n, "img", &e), -1);
    assert_string_equal(e.msg, msg);
}

static void bad_bytes_give_clear_errors(void **state)
{
    (void)state;
    unsigned char rgb[64 * 64 * 3];
    pattern_rgb(rgb, 64, 64);
    membuf jpg = {.n = 0}, png = {.n = 0};
    assert_true(stbi_write_jpg_to_func(put, &jpg, 64, 64, 3, rgb, 90));
    assert_true(stbi_write_png_to_func(put, &png, 64, 64, 3, rgb, 64 * 3));
    uint8_t out[105 * 105];
    siam_error e;
    assert_int_equal(siam_image_decode_memory(out, 105, 105, 0, jpg.b, (size_t)jpg.n, "j", &e), 0);
    assert_int_equal(siam_image_decode_memory(out, 105, 105, 0, png.b, (size_t)png.n, "p", &e), 0);

    expect_decode_error(jpg.b, 0, "img: empty file (0 bytes), not an image");
    expect_decode_error((const unsigned char *)"hello, world\n", 13,
                        "img: not a readable image (unknown image type)");
    /* stb_image would pad a cut JPEG with grey and call it a success. */
    for (int cut = 400; cut < jpg.n - 2; cut += 700)
        expect_decode_error(jpg.b, (size_t)cut, "img: truncated JPEG (no end-of-image marker)");
    /* A PNG chunk that runs past the end: stb would reserve its declared
     * length first (4 GB for a 300-byte file, found by fuzzing). */
    expect_decode_error(png.b, (size_t)png.n / 2, "img: truncated PNG (chunk IDAT declares 619 "
                                                  "bytes, 293 are left)");
    unsigned char bad[1 << 16];
    memcpy(bad, jpg.b, (size_t)jpg.n);
    memset(bad + 2, 0x41, 30);
    expect_decode_error(bad, (size_t)jpg.n, "img: not a readable image (a corrupt JPEG header)");
    memcpy(bad, png.b, (size_t)png.n);
    unsigned char *idat = memmem(bad, (size_t)png.n, "IDAT", 4);
    assert_non_null(idat);
    memcpy(idat - 4, "\x62\x5d\x8c\xd7", 4); /* 1650298071 bytes */
    char want[128];
    snprintf(want, sizeof want, "img: truncated PNG (chunk IDAT declares 1650298071 bytes, %d are "
                                "left)", (int)(png.n - (idat - 4 - bad) - 12));
    expect_decode_error(bad, (size_t)png.n, want);
    /* A Huffman table of more codes than 256 (stb_image 2.27 writes them
     * past its arrays): every count of the first DHT table set to 20. */
    memcpy(bad, jpg.b, (size_t)jpg.n);
    unsigned char *dht = memmem(bad, (size_t)jpg.n, "\xff\xc4", 2);
    assert_non_null(dht);
    memset(dht + 5, 20, 16);
    expect_decode_error(bad, (size_t)jpg.n, "img: corrupt JPEG (a Huffman table of 320 codes, "
                                            "more than 256)");
    /* The same in a table that runs past the end of the file (stb reads
     * zeros there), as the fuzzer found it: the counts are the file's last
     * bytes. */
    memcpy(bad, jpg.b, (size_t)jpg.n);
    dht = memmem(bad, (size_t)jpg.n, "\xff\xc4", 2);
    size_t cut = (size_t)(dht - bad) + 4 + 17 + 12 + 1 + 4; /* 4 counts of the second table */
    memset(bad + cut - 4, 90, 4);
    bad[cut++] = 0xFF; /* and an end-of-image marker, so that it is no truncated JPEG */
    bad[cut++] = 0xD9;
    /* 4 x 90 + 0xFF + 0xD9 */
    expect_decode_error(bad, cut, "img: corrupt JPEG (a Huffman table of 832 codes, more than "
                                  "256)");
    /* And behind 0xFF fill bytes before the start-of-image marker, which
     * stb skips (the fuzzer's second finding). */
    memmove(bad + 3, bad, cut);
    memset(bad, 0xFF, 3);
    expect_decode_error(bad, cut + 3, "img: corrupt JPEG (a Huffman table of 832 codes, more "
                                      "than 256)");
    /* A scan that uses a Huffman table no DHT segment defines (stb 2.27
     * decodes through the uninitialised table): the first component's AC
     * table set to 2. */
    memcpy(bad, jpg.b, (size_t)jpg.n);
    unsigned char *sos = memmem(bad, (size_t)jpg.n, "\xff\xda", 2);
    assert_non_null(sos);
    sos[6] = (unsigned char)((sos[6] & 0xF0) | 2);
    expect_decode_error(bad, (size_t)jpg.n, "img: corrupt JPEG (a scan uses AC Huffman table 2, "
                                            "which no DHT segment before it defines)");
    /* A 16-bit quantization table (T.81 allows it only for 12-bit
     * samples): stb's 8-bit decoder multiplies a DC value by it in an int,
     * which a corrupt file overflows (found by fuzzing). */
    memcpy(bad, jpg.b, (size_t)jpg.n);
    unsigned char *dqt = memmem(bad, (size_t)jpg.n, "\xff\xdb", 2);
    assert_non_null(dqt);
    dqt[4] = (unsigned char)(0x10 | (dqt[4] & 15));
    expect_decode_error(bad, (size_t)jpg.n, "img: corrupt JPEG (a 16-bit quantization table, "
                                            "which an 8-bit JPEG may not have)");
    /* PNM headers: stb reads their numbers into an int unchecked (the
     * fuzzer's P6 of 89 digits); nine digits still read. */
    expect_decode_error((const unsigned char *)"P6 # a comment\n16 6666666666 255\n", 33,
                        "img: corrupt PNM header (its height has 10 digits)");
    unsigned char pgm[64] = "P5\n000000004 2\n255\n";
    size_t pgm_len = strlen((char *)pgm);
    memset(pgm + pgm_len, 200, 8);
    assert_int_equal(siam_image_decode_memory(out, 2, 4, 0, pgm, pgm_len + 8, "p", &e), 0);
    assert_int_equal(out[0], 200);
    /* A 16-bit colour PNM (found by fuzzing): stb 2.27 converts it to grey
     * as if it were 8-bit, then reads twice that buffer's size. */
    expect_decode_error((const unsigned char *)"P6\n652\r52\r5252\r5\xa2\r552\r5\xa2\r5", 25,
                        "img: unsupported PNM (16-bit colour, maximum value 5252)");
    /* The same read as stb reads it: the file's last byte is never taken,
     * so "551525" at its end is 55152, 16-bit rather than refused. */
    expect_decode_error((const unsigned char *)"P6640\r54\r551525", 15,
                        "img: unsupported PNM (16-bit colour, maximum value 55152)");
    /* Pixel data shorter than the header's size: stb would leave the rest
     * of its buffer unwritten and decode it. */
    expect_decode_error(pgm, pgm_len + 7,
                        "img: truncated PNM (4x2 pixels of 1 byte need 8 bytes, 7 are left)");
    unsigned char pgm16[64] = "P5 2 1 65535 ";
    size_t pgm16_len = strlen((char *)pgm16);
    memset(pgm16 + pgm16_len, 0xC8, 4);
    assert_int_equal(siam_image_decode_memory(out, 1, 2, 0, pgm16, pgm16_len + 4, "p", &e), 0);
    assert_int_equal(out[0], 200);
    expect_decode_error(pgm16, pgm16_len + 3,
                        "img: truncated PNM (2x1 pixels of 2 bytes need 4 bytes, 3 are left)");
    /* Every prefix of both files, and random byte damage, fails cleanly or
     * decodes: never a crash (run under the sanitizers by make sanitize). */
    for (int n = 1; n < png.n; n += 7)
        siam_image_decode_memory(out, 105, 105, 0, png.b, (size_t)n, "p", &e);
    for (int k = 0; k < 64; k++) {
        memcpy(bad, jpg.b, (size_t)jpg.n);
        for (int i = 0; i < 8; i++)
            bad[(k * 131 + i * 977) % jpg.n] ^= (unsigned char)(0x5a + k);
        siam_image_decode_memory(out, 105, 105, 0, bad, (size_t)jpg.n, "j", &e);
    }
}

static void files_and_parallel_decode(void **state)
{
    (void)state;
    char *dir = siam_fixture_tmpdir();
    unsigned char rgb[40 * 30 * 3];
    pattern_rgb(rgb, 40, 30);
    membuf png = {.n = 0};
    assert_true(stbi_write_png_to_func(put, &png, 40, 30, 3, rgb, 40 * 3));
    char *good = siam_fixture_write(dir, "good.png", png.b, (size_t)png.n);
    char *empty = siam_fixture_write(dir, "empty.jpg", "", 0);
    char *text = siam_fixture_write(dir, "text.jpg", "not an image", 12);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/missing.jpg", dir);
    uint8_t one[20 * 20];
    siam_error e;
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, good, &e), 0);

    /* The parallel decoder gives the same pixels as one-by-one decoding. */
    const char *paths[6] = {good, good, good, good, good, good};
    uint8_t many[6 * 20 * 20];
    assert_int_equal(siam_image_decode_all(many, 20, 20, 0, paths, 6, 2, NULL, &e), 0);
    for (int i = 0; i < 6; i++)
        assert_memory_equal(many + i * 400, one, 400);

    /* The lowest failing index is reported, whatever the thread timing. */
    const char *mixed[6] = {good, good, text, good, empty, good};
    assert_int_equal(siam_image_decode_all(many, 20, 20, 0, mixed, 6, 2, NULL, &e), -1);
    char want[4400];
    snprintf(want, sizeof want, "%s: not a readable image (unknown image type)", text);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, empty, &e), -1);
    snprintf(want, sizeof want, "%s: empty file (0 bytes), not an image", empty);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, missing, &e), -1);
    snprintf(want, sizeof want, "%s: cannot open image: No such file or directory", missing);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, dir, &e), -1);
    snprintf(want, sizeof want, "%s: not a regular file (a directory)", dir);
    assert_string_equal(e.msg, want);

    /* A FIFO is refused before it is opened (opening one to read waits for
     * a writer; reading it never ends): the alarm fails the test instead of
     * hanging it. A device is refused too. */
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/pipe.jpg", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, fifo, &e), -1);
    const char *pipe_paths[2] = {good, fifo};
    int rc = siam_image_decode_all(many, 20, 20, 0, pipe_paths, 2, 2, NULL, &e);
    alarm(0);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", fifo);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_image_decode_file(one, 20, 20, 0, "/dev/null", &e), -1);
    assert_string_equal(e.msg, "/dev/null: not a regular file (a character device)");

    siam_fixture_rmdir(dir);
    free(good);
    free(empty);
    free(text);
    free(dir);
}

/* crop cuts the centred square before resizing: pixel (x, y) of an image
 * holding 10y + x comes back from (x0 + x, y0 + y), with an odd difference's
 * extra pixel left at the bottom/right; too large a crop is an error. */
static void crop_cuts_the_centre(void **state)
{
    (void)state;
    unsigned char grey[7 * 8];
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 8; x++)
            grey[y * 8 + x] = (unsigned char)(10 * y + x);
    membuf m = {.n = 0};
    assert_true(stbi_write_png_to_func(put, &m, 8, 7, 1, grey, 8));
    uint8_t out[8 * 7];
    siam_error e;
    /* 8 wide, 7 high, crop 4: x0 = 2, y0 = 1 (7 - 4 = 3, the extra row below). */
    assert_int_equal(siam_image_decode_memory(out, 4, 4, 4, m.b, (size_t)m.n, "c.png", &e), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            assert_int_equal(out[y * 4 + x], 10 * (y + 1) + x + 2);
    /* crop 7 (the shorter side): x0 = 0 (8 - 7 = 1, the extra column right). */
    assert_int_equal(siam_image_decode_memory(out, 7, 7, 7, m.b, (size_t)m.n, "c.png", &e), 0);
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++)
            assert_int_equal(out[y * 7 + x], 10 * y + x);
    /* crop 3 shrunk to 1x1: the mean of rows 2-4, columns 2-4 (22 .. 44). */
    assert_int_equal(siam_image_decode_memory(out, 1, 1, 3, m.b, (size_t)m.n, "c.png", &e), 0);
    assert_int_equal(out[0], 33);
    /* crop 0 is the whole image. */
    assert_int_equal(siam_image_decode_memory(out, 7, 8, 0, m.b, (size_t)m.n, "c.png", &e), 0);
    assert_memory_equal(out, grey, sizeof grey);
    assert_int_equal(siam_image_decode_memory(out, 4, 4, 8, m.b, (size_t)m.n, "c.png", &e), -1);
    assert_string_equal(e.msg, "c.png: crop 8 is larger than the 8x7 image");
    assert_int_equal(siam_image_decode_memory(out, 4, 4, -1, m.b, (size_t)m.n, "c.png", &e), -1);
    assert_string_equal(e.msg, "c.png: crop -1: expected 0 (whole image) or a side in pixels");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rgb_png_gives_luma),
        cmocka_unit_test(area_filter_matches_reference),
        cmocka_unit_test(area_filter_is_the_plain_sum_exactly),
        cmocka_unit_test(other_sizes_and_copies),
        cmocka_unit_test(bad_bytes_give_clear_errors),
        cmocka_unit_test(files_and_parallel_decode),
        cmocka_unit_test(crop_cuts_the_centre),
    };
    return cmocka_run_group_tests_name("data_images", tests, NULL, NULL);
}
