/* Result tables: rows of key -> text value (one row per run or grid
 * configuration), sorted by a numeric column and written as an aligned text
 * table, CSV (RFC 4180 quoting) or Markdown; CSV can be read back so that
 * the tables of grid shards can be merged. Values are text so that every
 * hyper-parameter prints exactly as configured. */
#ifndef SIAM_RESULTS_TABLE_H
#define SIAM_RESULTS_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "kernels/error.h"

/* Caller-owned; siam_table_free (NULL fine). Columns appear in the order
 * their keys were first set. */
typedef struct siam_table siam_table;

siam_table *siam_table_new(siam_error *err);
void siam_table_free(siam_table *t);

size_t siam_table_rows(const siam_table *t);
size_t siam_table_cols(const siam_table *t);
const char *siam_table_col_name(const siam_table *t, size_t col);

/* Appends an empty row and returns its index, or -1. */
long siam_table_add_row(siam_table *t, siam_error *err);

/* Sets a cell (copied). Keys and values are any text; a NULL value unsets. */
int siam_table_set(siam_table *t, size_t row, const char *key, const char *value,
                   siam_error *err);
/* Sets a number formatted with %.6g ("nan", "inf" for non-finite). */
int siam_table_set_number(siam_table *t, size_t row, const char *key, double value,
                          siam_error *err);

/* The cell's text, or NULL when unset or the key is unknown. Owned by the
 * table; valid until the cell changes. */
const char *siam_table_get(const siam_table *t, size_t row, const char *key);

/* Sorts the rows by the numeric value of `key`, largest first when
 * `descending`. Rows where it is unset or not a finite number go last, in
 * their previous order (the sort is stable), so a failed or NaN run never
 * ranks above a finished one. Then sets column "rank" to 1..n and makes it
 * the first column. */
int siam_table_sort(siam_table *t, const char *key, int descending, siam_error *err);

/* The same, with the rows whose `demote_col` cell is one of
 * `demote_values` (a NULL-terminated list) also last, as if unset: a grid
 * ranks its failed and diverged ("nan") runs below every finished one
 * whatever their validation accuracy before they stopped. */
int siam_table_sort_demoting(siam_table *t, const char *key, int descending,
                             const char *demote_col, const char *const *demote_values,
                             siam_error *err);

/* Aligned for a terminal: a header, a rule, numbers right-aligned. */
int siam_table_print(const siam_table *t, FILE *out);
/* Header line then one line per row, '\n' line ends; a field is quoted
 * when it holds ',', '"', CR, LF or edge blanks, with '"' doubled. */
int siam_table_write_csv(const siam_table *t, FILE *out);
/* GitHub-flavoured Markdown table; '|' escaped, numbers right-aligned. */
int siam_table_write_markdown(const siam_table *t, FILE *out);

typedef enum siam_table_format {
    SIAM_TABLE_TEXT, SIAM_TABLE_CSV, SIAM_TABLE_MARKDOWN
} siam_table_format;

/* Writes `path` atomically in `format`. */
int siam_table_save(const siam_table *t, const char *path, siam_table_format format,
                    siam_error *err);

/* Appends the rows of a CSV text of len bytes (first record is the header;
 * CRLF or LF; quoted fields may hold commas, quotes, newlines and other
 * control characters). Empty fields are left unset; blank lines are
 * skipped; empty text, or a header alone, gives no rows. Anything else that
 * is not the CSV the writer writes is an error naming `source`, the line
 * and, for a bad character, the column ("x.csv:3:7: ..."): a NUL byte, a
 * control character outside quotes, a quote inside an unquoted field, text
 * after a closing quote, a quote never closed, a header column without a
 * name or named twice, a row with more or fewer fields than the header. */
int siam_table_read_csv(siam_table *t, const char *text, size_t len, const char *source,
                        siam_error *err);
int siam_table_load_csv(siam_table *t, const char *path, siam_error *err);

#endif
