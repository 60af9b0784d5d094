/* Parser for the LFW pairs files of both protocols. It checks the text only;
 * whether the images exist is the loader's job (host/dataset.c).
 *   View 1 (pairsDevTrain.txt, pairsDevTest.txt): a line "N", then N matched
 *     lines "name n1 n2", then N mismatched lines "name1 n1 name2 n2".
 *   View 2 (pairs.txt): a line "folds n", then per fold n matched and n
 *     mismatched lines; each pair keeps its 0-based fold.
 * Fields are separated by tabs or spaces; CRLF line ends are accepted, and so
 * are a UTF-8 byte-order mark before the header and blank lines at the very
 * end. Everything else is rejected with "file:line: what is wrong: \"the
 * line\"", the line shown escaped (host/escape.h); a NUL byte anywhere is
 * "file:line:column: a NUL byte: binary data, not a pairs file". Where a
 * line is a pair of the other kind than the header's counts put there, the
 * message says what the header says ("the header says 19 matched pairs;
 * line 21 is a mismatched pair"). */
#ifndef SIAM_LFW_PAIRS_H
#define SIAM_LFW_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

typedef struct siam_pair_entry {
    const char *name_a, *name_b; /* person names, pointing into the list's text */
    int num_a, num_b;            /* image numbers, >= 1 */
    int label;                   /* 1 matched, 0 mismatched */
    int fold;                    /* 0-based fold; 0 for View 1 */
    int line;                    /* 1-based line in the file */
} siam_pair_entry;

/* Owns its entries and the text they point into. */
typedef struct siam_pair_list {
    siam_pair_entry *entries;
    size_t count;
    int folds;        /* 1 for View 1 */
    int per_fold;     /* matched pairs per fold (= mismatched) */
    uint64_t hash;    /* siam_hash64 of the file's bytes (host/hash.h) */
    char *path;       /* the file as given */
    char *text;       /* the file's bytes, tokenised in place */
} siam_pair_list;

/* Reads and checks `path`, which must be a regular file (a FIFO or a
 * directory is refused by name: host/regular_file.h). Returns a new list
 * the caller frees with siam_pair_list_free, or NULL with the message in
 * err. */
siam_pair_list *siam_pair_list_read(const char *path, siam_error *err);

/* The same on bytes already in memory; `name` is used in messages. */
siam_pair_list *siam_pair_list_parse(const char *name, const char *bytes, size_t len,
                                     siam_error *err);

void siam_pair_list_free(siam_pair_list *pl);

#endif
