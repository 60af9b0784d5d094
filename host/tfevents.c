/* TensorBoard event writer: CRC32C, TFRecord framing and a minimal protobuf
 * encoder for Event { wall_time=1 double, step=2 int64, file_version=3
 * string, summary=5 Summary }, Summary { repeated Value value=1 }, Value
 * { tag=1, simple_value=2 float, image=4 Image, histo=5 HistogramProto },
 * Image { height=1, width=2, colorspace=3, encoded_image_string=4 } and
 * HistogramProto { min=1, max=2, num=3, sum=4, sum_squares=5 doubles,
 * bucket_limit=6, bucket=7 packed doubles }. Proto3 rules: fields equal to
 * their default (0, "") are not written. */
#include "host/tfevents.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/atomic_file.h"

/* Table-driven, one byte per step; the table is computed per call site from
 * the polynomial (256 iterations, cheap next to any record) so that there is
 * no global mutable state and no hidden initialisation order. */
static void crc32c_table(uint32_t table[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32c_with(const uint32_t table[256], const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t siam_crc32c(const void *data, size_t n)
{
    uint32_t table[256];
    crc32c_table(table);
    return crc32c_with(table, data, n);
}

uint32_t siam_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

size_t siam_tfrecord_frame(uint8_t *out, const void *data, size_t n)
{
    uint32_t table[256];
    crc32c_table(table);
    put_le64(out, (uint64_t)n);
    put_le32(out + 8, siam_crc32c_mask(crc32c_with(table, out, 8)));
    memcpy(out + 12, data, n);
    put_le32(out + 12 + n, siam_crc32c_mask(crc32c_with(table, data, n)));
    return n + 16;
}

void siam_pbuf_free(siam_pbuf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void pb_bytes(siam_pbuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void pb_varint(siam_pbuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    pb_bytes(b, tmp, n);
}

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

static void pb_key(siam_pbuf *b, unsigned field, unsigned wire)
{
    pb_varint(b, ((uint64_t)field << 3) | wire);
}

static void pb_double(siam_pbuf *b, unsigned field, double v)
{
    if (v == 0.0 && !signbit(v))
        return;
    uint64_t bits;
    uint8_t raw[8];
    memcpy(&bits, &v, 8);
    put_le64(raw, bits);
    pb_key(b, field, WIRE_FIXED64);
    pb_bytes(b, raw, 8);
}

static void pb_float(siam_pbuf *b, unsigned field, float v)
{
    if (v == 0.0f && !signbit(v))
        return;
    uint32_t bits;
    uint8_t raw[4];
    memcpy(&bits, &v, 4);
    put_le32(raw, bits);
    pb_key(b, field, WIRE_FIXED32);
    pb_bytes(b, raw, 4);
}

static void pb_int(siam_pbuf *b, unsigned field, int64_t v)
{
    if (v == 0)
        return;
    pb_key(b, field, WIRE_VARINT);
    pb_varint(b, (uint64_t)v); /* negative int64: ten-byte two's complement */
}

static void pb_len(siam_pbuf *b, unsigned field, const void *p, size_t n)
{
    if (n == 0)
        return;
    pb_key(b, field, WIRE_LEN);
    pb_varint(b, n);
    pb_bytes(b, p, n);
}

static void pb_packed_doubles(siam_pbuf *b, unsigned field, const double *v, size_t n)
{
    if (n == 0)
        return;
    pb_key(b, field, WIRE_LEN);
    pb_varint(b, 8 * (uint64_t)n);
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        uint8_t raw[8];
        memcpy(&bits, &v[i], 8);
        put_le64(raw, bits);
        pb_bytes(b, raw, 8);
    }
}

static int pb_status(siam_pbuf *b)
{
    return b->oom ? -1 : 0;
}

/* Event { wall_time, step, summary { value { <value_body> } } }. */
static int encode_summary_event(siam_pbuf *out, double wall_time, int64_t step,
                                const siam_pbuf *value_body)
{
    siam_pbuf summary = {0};
    pb_len(&summary, 1, value_body->data, value_body->len);
    pb_double(out, 1, wall_time);
    pb_int(out, 2, step);
    /* An empty Summary must still be present to mark the event's kind. */
    pb_key(out, 5, WIRE_LEN);
    pb_varint(out, summary.len);
    pb_bytes(out, summary.data, summary.len);
    int rc = summary.oom ? -1 : pb_status(out);
    siam_pbuf_free(&summary);
    return rc;
}

int siam_tfevents_encode_version(siam_pbuf *out, double wall_time)
{
    pb_double(out, 1, wall_time);
    pb_len(out, 3, "brain.Event:2", 13);
    return pb_status(out);
}

int siam_tfevents_encode_scalar(siam_pbuf *out, double wall_time, int64_t step,
                                const char *tag, float value)
{
    siam_pbuf v = {0};
    pb_len(&v, 1, tag, strlen(tag));
    pb_float(&v, 2, value);
    int rc = v.oom ? -1 : encode_summary_event(out, wall_time, step, &v);
    siam_pbuf_free(&v);
    return rc;
}

struct siam_tfevents {
    FILE *fp;
    char *path;
    siam_wall_clock clock;
    void *clock_ctx;
    siam_pbuf event;    /* reused per event */
    uint8_t *frame;     /* reused per record */
    size_t frame_cap;
};

static double system_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_record(siam_tfevents *w, siam_error *err)
{
    if (w->event.oom)
        return siam_fail(err, "tfevents %s: out of memory encoding an event", w->path);
    size_t need = w->event.len + 16;
    if (need > w->frame_cap) {
        uint8_t *f = realloc(w->frame, need);
        if (!f)
            return siam_fail(err, "tfevents %s: out of memory for a %zu-byte record", w->path,
                             need);
        w->frame = f;
        w->frame_cap = need;
    }
    size_t n = siam_tfrecord_frame(w->frame, w->event.data, w->event.len);
    if (fwrite(w->frame, 1, n, w->fp) != n || fflush(w->fp) != 0)
        return siam_fail(err, "tfevents %s: write failed: %s", w->path, strerror(errno));
    return 0;
}

const char *siam_tfevents_path(const siam_tfevents *w)
{
    return w->path;
}

siam_tfevents *siam_tfevents_open(const char *dir, siam_error *err)
{
    return siam_tfevents_open_clock(dir, system_clock, NULL, err);
}

siam_tfevents *siam_tfevents_open_clock(const char *dir, siam_wall_clock clock, void *ctx,
                                        siam_error *err)
{
    if (siam_mkdir_p(dir, err) != 0) {
        siam_fail_wrap(err, "tfevents");
        return NULL;
    }
    siam_tfevents *w = calloc(1, sizeof *w);
    if (!w) {
        siam_fail(err, "tfevents %s: out of memory", dir);
        return NULL;
    }
    w->clock = clock;
    w->clock_ctx = ctx;
    double now = clock(ctx);
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    size_t cap = strlen(dir) + strlen(host) + 96;
    w->path = malloc(cap);
    if (!w->path) {
        free(w);
        siam_fail(err, "tfevents %s: out of memory", dir);
        return NULL;
    }
    int fd = -1;
    for (int k = 0; k < 1000 && fd < 0; k++) {
        int len = snprintf(w->path, cap, "%s/events.out.tfevents.%lld.%s.%ld", dir,
                           (long long)floor(now), host, (long)getpid());
        if (k > 0)
            snprintf(w->path + len, cap - (size_t)len, ".%d", k);
        fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) {
            siam_fail(err, "tfevents: cannot create %s: %s", w->path, strerror(errno));
            free(w->path);
            free(w);
            return NULL;
        }
    }
    if (fd < 0 || !(w->fp = fdopen(fd, "wb"))) {
        siam_fail(err, "tfevents: cannot open a new event file in %s: %s", dir,
                  fd < 0 ? "1000 names taken" : strerror(errno));
        if (fd >= 0)
            close(fd);
        free(w->path);
        free(w);
        return NULL;
    }
    w->event.len = 0;
    siam_tfevents_encode_version(&w->event, now);
    if (write_record(w, err) != 0) {
        siam_tfevents_close(w, NULL);
        return NULL;
    }
    return w;
}

int siam_tfevents_scalar(siam_tfevents *w, const char *tag, int64_t step, double value,
                         siam_error *err)
{
    w->event.len = 0;
    siam_tfevents_encode_scalar(&w->event, w->clock(w->clock_ctx), step, tag, (float)value);
    return write_record(w, err);
}

int siam_tfevents_image(siam_tfevents *w, const char *tag, int64_t step, const void *png,
                        size_t png_size, int height, int width, int channels, siam_error *err)
{
    if (height <= 0 || width <= 0 || channels < 1 || channels > 4 || png_size == 0)
        return siam_fail(err, "tfevents %s: image '%s' step %lld: bad shape %dx%dx%d or empty "
                         "PNG (%zu bytes)", w->path, tag, (long long)step, height, width,
                         channels, png_size);
    siam_pbuf img = {0}, v = {0};
    pb_int(&img, 1, height);
    pb_int(&img, 2, width);
    pb_int(&img, 3, channels);
    pb_len(&img, 4, png, png_size);
    pb_len(&v, 1, tag, strlen(tag));
    pb_len(&v, 4, img.data, img.len);
    w->event.len = 0;
    int rc = img.oom || v.oom ? -1
             : encode_summary_event(&w->event, w->clock(w->clock_ctx), step, &v);
    siam_pbuf_free(&img);
    siam_pbuf_free(&v);
    if (rc != 0)
        return siam_fail(err, "tfevents %s: out of memory encoding image '%s'", w->path, tag);
    return write_record(w, err);
}

int siam_tfevents_histogram(siam_tfevents *w, const char *tag, int64_t step,
                            const float *values, size_t n, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "tfevents %s: histogram '%s' step %lld has no values", w->path,
                         tag, (long long)step);
    double lo = INFINITY, hi = -INFINITY, sum = 0, sumsq = 0;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (!isfinite(v))
            return siam_fail(err, "tfevents %s: histogram '%s' step %lld: value %zu is not "
                             "finite (%g)", w->path, tag, (long long)step, i, v);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
        sumsq += v * v;
    }
    double limit[SIAM_TFEVENTS_BUCKETS], count[SIAM_TFEVENTS_BUCKETS] = {0};
    size_t nb = hi > lo ? SIAM_TFEVENTS_BUCKETS : 1;
    double width = (hi - lo) / (double)nb;
    for (size_t b = 0; b < nb; b++)
        limit[b] = lo + width * (double)(b + 1);
    limit[nb - 1] = hi;
    for (size_t i = 0; i < n; i++) {
        size_t b = nb == 1 ? 0 : (size_t)(((double)values[i] - lo) / width);
        count[b < nb ? b : nb - 1] += 1;
    }
    siam_pbuf h = {0}, v = {0};
    pb_double(&h, 1, lo);
    pb_double(&h, 2, hi);
    pb_double(&h, 3, (double)n);
    pb_double(&h, 4, sum);
    pb_double(&h, 5, sumsq);
    pb_packed_doubles(&h, 6, limit, nb);
    pb_packed_doubles(&h, 7, count, nb);
    pb_len(&v, 1, tag, strlen(tag));
    pb_len(&v, 5, h.data, h.len);
    w->event.len = 0;
    int rc = h.oom || v.oom ? -1
             : encode_summary_event(&w->event, w->clock(w->clock_ctx), step, &v);
    siam_pbuf_free(&h);
    siam_pbuf_free(&v);
    if (rc != 0)
        return siam_fail(err, "tfevents %s: out of memory encoding histogram '%s'", w->path,
                         tag);
    return write_record(w, err);
}

int siam_tfevents_flush(siam_tfevents *w, siam_error *err)
{
    if (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0)
        return siam_fail(err, "tfevents %s: flush failed: %s", w->path, strerror(errno));
    return 0;
}

int siam_tfevents_close(siam_tfevents *w, siam_error *err)
{
    if (!w)
        return 0;
    int rc = siam_tfevents_flush(w, err);
    if (fclose(w->fp) != 0 && rc == 0)
        rc = siam_fail(err, "tfevents %s: close failed: %s", w->path, strerror(errno));
    siam_pbuf_free(&w->event);
    free(w->frame);
    free(w->path);
    free(w);
    return rc;
}
