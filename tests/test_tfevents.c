/* tfevents: CRC32C against published vectors and a bitwise reference, the
 * exact bytes of hand-derived records, and written files decoded by an
 * independent decoder (protoc --decode against tests/data/event.proto). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/png.h"
#include "host/tfevents.h"

/* Bit-at-a-time CRC-32C straight from the definition, to check the table. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

static void crc32c_known_vectors(void **state)
{
    (void)state;
    uint8_t buf[32];
    assert_int_equal(siam_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(siam_crc32c("", 0), 0u);
    /* RFC 3720 (iSCSI) appendix B.4 */
    memset(buf, 0, 32);
    assert_int_equal(siam_crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, 32);
    assert_int_equal(siam_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(siam_crc32c(buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(siam_crc32c(buf, 32), 0x113FDB5Cu);
    uint8_t big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= 1000; n += 37)
        assert_int_equal(siam_crc32c(big, n), crc32c_bitwise(big, n));
    /* mask = ror15(crc) + 0xa282ead8, by hand: ror15(0x9ea964f0) = 0xc9e13d52 */
    assert_int_equal(siam_crc32c_mask(0x9ea964f0u), (uint32_t)(0xc9e13d52u + 0xa282ead8u));
}

/* Event { wall_time: 1.5, file_version: "brain.Event:2" } framed, by hand:
 * 09 = field 1 fixed64, 1.5 = 0x3FF8000000000000 little endian; 1a = field 3
 * length-delimited, 0d = 13 bytes. Length 24 and the two masked CRCs. */
static const uint8_t first_record[40] = {
    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0x7f, 0x4b, 0x22,
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f,
    0x1a, 0x0d, 'b', 'r', 'a', 'i', 'n', '.', 'E', 'v', 'e', 'n', 't', ':', '2',
    0x2a, 0x28, 0x64, 0x6c,
};

static void first_event_exact_bytes(void **state)
{
    (void)state;
    siam_pbuf b = {0};
    assert_int_equal(siam_tfevents_encode_version(&b, 1.5), 0);
    assert_int_equal(b.len, 24);
    assert_memory_equal(b.data, first_record + 12, 24);
    uint8_t rec[40];
    assert_int_equal(siam_tfrecord_frame(rec, b.data, b.len), 40);
    assert_memory_equal(rec, first_record, 40);
    /* The CRC bytes also agree with the bitwise reference. */
    uint32_t c = siam_crc32c_mask(crc32c_bitwise(rec, 8));
    assert_int_equal(rec[8] | rec[9] << 8 | rec[10] << 16 | (uint32_t)rec[11] << 24, c);
    siam_pbuf_free(&b);
}

static void scalar_event_exact_bytes(void **state)
{
    (void)state;
    /* value { tag: "loss" (0a 04 ...), simple_value: 0.25f (15 00 00 80 3e) }
     * inside summary (0a 0b), inside event: wall_time 2.0, step 3 (10 03),
     * summary (2a 0d). */
    static const uint8_t want[26] = {
        0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0x03, 0x2a, 0x0d, 0x0a, 0x0b,
        0x0a, 0x04, 'l', 'o', 's', 's', 0x15, 0x00, 0x00, 0x80, 0x3e,
    };
    siam_pbuf b = {0};
    assert_int_equal(siam_tfevents_encode_scalar(&b, 2.0, 3, "loss", 0.25f), 0);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* A negative step is a ten-byte varint (int64 two's complement). */
    b.len = 0;
    assert_int_equal(siam_tfevents_encode_scalar(&b, 0.0, -1, "x", 0.0f), 0);
    static const uint8_t neg[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0x01, 0x2a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 'x'};
    assert_int_equal(b.len, sizeof neg);
    assert_memory_equal(b.data, neg, sizeof neg);
    siam_pbuf_free(&b);
}

typedef struct fake_clock {
    double t;
} fake_clock;

static double tick(void *ctx)
{
    fake_clock *c = ctx;
    double t = c->t;
    c->t += 1.0;
    return t;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)sz + 1);
    *n = fread(buf, 1, (size_t)sz, fp);
    fclose(fp);
    return buf;
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Splits a TFRecord file, checking both CRCs of every record; returns the
 * number of records and their offsets/lengths. */
static size_t split_records(const uint8_t *f, size_t n, size_t *off, size_t *len, size_t max)
{
    size_t pos = 0, k = 0;
    while (pos < n) {
        assert_true(pos + 12 <= n);
        uint64_t l = 0;
        for (int i = 0; i < 8; i++)
            l |= (uint64_t)f[pos + i] << (8 * i);
        assert_int_equal(get_le32(f + pos + 8), siam_crc32c_mask(crc32c_bitwise(f + pos, 8)));
        assert_true(pos + 16 + l <= n);
        assert_int_equal(get_le32(f + pos + 12 + l),
                         siam_crc32c_mask(crc32c_bitwise(f + pos + 12, l)));
        assert_true(k < max);
        off[k] = pos + 12;
        len[k] = l;
        k++;
        pos += 16 + l;
    }
    return k;
}

static int have_protoc(void)
{
    return system("protoc --version >/dev/null 2>&1") == 0;
}

/* protoc's text rendering of one serialized Event, malloc'd. */
static char *decode(const uint8_t *data, size_t n, const char *dir)
{
    char bin[512], txt[512], cmd[2048];
    snprintf(bin, sizeof bin, "%s/rec.bin", dir);
    snprintf(txt, sizeof txt, "%s/rec.txt", dir);
    FILE *fp = fopen(bin, "wb");
    fwrite(data, 1, n, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "protoc --proto_path=tests/data --decode=siamtest.Event tests/data/event.proto "
             "<'%s' >'%s' 2>&1", bin, txt);
    int rc = system(cmd);
    size_t m;
    char *out = (char *)slurp(txt, &m);
    out[m] = '\0';
    if (rc != 0)
        fail_msg("protoc failed: %s", out);
    return out;
}

static int count_of(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        k++;
    return k;
}

static void written_file_decodes(void **state)
{
    (void)state;
    char dir[] = "/tmp/siam_tfev_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/exp/run-1", dir);
    siam_error e;
    fake_clock clk = {1.5};
    siam_tfevents *w = siam_tfevents_open_clock(logdir, tick, &clk, &e);
    assert_non_null(w);
    char host[256] = "localhost", want_name[1024];
    gethostname(host, sizeof host);
    snprintf(want_name, sizeof want_name, "%s/events.out.tfevents.1.%s.%ld", logdir, host,
             (long)getpid());
    assert_string_equal(siam_tfevents_path(w), want_name);

    assert_int_equal(siam_tfevents_scalar(w, "loss/train", 3, 0.25, &e), 0);
    float vals[6] = {1, 2, 2, 3, 3, 3};
    assert_int_equal(siam_tfevents_histogram(w, "weights/conv1", 4, vals, 6, &e), 0);
    uint8_t pix[4 * 6];
    for (int i = 0; i < 24; i++)
        pix[i] = (uint8_t)(i * 10);
    uint8_t *png;
    size_t png_n;
    assert_int_equal(siam_png_encode(&png, &png_n, pix, 4, 6, 1, &e), 0);
    assert_int_equal(siam_tfevents_image(w, "pairs/worst", 5, png, png_n, 4, 6, 1, &e), 0);

    assert_int_equal(siam_tfevents_histogram(w, "bad", 6, vals, 0, &e), -1);
    char want[1200];
    snprintf(want, sizeof want, "tfevents %s: histogram 'bad' step 6 has no values", want_name);
    assert_string_equal(e.msg, want);
    vals[2] = 0.0f / 0.0f;
    assert_int_equal(siam_tfevents_histogram(w, "bad", 6, vals, 6, &e), -1);
    assert_non_null(strstr(e.msg, "histogram 'bad' step 6: value 2 is not finite"));
    assert_int_equal(siam_tfevents_image(w, "bad", 6, png, png_n, 0, 6, 1, &e), -1);
    assert_non_null(strstr(e.msg, "bad shape 0x6x1"));

    /* A second writer in the same second and process gets its own file. */
    fake_clock clk2 = {1.0};
    siam_tfevents *w2 = siam_tfevents_open_clock(logdir, tick, &clk2, &e);
    assert_non_null(w2);
    snprintf(want, sizeof want, "%s.1", want_name);
    assert_string_equal(siam_tfevents_path(w2), want);
    assert_int_equal(siam_tfevents_close(w2, &e), 0);
    assert_int_equal(siam_tfevents_flush(w, &e), 0);
    assert_int_equal(siam_tfevents_close(w, &e), 0);
    assert_int_equal(siam_tfevents_close(NULL, &e), 0);

    size_t n;
    uint8_t *f = slurp(want_name, &n);
    assert_memory_equal(f, first_record, 40);
    size_t off[8], len[8];
    assert_int_equal(split_records(f, n, off, len, 8), 4);

    if (!have_protoc()) {
        print_message("protoc not found (Debian: protobuf-compiler); "
                      "skipping the independent decode\n");
    } else {
        char *t = decode(f + off[0], len[0], dir);
        assert_string_equal(t, "wall_time: 1.5\nfile_version: \"brain.Event:2\"\n");
        free(t);
        t = decode(f + off[1], len[1], dir);
        assert_string_equal(t, "wall_time: 2.5\nstep: 3\nsummary {\n  value {\n"
                               "    tag: \"loss/train\"\n    simple_value: 0.25\n  }\n}\n");
        free(t);
        t = decode(f + off[2], len[2], dir);
        assert_non_null(strstr(t, "wall_time: 3.5\nstep: 4\n"));
        assert_non_null(strstr(t, "tag: \"weights/conv1\"\n"));
        assert_non_null(strstr(t, "min: 1\n"));
        assert_non_null(strstr(t, "max: 3\n"));
        assert_non_null(strstr(t, "num: 6\n"));
        assert_non_null(strstr(t, "sum: 14\n"));
        assert_non_null(strstr(t, "sum_squares: 36\n"));
        assert_int_equal(count_of(t, "bucket_limit: "), SIAM_TFEVENTS_BUCKETS);
        assert_int_equal(count_of(t, "bucket: "), SIAM_TFEVENTS_BUCKETS);
        /* First bucket holds the 1, last the three 3s; limit of the last is max. */
        const char *b0 = strstr(t, "bucket: ");
        assert_true(strncmp(b0, "bucket: 1\n", 10) == 0);
        assert_non_null(strstr(t, "bucket_limit: 3\n  "));
        assert_non_null(strstr(t, "bucket: 3\n    }"));
        assert_int_equal(count_of(t, "bucket: 2\n"), 1);
        free(t);
        t = decode(f + off[3], len[3], dir);
        assert_non_null(strstr(t, "step: 5\n"));
        assert_non_null(strstr(t, "tag: \"pairs/worst\"\n"));
        assert_non_null(strstr(t, "height: 4\n"));
        assert_non_null(strstr(t, "width: 6\n"));
        assert_non_null(strstr(t, "colorspace: 1\n"));
        assert_non_null(strstr(t, "encoded_image_string: \"\\211PNG\\r\\n\\032\\n"));
        free(t);
    }
    /* The PNG bytes are carried unchanged inside the image event. */
    assert_non_null(memmem(f + off[3], len[3], png, png_n));
    free(png);
    free(f);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void open_fails_on_blocked_dir(void **state)
{
    (void)state;
    siam_error e;
    assert_null(siam_tfevents_open("/proc/self/no/such", &e));
    assert_non_null(strstr(e.msg, "tfevents: mkdir -p /proc/self/no/such"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_vectors),
        cmocka_unit_test(first_event_exact_bytes),
        cmocka_unit_test(scalar_event_exact_bytes),
        cmocka_unit_test(written_file_decodes),
        cmocka_unit_test(open_fails_on_blocked_dir),
    };
    return cmocka_run_group_tests_name("tfevents", tests, NULL, NULL);
}
