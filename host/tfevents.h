/* TensorBoard event files: TFRecord framing with masked CRC32C around
 * hand-encoded Event/Summary protobuf messages (field numbers from
 * tensorboard/compat/proto/{event,summary,histogram}.proto). Scalars, PNG
 * images and histograms; no graphs, no tensors, no reading. */
#ifndef SIAM_TFEVENTS_H
#define SIAM_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by TFRecord;
 * crc32c("123456789") == 0xE3069283. */
uint32_t siam_crc32c(const void *data, size_t n);

/* TFRecord's stored form of a CRC: rotate right by 15, add 0xa282ead8. */
uint32_t siam_crc32c_mask(uint32_t crc);

/* Frames `n` bytes of `data` as one TFRecord into `out`, which must hold
 * n + 16 bytes: uint64 length (little endian), masked crc of those 8 bytes,
 * the data, masked crc of the data. Returns the bytes written (n + 16). */
size_t siam_tfrecord_frame(uint8_t *out, const void *data, size_t n);

/* Seconds since the epoch as a double (Event.wall_time); the context is
 * whatever the caller passed along with it. */
typedef double (*siam_wall_clock)(void *ctx);

/* An open event file. Owned by the caller; siam_tfevents_close (NULL fine)
 * flushes, closes and frees. */
typedef struct siam_tfevents siam_tfevents;

/* Creates `dir` (mkdir -p) and a new file in it named
 * events.out.tfevents.<unix time>.<hostname>.<pid> (a ".N" suffix is added
 * when that name is taken), then writes the first event, file_version
 * "brain.Event:2". The _clock form takes the time from `clock` (tests). */
siam_tfevents *siam_tfevents_open(const char *dir, siam_error *err);
siam_tfevents *siam_tfevents_open_clock(const char *dir, siam_wall_clock clock, void *ctx,
                                        siam_error *err);

/* The file's path, owned by the writer. */
const char *siam_tfevents_path(const siam_tfevents *w);

/* One event each. Tags are TensorBoard names such as "loss/train".
 * Scalars: Summary.Value.simple_value (stored as float32, as TensorBoard
 * does). */
int siam_tfevents_scalar(siam_tfevents *w, const char *tag, int64_t step, double value,
                         siam_error *err);

/* An already encoded PNG of height x width pixels with `channels` (1 grey,
 * 2 grey+alpha, 3 RGB, 4 RGBA; Summary.Image.colorspace uses the same
 * numbers). */
int siam_tfevents_image(siam_tfevents *w, const char *tag, int64_t step, const void *png,
                        size_t png_size, int height, int width, int channels, siam_error *err);

/* A histogram of `n` values (n >= 1, all finite) in SIAM_TFEVENTS_BUCKETS
 * equal-width buckets between min and max; bucket_limit holds each right
 * edge. */
#define SIAM_TFEVENTS_BUCKETS 30
int siam_tfevents_histogram(siam_tfevents *w, const char *tag, int64_t step,
                            const float *values, size_t n, siam_error *err);

/* Pushes buffered events to the file and fsyncs it. Events are also flushed
 * (not fsynced) after each write, so TensorBoard sees them while training
 * runs; a crash can at worst tear the last record, which TFRecord readers
 * detect by its length/CRC and ignore. */
int siam_tfevents_flush(siam_tfevents *w, siam_error *err);
int siam_tfevents_close(siam_tfevents *w, siam_error *err);

/* Encoders behind the writer, exposed for byte-exact tests. Each appends a
 * serialized Event message to `buf` (grown with realloc; *len and *cap
 * updated) and returns 0, or -1 when out of memory. */
typedef struct siam_pbuf {
    uint8_t *data;
    size_t len, cap;
    int oom;           /* set once an allocation failed; later appends no-op */
} siam_pbuf;

void siam_pbuf_free(siam_pbuf *b);
int siam_tfevents_encode_version(siam_pbuf *out, double wall_time);
int siam_tfevents_encode_scalar(siam_pbuf *out, double wall_time, int64_t step,
                                const char *tag, float value);

#endif
