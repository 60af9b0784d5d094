/* Checks made before stb_image 2.27 (Debian 12's libstb) decodes a file,
 * for faults of it that a corrupt file turns into memory errors or huge
 * allocations; all were found by tests/fuzz/fuzz_image.c (docs/fuzz.md):
 * - a DHT table of more than 256 codes (its 16 counts add up to as much as
 *   4080) is written past stb's 256-entry arrays, into the decoder's state;
 * - a scan that uses a table no DHT segment defined decodes through the
 *   uninitialised table, indexing millions of bytes off its arrays (later
 *   stb versions refuse both themselves);
 * - a 16-bit quantization table (which T.81 allows only for 12-bit
 *   samples, and stb decodes 8-bit only) lets a corrupt file overflow the
 *   int product of a DC value and its quantizer;
 * - a PNG chunk's declared length is reserved before it is read, so a
 *   300-byte file can make stb allocate 4 GB;
 * - a PNM header's numbers are read into an int without an overflow check
 *   (undefined behaviour), a 16-bit colour PNM is converted to grey as if
 *   it were 8-bit and then read past the converted buffer, and pixel data
 *   cut short leaves the image buffer unwritten.
 * Used by host/lfw_images.c; no decoding here. */
#ifndef SIAM_IMAGE_CHECK_H
#define SIAM_IMAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Where a JPEG's segments start (just after SOI), or 0 when the bytes are
 * no JPEG to stb, which takes any run of 0xFF fill bytes before D8. */
size_t siam_jpeg_start(const unsigned char *b, size_t len);

/* 0 when stb may decode the JPEG's tables, else -1 with what is wrong in
 * `why` ("a Huffman table of 320 codes, more than 256", "a scan uses AC
 * Huffman table 2, which no DHT segment before it defines", "a 16-bit
 * quantization table, which an 8-bit JPEG may not have"). The walk goes
 * marker to marker as the decoder does: segments skipped by their length,
 * entropy-coded data byte by byte to its next marker, each DHT segment's
 * tables read while its length lasts (a table may run past the segment and
 * past the file, where stb reads zeros). */
int siam_jpeg_check_tables(const unsigned char *b, size_t len, char *why, size_t cap);

/* 0 when the bytes are no PNG, or every chunk up to IEND fits in the
 * file; else -1 with "chunk IDAT declares 1650298071 bytes, 239 are left"
 * or "no IEND chunk" in `why`. */
int siam_png_check_chunks(const unsigned char *b, size_t len, char *why, size_t cap);

/* 0 when the bytes are no binary PNM (P5, P6), or one stb reads right;
 * else -1 with the whole reason in `why`: "corrupt PNM header (its height
 * has 52 digits)" (a number of more than 9), "unsupported PNM (16-bit
 * colour, maximum value 5252)", "truncated PNM (4x2 pixels of 1 byte need
 * 8 bytes, 7 are left)". */
int siam_pnm_check_header(const unsigned char *b, size_t len, char *why, size_t cap);

/* The size a PNG's IHDR or a JPEG's frame header declares, read here
 * because stb_image answers a header beyond its own limits with "unknown
 * image type": 1 with *w, *h set; 0 when the bytes are neither or the JPEG
 * has no frame header before its first scan; -1 for a PNG whose signature
 * is not followed by a whole IHDR. */
int siam_image_header_size(const unsigned char *b, size_t len, uint32_t *w, uint32_t *h);

#endif
