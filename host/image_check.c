/* Image checks before stb_image (host/image_check.h). JPEG marker codes
 * from ITU-T T.81, Table B.1: C4 DHT, DA SOS, C0..CF (but C4, C8, CC) SOF,
 * C2/C6/CA/CE progressive, D0..D7 RST, D8 SOI, D9 EOI, 01 TEM. PNG chunks
 * from the PNG specification, section 5.3: a 4-byte big-endian length, a
 * 4-byte type, the data, a 4-byte CRC. PNM headers as stb reads them
 * (stbi__pnm_info): "P5" or "P6", then width, height and maximum value,
 * separated by whitespace and '#' comments to the end of the line. */
#include "host/image_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t siam_jpeg_start(const unsigned char *b, size_t len)
{
    size_t i = 0;
    while (i < len && b[i] == 0xFF)
        i++;
    return i >= 1 && i < len && b[i] == 0xD8 ? i + 1 : 0;
}

/* Byte k of the file, 0 past its end: what stb's reader returns there. */
static unsigned at(const unsigned char *b, size_t len, size_t k)
{
    return k < len ? b[k] : 0;
}

/* Reads the tables of the DHT segment at i (length seg) into defined[][]. */
static int dht(const unsigned char *b, size_t len, size_t i, size_t seg, int defined[2][4],
               char *why, size_t cap)
{
    long left = (long)seg - 2;
    for (size_t t = i + 4; left > 0;) {
        unsigned q = at(b, len, t), tc = q >> 4, th = q & 15;
        int n = 0;
        for (size_t k = t + 1; k <= t + 16; k++)
            n += (int)at(b, len, k);
        if (n > 256) {
            snprintf(why, cap, "a Huffman table of %d codes, more than 256", n);
            return -1;
        }
        if (tc > 1 || th > 3)
            return 0; /* stb refuses the file itself ("bad DHT header") */
        defined[tc][th] = 1;
        t += 17 + (size_t)n;
        left -= 17 + n;
    }
    return 0;
}

/* The DQT segment at i (length seg): stb takes 16-bit tables (Pq = 1),
 * which T.81 (B.2.4.1) allows only for 12-bit samples, and its 8-bit
 * decoder then multiplies a block's DC value by up to 65535 in an int,
 * which a corrupt file overflows (undefined behaviour; found by fuzzing). */
static int dqt(const unsigned char *b, size_t len, size_t i, size_t seg, char *why, size_t cap)
{
    long left = (long)seg - 2;
    for (size_t t = i + 4; left > 0; t += 65, left -= 65) {
        unsigned pq = at(b, len, t) >> 4;
        if (pq == 1) {
            snprintf(why, cap, "a 16-bit quantization table, which an 8-bit JPEG may not have");
            return -1;
        }
        if (pq > 1)
            return 0; /* stb refuses the file itself ("bad DQT type") */
    }
    return 0;
}

/* The tables the scan at i uses must exist: both kinds in a sequential
 * JPEG; in a progressive one DC tables in a first DC scan (Ss = 0, Ah = 0)
 * and AC tables in an AC scan (Ss > 0), as stb decodes them. */
static int sos(const unsigned char *b, size_t len, size_t i, int progressive,
               int defined[2][4], char *why, size_t cap)
{
    unsigned ns = at(b, len, i + 4);
    if (ns < 1 || ns > 4)
        return 0; /* stb refuses the file itself ("bad SOS component count") */
    size_t after = i + 5 + 2 * (size_t)ns;
    unsigned ss = at(b, len, after), ah = at(b, len, after + 2) >> 4;
    int use_dc = !progressive || (ss == 0 && ah == 0), use_ac = !progressive || ss > 0;
    for (unsigned c = 0; c < ns; c++) {
        unsigned q = at(b, len, i + 6 + 2 * (size_t)c), td = q >> 4, ta = q & 15;
        if (td > 3 || ta > 3)
            return 0; /* refused by stb ("bad DC huff", "bad AC huff") */
        if ((use_dc && !defined[0][td]) || (use_ac && !defined[1][ta])) {
            int dc = use_dc && !defined[0][td];
            snprintf(why, cap, "a scan uses %s Huffman table %u, which no DHT segment before it "
                               "defines", dc ? "DC" : "AC", dc ? td : ta);
            return -1;
        }
    }
    return 0;
}

/* The next marker with a length at or after *i, as stb's decoder finds it
 * (entropy-coded data, stuffing, fill bytes and markers without a length
 * passed over): its code with *i at its 0xFF, or 0 at the end of the image
 * (EOI, or too few bytes left for a length). */
static unsigned jpeg_next_marker(const unsigned char *b, size_t len, size_t *i)
{
    for (size_t k = *i; k + 1 < len; k++) {
        unsigned m = b[k + 1];
        if (b[k] != 0xFF || m == 0x00 || m == 0xFF || m == 0x01 || m == 0xD8 ||
            (m >= 0xD0 && m <= 0xD7))
            continue;
        *i = k;
        return m == 0xD9 || k + 4 > len ? 0 : m;
    }
    return 0;
}

static size_t jpeg_segment_length(const unsigned char *b, size_t i)
{
    return (size_t)b[i + 2] << 8 | b[i + 3];
}

/* Where the segment at i ends; a length below 2 is stepped over as stb does. */
static size_t jpeg_segment_end(const unsigned char *b, size_t i)
{
    size_t seg = jpeg_segment_length(b, i);
    return seg < 2 ? i + 2 : i + 2 + seg;
}

