/* Escaping user text for messages (host/escape.h). */
#include "host/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point, or 0 when the bytes are no valid sequence (overlong forms,
 * surrogates and values above U+10FFFF included: RFC 3629). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c > 0xF4 || len > n)
        return 0;
    uint32_t v = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < least[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Characters a terminal shows as nothing (or that reorder what follows). */
static int invisible(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || cp == 0x34F || cp == 0x61C ||
           cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
           (cp >= 0xE0000 && cp <= 0xE0FFF);
}

/* The shown form of the character at u[i] into piece (room for 17 bytes);
 * returns its length, and the input bytes it covers in *len. */
static size_t piece_at(const unsigned char *u, size_t n, size_t i, char *piece, size_t *len)
{
    unsigned c = u[i];
    uint32_t cp = 0;
    size_t k = 0;
    *len = 1;
    if (c == '\\' || c == '"') {
        piece[0] = '\\', piece[1] = (char)c;
        return 2;
    }
    if (c == '\t' || c == '\n' || c == '\r') {
        piece[0] = '\\', piece[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        return 2;
    }
    if (c >= 0x20 && c < 0x7F) {
        piece[0] = (char)c;
        return 1;
    }
    if (c >= 0x80 && (k = utf8_char(u + i, n - i, &cp)) > 0 && !invisible(cp)) {
        memcpy(piece, u + i, k);
        *len = k;
        return k;
    }
    /* A control byte, an invisible character (all its bytes) or a byte of
     * malformed UTF-8. */
    *len = k ? k : 1;
    size_t plen = 0;
    for (size_t b = 0; b < *len; b++)
        plen += (size_t)snprintf(piece + plen, 17 - plen, "\\x%02x", u[i + b]);
    return plen;
}

char *siam_escape(char *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char piece[20];
    size_t total = 0, len;
    for (size_t i = 0; i < n; i += len)
        total += piece_at(u, n, i, piece, &len);
    /* Cut only when the whole does not fit, then keep room for "...". */
    size_t limit = total < cap ? cap - 1 : cap - 4, o = 0;
    for (size_t i = 0; i < n; i += len) {
        size_t plen = piece_at(u, n, i, piece, &len);
        if (o + plen > limit) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
    }
    out[o] = '\0';
    return out;
}
