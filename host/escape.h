/* User text (a line of a pairs file, a person's name, a file name, an
 * option key) as a message shows it: every byte that would not appear as
 * itself on a terminal is written as an escape. A raw NUL would cut the
 * message short, a control sequence would be obeyed by the terminal, and an
 * invisible character (a byte-order mark, a zero-width space) would make
 * the text at fault look like good text. Every message that quotes user
 * text goes through siam_escape. */
#ifndef SIAM_ESCAPE_H
#define SIAM_ESCAPE_H

#include <stddef.h>

/* Room siam_escape needs for n input bytes: each byte becomes at most four
 * ("\xNN"), plus "..." and the NUL. */
#define SIAM_ESCAPE_CAP(n) (4 * (size_t)(n) + 4)

/* Writes s[0..n) into out (cap bytes, cap >= 4; always NUL-terminated) and
 * returns out. Printable ASCII and valid UTF-8 of visible characters stay
 * as they are; a backslash becomes \\ and a double quote \"; tab, newline
 * and carriage return become \t, \n, \r; every other byte of a control
 * character (C0, DEL, C1), of an invisible or formatting character (soft
 * hyphen, U+200B-U+200F, U+2028-U+202E, U+2060-U+206F, U+FEFF, ...) or of
 * malformed UTF-8 becomes \xNN (a byte-order mark is \xef\xbb\xbf). When
 * the escaped text does not fit, it is cut at a character and ends with
 * "...". */
char *siam_escape(char *out, size_t cap, const char *s, size_t n);

#endif
