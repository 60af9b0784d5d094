/* Synthetic faces (host/synth.h): a per-pixel renderer over soft-edged shapes
 * in face coordinates, and the writer of the LFW-layout set with its pairs
 * files. Coordinates: u right, v down, the image spans [-1, 1]. */
#include "host/synth.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "kernels/philox.h"

/* Philox index ranges inside SIAM_STREAM_SYNTH, one per use, so identity,
 * image and noise draws never share a counter. */
#define IDX_IMAGE (1ull << 61)
#define IDX_NOISE (1ull << 62)

typedef struct identity {
    float face_w, face_h, jaw;
    float skin[3];
    float hair[3];
    int hair_style; /* 0 short, 1 long, 2 fringe, 3 bald */
    float hairline;
    float eye_y, eye_dx, eye_rx, eye_ry, iris;
    float brow_dy, brow_thick, brow_tilt, brow_len;
    float nose_len, nose_w;
    float mouth_y, mouth_w, lip;
    float ear;
    int glasses, beard, moustache, mole;
    float mole_u, mole_v;
} identity;

typedef struct pose {
    float angle, tx, ty, scale, yaw, pitch;
    float smile, mouth_open, eye_open, brow_raise;
    float light_dir, light, exposure, background, bg_grad;
    float noise;
} pose;

typedef struct draw {
    uint64_t seed, base;
} draw;

static float u01(const draw *d, uint64_t k)
{
    return siam_philox_uniform(d->seed, SIAM_STREAM_SYNTH, d->base + k);
}

static float range(const draw *d, uint64_t k, float lo, float hi)
{
    return lo + (hi - lo) * u01(d, k);
}

static void identity_draw(identity *id, uint64_t seed, int who)
{
    draw d = {seed, (uint64_t)who * 64};
    id->face_w = range(&d, 0, 0.48f, 0.64f);
    id->face_h = range(&d, 1, 0.66f, 0.80f);
    id->jaw = range(&d, 2, 0.0f, 1.0f);
    float tone = range(&d, 3, 0.30f, 0.90f);
    float warm = range(&d, 4, 0.0f, 1.0f);
    id->skin[0] = tone;
    id->skin[1] = tone * (0.78f + 0.1f * warm);
    id->skin[2] = tone * (0.62f + 0.15f * warm);
    float hair = range(&d, 5, 0.04f, 0.85f);
    id->hair[0] = hair;
    id->hair[1] = hair * range(&d, 6, 0.75f, 0.95f);
    id->hair[2] = hair * range(&d, 7, 0.55f, 0.85f);
    id->hair_style = (int)(u01(&d, 8) * 4) & 3;
    id->hairline = range(&d, 9, -0.62f, -0.38f);
    id->eye_y = range(&d, 10, -0.20f, -0.04f);
    id->eye_dx = range(&d, 11, 0.17f, 0.28f);
    id->eye_rx = range(&d, 12, 0.065f, 0.11f);
    id->eye_ry = id->eye_rx * range(&d, 13, 0.40f, 0.65f);
    id->iris = range(&d, 14, 0.05f, 0.55f);
    id->brow_dy = range(&d, 15, 0.07f, 0.15f);
    id->brow_thick = range(&d, 16, 0.014f, 0.045f);
    id->brow_tilt = range(&d, 17, -0.35f, 0.35f);
    id->brow_len = range(&d, 18, 0.8f, 1.4f);
    id->nose_len = range(&d, 19, 0.12f, 0.26f);
    id->nose_w = range(&d, 20, 0.05f, 0.11f);
    id->mouth_y = range(&d, 21, 0.28f, 0.44f);
    id->mouth_w = range(&d, 22, 0.12f, 0.25f);
    id->lip = range(&d, 23, 0.012f, 0.035f);
    id->ear = range(&d, 24, 0.07f, 0.13f);
    id->glasses = u01(&d, 25) < 0.25f;
    id->beard = u01(&d, 26) < 0.2f;
    id->moustache = u01(&d, 27) < 0.2f;
    id->mole = u01(&d, 28) < 0.35f;
    id->mole_u = range(&d, 29, -0.35f, 0.35f);
    id->mole_v = range(&d, 30, -0.1f, 0.45f);
}

