/* PNG encoding via stbi_write_png_to_func, collecting the bytes in memory so
 * that the file can be published atomically. */
#include "host/png.h"

#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>

#include "host/atomic_file.h"

typedef struct png_sink {
    uint8_t *data;
    size_t len, cap;
    int oom;
} png_sink;

static void sink_write(void *ctx, void *data, int size)
{
    png_sink *s = ctx;
    if (s->oom || size <= 0)
        return;
    size_t n = (size_t)size;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) {
            s->oom = 1;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
}

int siam_png_encode(uint8_t **out, size_t *out_len, const uint8_t *pixels, int height,
                    int width, int channels, siam_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (height <= 0 || width <= 0 || channels < 1 || channels > 4)
        return siam_fail(err, "png: bad image shape %dx%d with %d channels", height, width,
                         channels);
    png_sink s = {0};
    int ok = stbi_write_png_to_func(sink_write, &s, width, height, channels, pixels,
                                    width * channels);
    if (!ok || s.oom) {
        free(s.data);
        return siam_fail(err, "png: encoding a %dx%dx%d image failed%s", height, width,
                         channels, s.oom ? " (out of memory)" : "");
    }
    *out = s.data;
    *out_len = s.len;
    return 0;
}

int siam_png_write(const char *path, const uint8_t *pixels, int height, int width,
                   int channels, siam_error *err)
{
    uint8_t *png;
    size_t n;
    if (siam_png_encode(&png, &n, pixels, height, width, channels, err) != 0)
        return siam_fail_wrap(err, "writing %s", path);
    int rc = siam_atomic_write(path, png, n, err);
    free(png);
    return rc;
}