int siam_jpeg_check_tables(const unsigned char *b, size_t len, char *why, size_t cap)
{
    int defined[2][4] = { { 0 } }, progressive = 0;
    size_t i = siam_jpeg_start(b, len);
    for (unsigned m; i && (m = jpeg_next_marker(b, len, &i)) != 0; i = jpeg_segment_end(b, i)) {
        size_t seg = jpeg_segment_length(b, i);
        if (m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE)
            progressive = 1;
        if (m == 0xC4 && dht(b, len, i, seg, defined, why, cap))
            return -1;
        if (m == 0xDB && dqt(b, len, i, seg, why, cap))
            return -1;
        if (m == 0xDA && sos(b, len, i, progressive, defined, why, cap))
            return -1;
    }
    return 0;
}

int siam_png_check_chunks(const unsigned char *b, size_t len, char *why, size_t cap)
{
    static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    if (len < 8 || memcmp(b, signature, 8) != 0)
        return 0;
    for (size_t i = 8; i + 12 <= len;) {
        size_t n = (size_t)b[i] << 24 | (size_t)b[i + 1] << 16 | (size_t)b[i + 2] << 8 | b[i + 3];
        size_t left = len - i - 12;
        if (n > left) {
            char type[5];
            for (int k = 0; k < 4; k++) {
                unsigned char c = b[i + 4 + k];
                type[k] = c >= 0x20 && c < 0x7F ? (char)c : '?';
            }
            type[4] = '\0';
            snprintf(why, cap, "chunk %s declares %zu bytes, %zu are left", type, n, left);
            return -1;
        }
        if (memcmp(b + i + 4, "IEND", 4) == 0)
            return 0;
        i += 12 + n;
    }
    /* stb reports a PNG cut between chunks by what it read last
     * ("outofdata", or the first bytes of a cut chunk type). */
    snprintf(why, cap, "no IEND chunk");
    return -1;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A PNG's IHDR (which must come first: PNG 1.2, section 11.2.2). */
static int png_header_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
    static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    if (len < 8 || memcmp(b, signature, 8) != 0)
        return 0;
    if (len < 8 + 8 + 13 || memcmp(b + 12, "IHDR", 4) != 0)
        return -1;
    *w = be32(b + 16);
    *h = be32(b + 20);
    return 1;
}

/* A JPEG's first frame header (SOFn, T.81 B.2.2), before the first scan. */
static int jpeg_frame_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
    size_t i = siam_jpeg_start(b, len);
    for (unsigned m; i && (m = jpeg_next_marker(b, len, &i)) != 0 && m != 0xDA;
         i = jpeg_segment_end(b, i)) {
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > len)
                return 0;
            *h = (uint32_t)b[i + 5] << 8 | b[i + 6];
            *w = (uint32_t)b[i + 7] << 8 | b[i + 8];
            return 1;
        }
    }
    return 0;
}

int siam_image_header_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h)
{
    int png = png_header_size(b, len, w, h);
    return png != 0 ? png : jpeg_frame_size(b, len, w, h);
}

static int pnm_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int pnm_more(size_t i, size_t len)
{
    return i + 1 < len;
}

int siam_pnm_check_header(const unsigned char *b, size_t len, char *why, size_t cap)
{
    static const char *const names[3] = { "width", "height", "maximum value" };
    if (len < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6'))
        return 0;
    /* i is stb's one byte of look-ahead, c: it reads the byte after "P5"
     * or "P6" before it skips whitespace, and the byte after each number.
     * stb stops at the end of its input before it looks at c, so the last
     * byte of the file is never taken (a digit there is not read):
     * pnm_more is stb's !stbi__at_eof. */
    size_t i = 2;
    uint64_t value[3];
    for (int field = 0; field < 3; field++) {
        for (;;) {
            while (pnm_more(i, len) && pnm_space(b[i]))
                i++;
            if (!pnm_more(i, len) || b[i] != '#')
                break;
            while (pnm_more(i, len) && b[i] != '\n' && b[i] != '\r')
                i++;
        }
        size_t digits = 0;
        value[field] = 0;
        while (pnm_more(i, len) && b[i] >= '0' && b[i] <= '9')
            value[field] = value[field] * 10 + (uint64_t)(b[i++] - '0'), digits++;
        /* 9 digits always fit in an int; 10 may not. */
        if (digits > 9) {
            snprintf(why, cap, "corrupt PNM header (its %s has %zu digits)", names[field], digits);
            return -1;
        }
    }
    if (value[2] > 65535)
        return 0; /* stb refuses it ("max value > 65535") */
    int colour = b[1] == '6', depth = value[2] > 255 ? 2 : 1;
    /* stb 2.27 turns a 16-bit colour image into grey with its 8-bit
     * conversion, then reads twice the converted buffer's size. */
    if (colour && depth == 2) {
        snprintf(why, cap, "unsupported PNM (16-bit colour, maximum value %u)", (unsigned)value[2]);
        return -1;
    }
    /* stb copies the pixels only when all of them are there, and otherwise
     * decodes its buffer unwritten. */
    uint64_t pixel = (uint64_t)(colour ? 3 : 1) * depth;
    uint64_t need = value[0] * value[1] * pixel, left = i + 1 < len ? len - i - 1 : 0;
    if (need > left) {
        snprintf(why, cap, "truncated PNM (%ux%u pixels of %u byte%s need %llu bytes, %llu are left)",
                 (unsigned)value[0], (unsigned)value[1], (unsigned)pixel, pixel > 1 ? "s" : "",
                 (unsigned long long)need, (unsigned long long)left);
        return -1;
    }
    return 0;
}