static void pose_draw(pose *p, uint64_t seed, int who, int index)
{
    draw d = {seed, IDX_IMAGE + (((uint64_t)who * 4096 + (uint64_t)index) << 6)};
    p->angle = range(&d, 0, -0.15f, 0.15f);
    p->tx = range(&d, 1, -0.05f, 0.05f);
    p->ty = range(&d, 2, -0.05f, 0.05f);
    p->scale = range(&d, 3, 0.92f, 1.08f);
    p->yaw = range(&d, 4, -0.25f, 0.25f);
    p->pitch = range(&d, 5, -0.04f, 0.04f);
    p->smile = range(&d, 6, -0.4f, 1.0f);
    p->mouth_open = u01(&d, 7) < 0.3f ? range(&d, 8, 0.2f, 1.0f) : 0.0f;
    p->eye_open = u01(&d, 9) < 0.1f ? 0.15f : range(&d, 10, 0.65f, 1.1f);
    p->brow_raise = range(&d, 11, -0.02f, 0.04f);
    p->light_dir = range(&d, 12, 0.0f, 6.2831853f);
    p->light = range(&d, 13, 0.0f, 0.30f);
    p->exposure = range(&d, 14, 0.80f, 1.15f);
    p->background = range(&d, 15, 0.25f, 0.75f);
    p->bg_grad = range(&d, 16, -0.15f, 0.15f);
    p->noise = range(&d, 17, 0.01f, 0.04f);
}

/* Coverage of a shape whose signed distance (negative inside) is sd, with an
 * edge one pixel wide, for antialiased outlines. */
static float cover(float sd, float px)
{
    float c = 0.5f - sd / px;
    return c < 0 ? 0 : c > 1 ? 1 : c;
}

/* Approximate signed distance to the ellipse centred (cx,cy), radii rx,ry. */
static float ellipse_sd(float u, float v, float cx, float cy, float rx, float ry)
{
    float a = (u - cx) / rx, b = (v - cy) / ry;
    return (sqrtf(a * a + b * b) - 1.0f) * (rx < ry ? rx : ry);
}

/* Distance to the segment (x0,y0)-(x1,y1) minus half-thickness t. */
static float segment_sd(float u, float v, float x0, float y0, float x1, float y1, float t)
{
    float dx = x1 - x0, dy = y1 - y0;
    float h = ((u - x0) * dx + (v - y0) * dy) / (dx * dx + dy * dy);
    h = h < 0 ? 0 : h > 1 ? 1 : h;
    float ex = u - x0 - h * dx, ey = v - y0 - h * dy;
    return sqrtf(ex * ex + ey * ey) - t;
}

static void blend(float *c, const float *with, float a)
{
    for (int k = 0; k < 3; k++)
        c[k] += (with[k] - c[k]) * a;
}

static void blend_grey(float *c, float g, float a)
{
    float w[3] = {g, g, g};
    blend(c, w, a);
}

static void scale_rgb(float *c, float f, float a)
{
    for (int k = 0; k < 3; k++)
        c[k] *= 1.0f + (f - 1.0f) * a;
}

/* The face at face coordinates (a,b): colour into c (background already
 * there). px is one pixel in these units. */
static void shade(float *c, const identity *id, const pose *p, float a, float b, float px)
{
    float shift = p->yaw * 0.3f; /* features slide towards the turned side */
    float fy = p->pitch;
    /* Lower face narrows with the jaw parameter. */
    float narrow = b > 0 ? 1.0f - id->jaw * 0.35f * (b / id->face_h) : 1.0f;
    float face = ellipse_sd(a, b, 0, 0, id->face_w * narrow, id->face_h);

    if (id->hair_style == 1)
        blend(c, id->hair,
              cover(ellipse_sd(a, b, 0, -0.05f, id->face_w * 1.22f, id->face_h * 1.05f), px) *
                  (b < 0.55f ? 1.0f : 0.0f));
    for (int s = -1; s <= 1; s += 2) {
        float ex = s * id->face_w * (1.0f - 0.25f * s * p->yaw);
        float ear = cover(ellipse_sd(a, b, ex, id->eye_y + 0.06f, id->ear * 0.7f, id->ear), px);
        float darker[3] = {id->skin[0] * 0.85f, id->skin[1] * 0.85f, id->skin[2] * 0.85f};
        blend(c, darker, ear);
    }
    blend(c, id->skin, cover(face, px));
    float inside = cover(face, px);
    if (inside <= 0)
        goto hair_top;
    if (id->beard && b > id->mouth_y - 0.12f) {
        float beard_a = 0.8f * cover(id->mouth_y - 0.06f - b, 3 * px);
        blend(c, id->hair, beard_a * inside);
    }
    /* Eyes: white, iris, pupil, then the lid that closes them. */
    for (int s = -1; s <= 1; s += 2) {
        float cx = s * id->eye_dx + shift, cy = id->eye_y + fy;
        float ry = id->eye_ry * p->eye_open;
        float eye = cover(ellipse_sd(a, b, cx, cy, id->eye_rx, ry > 0.004f ? ry : 0.004f), px);
        blend_grey(c, 0.92f, eye);
        float ir = id->eye_ry * 0.95f;
        float iris = cover(ellipse_sd(a, b, cx + shift * 0.3f, cy, ir, ir), px) * eye;
        blend_grey(c, id->iris, iris);
        float pupil = cover(ellipse_sd(a, b, cx + shift * 0.3f, cy, ir * 0.45f, ir * 0.45f), px);
        blend_grey(c, 0.03f, pupil * eye);
        /* Brow: a thick tilted segment above the eye, raised with expression. */
        float by = cy - id->brow_dy - p->brow_raise;
        float half = id->eye_rx * id->brow_len;
        float tilt = id->brow_tilt * half * s;
        float brow = cover(segment_sd(a, b, cx - half, by + tilt, cx + half, by - tilt,
                                      id->brow_thick),
                           px);
        float bc[3] = {id->hair[0] * 0.7f, id->hair[1] * 0.7f, id->hair[2] * 0.7f};
        blend(c, bc, brow);
        if (id->glasses) {
            float r = id->eye_rx * 1.7f;
            float ring = fabsf(ellipse_sd(a, b, cx, cy, r, r * 0.8f)) - 0.012f;
            blend_grey(c, 0.08f, cover(ring, px));
        }
    }
    if (id->glasses) {
        float bridge = segment_sd(a, b, -id->eye_dx + id->eye_rx * 1.7f + shift, id->eye_y + fy,
                                  id->eye_dx - id->eye_rx * 1.7f + shift, id->eye_y + fy, 0.01f);
        blend_grey(c, 0.08f, cover(bridge, px));
    }
    /* Nose: a shaded ridge and a darker base. */
    float nx = shift * 1.2f, ny0 = id->eye_y + 0.05f + fy, ny1 = ny0 + id->nose_len;
    float ridge = cover(segment_sd(a, b, nx + id->nose_w * 0.3f, ny0, nx + id->nose_w * 0.5f,
                                   ny1 - 0.02f, 0.012f),
                        px);
    scale_rgb(c, 0.78f, ridge);
    float base = cover(ellipse_sd(a, b, nx, ny1, id->nose_w, id->nose_w * 0.45f), px);
    scale_rgb(c, 0.7f, base * 0.8f);
    /* Mouth: a curved band (smile bends it), dark inside when open. */
    float my = id->mouth_y + fy, mx = shift;
    float t = (a - mx) / id->mouth_w;
    if (t > -1.2f && t < 1.2f) {
        float curve = my - p->smile * 0.06f * (1.0f - t * t);
        float open = p->mouth_open * 0.05f;
        float lips = id->lip + open;
        float d = fabsf(b - curve) - lips;
        float edge = (fabsf(t) - 1.0f) * id->mouth_w;
        float sd = d > edge ? d : edge;
        float lip_col[3] = {id->skin[0] * 0.75f, id->skin[1] * 0.55f, id->skin[2] * 0.55f};
        blend(c, lip_col, cover(sd, px));
        if (open > 0) {
            float in = (fabsf(b - curve) - open * 0.8f);
            blend_grey(c, 0.08f, cover(in > edge ? in : edge, px));
        }
        if (id->moustache) {
            float m = fabsf(b - (curve - lips - 0.03f)) - 0.02f;
            blend(c, id->hair, cover(m > edge ? m : edge, px) * 0.9f);
        }
    }
    if (id->mole) {
        float mole = cover(ellipse_sd(a, b, id->mole_u + shift, id->mole_v, 0.018f, 0.018f), px);
        blend_grey(c, 0.12f, mole * inside);
    }
hair_top:
    if (id->hair_style != 3) {
        float line = id->hairline;
        if (id->hair_style == 2) /* fringe: lower in the middle */
            line += 0.18f * (1.0f - fabsf(a) / id->face_w);
        float cap = ellipse_sd(a, b, 0, -0.04f, id->face_w * 1.1f, id->face_h * 1.08f);
        float above = b - line - 0.03f * sinf(a * 20.0f);
        float hair = cover(cap > above ? cap : above, px);
        blend(c, id->hair, hair);
    }
}

/* Unit-variance noise for 8 pixels from one Philox block: each 16-bit half
 * word is a uniform, and (u1 + u2 - 1) * sqrt(6) has mean 0, variance 1
 * (a triangular law, close enough to Gaussian sensor noise and far cheaper
 * than Box-Muller). */
static void noise8(float *out, uint64_t seed, uint64_t block)
{
    siam_u32x4 c = {{(uint32_t)block, (uint32_t)(block >> 32), SIAM_STREAM_SYNTH, 0}};
    siam_u32x4 r = siam_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    for (int i = 0; i < 4; i++) {
        for (int h = 0; h < 2; h++) {
            uint32_t w = r.v[i] >> (16 * h);
            float u1 = (float)(w & 0xff) * (1.0f / 255.0f);
            float u2 = (float)((w >> 8) & 0xff) * (1.0f / 255.0f);
            out[2 * i + h] = (u1 + u2 - 1.0f) * 2.4494897f;
        }
    }
}

void siam_synth_render(uint8_t *rgb, int size, uint64_t seed, int who, int index)
{
    identity id;
    pose p;
    identity_draw(&id, seed, who);
    pose_draw(&p, seed, who, index);
    float ca = cosf(p.angle), sa = sinf(p.angle);
    float px = 2.0f / size / p.scale;
    float lx = cosf(p.light_dir), ly = sinf(p.light_dir);
    uint64_t noise_base = IDX_NOISE + (((uint64_t)who * 4096 + (uint64_t)index) << 24);
    float noise[8];
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            float u = (2.0f * x + 1.0f) / size - 1.0f;
            float v = (2.0f * y + 1.0f) / size - 1.0f;
            /* Inverse pose: image point -> face coordinates. */
            float du = (u - p.tx) / p.scale, dv = (v - p.ty) / p.scale;
            float a = ca * du + sa * dv, b = -sa * du + ca * dv;
            float g = p.background + p.bg_grad * u;
            float c[3] = {g, g * 0.97f, g * 0.94f};
            /* Outside every shape's reach only the background shows. */
            float ra = a / (1.3f * id.face_w + 0.1f);
            float rb = (b + 0.05f) / (1.15f * id.face_h + 0.05f);
            if (ra * ra + rb * rb < 1.0f + 8.0f * px)
                shade(c, &id, &p, a, b, px);
            float light = p.exposure * (1.0f + p.light * (lx * u + ly * v));
            int pix = y * size + x;
            if ((pix & 7) == 0)
                noise8(noise, seed, noise_base + (uint64_t)(pix >> 3));
            float n = p.noise * noise[pix & 7];
            for (int ch = 0; ch < 3; ch++) {
                float val = (c[ch] * light + n) * 255.0f;
                rgb[(size_t)(y * size + x) * 3 + ch] =
                    (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val + 0.5f);
            }
        }
    }
}

void siam_synth_options_init(siam_synth_options *o)
{
    o->seed = 1;
    o->identities = 200;
    o->images_per_identity = 10;
    o->size = 105;
    o->test_identities = 60;
    o->train_pairs = 1100;
    o->test_pairs = 500;
    o->threads = 0;
}

static int check_options(const siam_synth_options *o, siam_error *err)
{
    int train_ids = o->identities - o->test_identities;
    if (o->identities < 4 || o->identities > 99999 || o->images_per_identity < 2 ||
        o->images_per_identity > 4095 || o->size < 16 || o->size > 1024 ||
        o->test_identities < 2 || train_ids < 2 || o->train_pairs < 1 || o->test_pairs < 1)
        return siam_fail(err,
                         "bad synthetic set options: %d identities (4..99999), %d images each "
                         "(2..4095), size %d (16..1024), %d test identities (2..identities-2), "
                         "%d/%d pairs (>= 1)",
                         o->identities, o->images_per_identity, o->size, o->test_identities,
                         o->train_pairs, o->test_pairs);
    long k = o->images_per_identity;
    if ((long)o->train_pairs > (long)train_ids * k * (k - 1) / 2 ||
        (long)o->test_pairs > (long)o->test_identities * k * (k - 1) / 2)
        return siam_fail(err, "bad synthetic set options: %d/%d matched pairs asked for, but "
                              "%d/%d people x %d images allow at most %ld/%ld",
                         o->train_pairs, o->test_pairs, train_ids, o->test_identities,
                         o->images_per_identity, (long)train_ids * k * (k - 1) / 2,
                         (long)o->test_identities * k * (k - 1) / 2);
    return 0;
}

typedef struct write_job {
    const char *dir;
    const siam_synth_options *o;
    atomic_int next;
    atomic_int failed;
    siam_error err;
    pthread_mutex_t lock;
} write_job;

static void *write_worker(void *arg)
{
    write_job *job = arg;
    const siam_synth_options *o = job->o;
    int total = o->identities * o->images_per_identity;
    uint8_t *rgb = malloc((size_t)o->size * o->size * 3);
    char path[4096];
    for (;;) {
        int i = atomic_fetch_add(&job->next, 1);
        if (i >= total || atomic_load(&job->failed))
            break;
        int who = i / o->images_per_identity, index = i % o->images_per_identity;
        snprintf(path, sizeof path, "%s/lfw-synthetic/Face_%04d/Face_%04d_%04d.png", job->dir,
                 who + 1, who + 1, index + 1);
        int ok = rgb != NULL;
        if (ok) {
            siam_synth_render(rgb, o->size, o->seed, who, index);
            /* Stored grey with the loader's own luma, (77R + 150G + 29B) >> 8,
             * so the bank is what loading the colour image would give, and
             * the file is a third of the size (PNG writing dominates). */
            size_t n = (size_t)o->size * o->size;
            for (size_t k = 0; k < n; k++)
                rgb[k] = (uint8_t)((77 * rgb[3 * k] + 150 * rgb[3 * k + 1] +
                                    29 * rgb[3 * k + 2]) >> 8);
            ok = stbi_write_png(path, o->size, o->size, 1, rgb, o->size);
        }
        if (!ok) {
            pthread_mutex_lock(&job->lock);
            if (!atomic_load(&job->failed))
                siam_fail(&job->err, "cannot write %s%s", path, rgb ? "" : " (out of memory)");
            atomic_store(&job->failed, 1);
            pthread_mutex_unlock(&job->lock);
        }
    }
    free(rgb);
    return NULL;
}

static int make_dir(const char *path, siam_error *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return siam_fail(err, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

/* A View 1 file over people [first, first+count): n matched pairs (distinct
 * image pairs of one person, no repeats) then n mismatched pairs. */
static int write_pairs(const char *path, const siam_synth_options *o, int first, int count,
                       int n, uint64_t stream_base, siam_error *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return siam_fail(err, "cannot write %s: %s", path, strerror(errno));
    int k = o->images_per_identity;
    size_t slots = (size_t)count * k * k;
    unsigned char *used = calloc(slots, 1);
    if (used == NULL) {
        fclose(f);
        return siam_fail(err, "out of memory writing %s", path);
    }
    uint64_t c = stream_base;
    fprintf(f, "%d\n", n);
    for (int i = 0; i < n;) {
        uint32_t r1 = siam_philox_u32(o->seed, SIAM_STREAM_PAIRS, c++);
        uint32_t r2 = siam_philox_u32(o->seed, SIAM_STREAM_PAIRS, c++);
        uint32_t r3 = siam_philox_u32(o->seed, SIAM_STREAM_PAIRS, c++);
        int who = (int)(r1 % (uint32_t)count);
        int x = (int)(r2 % (uint32_t)k), y = (int)(r3 % (uint32_t)k);
        if (x == y)
            continue;
        if (x > y) {
            int t = x;
            x = y;
            y = t;
        }
        size_t slot = ((size_t)who * k + x) * k + y;
        if (used[slot])
            continue;
        used[slot] = 1;
        fprintf(f, "Face_%04d\t%d\t%d\n", first + who + 1, x + 1, y + 1);
        i++;
    }
    for (int i = 0; i < n;) {
        uint32_t r[4];
        for (int j = 0; j < 4; j++)
            r[j] = siam_philox_u32(o->seed, SIAM_STREAM_PAIRS, c++);
        int a = (int)(r[0] % (uint32_t)count), b = (int)(r[1] % (uint32_t)count);
        if (a == b)
            continue;
        fprintf(f, "Face_%04d\t%d\tFace_%04d\t%d\n", first + a + 1,
                (int)(r[2] % (uint32_t)k) + 1, first + b + 1, (int)(r[3] % (uint32_t)k) + 1);
        i++;
    }
    free(used);
    if (fclose(f) != 0)
        return siam_fail(err, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

static void describe(char *out, size_t cap, const siam_synth_options *o)
{
    snprintf(out, cap,
             "siamlua synthetic faces v1\nseed %llu\nidentities %d\nimages_per_identity %d\n"
             "size %d\ntest_identities %d\ntrain_pairs %d\ntest_pairs %d\n",
             (unsigned long long)o->seed, o->identities, o->images_per_identity, o->size,
             o->test_identities, o->train_pairs, o->test_pairs);
}

int siam_synth_present(const char *dir, const siam_synth_options *o)
{
    char path[4096], want[512], got[512];
    snprintf(path, sizeof path, "%s/synthetic.txt", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    describe(want, sizeof want, o);
    return strcmp(got, want) == 0;
}

int siam_synth_write(const char *dir, const siam_synth_options *o, siam_error *err)
{
    if (check_options(o, err) < 0)
        return -1;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/lfw-synthetic", dir) >= (int)sizeof path - 64)
        return siam_fail(err, "path too long: %s", dir);
    /* Remove the stamp first: an interrupted rewrite must not look complete. */
    char stamp[4096];
    snprintf(stamp, sizeof stamp, "%s/synthetic.txt", dir);
    unlink(stamp);
    if (make_dir(dir, err) < 0 || make_dir(path, err) < 0)
        return -1;
    for (int who = 0; who < o->identities; who++) {
        snprintf(path, sizeof path, "%s/lfw-synthetic/Face_%04d", dir, who + 1);
        if (make_dir(path, err) < 0)
            return -1;
    }
    write_job job = {.dir = dir, .o = o};
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    pthread_mutex_init(&job.lock, NULL);
    int threads = o->threads;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)(n < 64 ? n : 64) : 1;
    }
    pthread_t tid[64];
    int started = 0;
    for (int t = 1; t < threads && t < 64; t++)
        if (pthread_create(&tid[started], NULL, write_worker, &job) == 0)
            started++;
    write_worker(&job);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&job.lock);
    if (atomic_load(&job.failed)) {
        if (err)
            *err = job.err;
        return -1;
    }
    int train_ids = o->identities - o->test_identities;
    snprintf(path, sizeof path, "%s/pairsDevTrain.txt", dir);
    if (write_pairs(path, o, 0, train_ids, o->train_pairs, 0, err) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/pairsDevTest.txt", dir);
    if (write_pairs(path, o, train_ids, o->test_identities, o->test_pairs, 1ull << 40, err) < 0)
        return -1;
    char text[512];
    describe(text, sizeof text, o);
    FILE *f = fopen(stamp, "w");
    if (f == NULL)
        return siam_fail(err, "cannot write %s: %s", stamp, strerror(errno));
    int bad = fputs(text, f) < 0;
    if (fclose(f) != 0 || bad)
        return siam_fail(err, "cannot write %s", stamp);
    return 0;
}
