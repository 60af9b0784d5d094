/* Result tables: storage, stable numeric sort, text/CSV/Markdown writers
 * and an RFC 4180 CSV reader. */
#include "host/results_table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/atomic_file.h"

struct siam_table {
    char **cols;
    size_t ncols, cols_cap;
    char ***rows;      /* rows[r][c], each row has cols_cap slots; NULL = unset */
    size_t nrows, rows_cap;
};

siam_table *siam_table_new(siam_error *err)
{
    siam_table *t = calloc(1, sizeof *t);
    if (!t)
        siam_fail(err, "table: out of memory");
    return t;
}

void siam_table_free(siam_table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            free(t->rows[r][c]);
        free(t->rows[r]);
    }
    for (size_t c = 0; c < t->ncols; c++)
        free(t->cols[c]);
    free(t->rows);
    free(t->cols);
    free(t);
}

size_t siam_table_rows(const siam_table *t)
{
    return t->nrows;
}

size_t siam_table_cols(const siam_table *t)
{
    return t->ncols;
}

const char *siam_table_col_name(const siam_table *t, size_t col)
{
    return col < t->ncols ? t->cols[col] : NULL;
}

static long find_col(const siam_table *t, const char *key)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c], key) == 0)
            return (long)c;
    return -1;
}

static long add_col(siam_table *t, const char *key, siam_error *err)
{
    if (t->ncols == t->cols_cap) {
        size_t cap = t->cols_cap ? 2 * t->cols_cap : 16;
        char **cols = realloc(t->cols, cap * sizeof *cols);
        if (!cols)
            return siam_fail(err, "table: out of memory adding column '%s'", key);
        t->cols = cols;
        for (size_t r = 0; r < t->nrows; r++) {
            char **row = realloc(t->rows[r], cap * sizeof *row);
            if (!row)
                return siam_fail(err, "table: out of memory adding column '%s'", key);
            memset(row + t->cols_cap, 0, (cap - t->cols_cap) * sizeof *row);
            t->rows[r] = row;
        }
        t->cols_cap = cap;
    }
    if (!(t->cols[t->ncols] = strdup(key)))
        return siam_fail(err, "table: out of memory adding column '%s'", key);
    return (long)t->ncols++;
}

long siam_table_add_row(siam_table *t, siam_error *err)
{
    if (t->nrows == t->rows_cap) {
        size_t cap = t->rows_cap ? 2 * t->rows_cap : 16;
        char ***rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows)
            return siam_fail(err, "table: out of memory adding row %zu", t->nrows + 1);
        t->rows = rows;
        t->rows_cap = cap;
    }
    char **row = calloc(t->cols_cap ? t->cols_cap : 1, sizeof *row);
    if (!row)
        return siam_fail(err, "table: out of memory adding row %zu", t->nrows + 1);
    t->rows[t->nrows] = row;
    return (long)t->nrows++;
}

int siam_table_set(siam_table *t, size_t row, const char *key, const char *value,
                   siam_error *err)
{
    if (row >= t->nrows)
        return siam_fail(err, "table: row %zu does not exist (%zu rows)", row, t->nrows);
    long c = find_col(t, key);
    if (c < 0 && value && (c = add_col(t, key, err)) < 0)
        return -1;
    if (c < 0)
        return 0;
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return siam_fail(err, "table: out of memory setting '%s'", key);
    free(t->rows[row][c]);
    t->rows[row][c] = copy;
    return 0;
}

int siam_table_set_number(siam_table *t, size_t row, const char *key, double value,
                          siam_error *err)
{
    char buf[48];
    if (isnan(value))
        snprintf(buf, sizeof buf, "nan");
    else if (isinf(value))
        snprintf(buf, sizeof buf, value > 0 ? "inf" : "-inf");
    else
        snprintf(buf, sizeof buf, "%.6g", value);
    return siam_table_set(t, row, key, buf, err);
}

const char *siam_table_get(const siam_table *t, size_t row, const char *key)
{
    long c = find_col(t, key);
    return row < t->nrows && c >= 0 ? t->rows[row][c] : NULL;
}

/* A whole cell that strtod reads as a number ("nan" and "inf" included). */
static int is_number(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return 0;
    if (out)
        *out = v;
    return 1;
}

typedef struct sort_item {
    char **row;
    double key;
    int has_key;
    size_t order;
} sort_item;

static int cmp_desc(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    if (a->has_key != b->has_key)
        return a->has_key ? -1 : 1;
    if (a->has_key && a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return a->order < b->order ? -1 : 1;
}

static int cmp_asc(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    if (a->has_key != b->has_key)
        return a->has_key ? -1 : 1;
    if (a->has_key && a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->order < b->order ? -1 : 1;
}

static int is_one_of(const char *cell, const char *const *values)
{
    for (size_t i = 0; cell && values && values[i]; i++)
        if (strcmp(cell, values[i]) == 0)
            return 1;
    return 0;
}

int siam_table_sort(siam_table *t, const char *key, int descending, siam_error *err)
{
    return siam_table_sort_demoting(t, key, descending, NULL, NULL, err);
}

int siam_table_sort_demoting(siam_table *t, const char *key, int descending,
                             const char *demote_col, const char *const *demote_values,
                             siam_error *err)
{
    long c = find_col(t, key);
    if (c < 0)
        return siam_fail(err, "table: cannot sort by '%s': no such column", key);
    long dc = demote_col ? find_col(t, demote_col) : -1;
    sort_item *items = malloc((t->nrows ? t->nrows : 1) * sizeof *items);
    if (!items)
        return siam_fail(err, "table: out of memory sorting %zu rows", t->nrows);
    for (size_t r = 0; r < t->nrows; r++) {
        double v = 0;
        items[r] = (sort_item){t->rows[r], 0, 0, r};
        int demoted = dc >= 0 && is_one_of(t->rows[r][dc], demote_values);
        if (!demoted && is_number(t->rows[r][c], &v) && isfinite(v))
            items[r].key = v, items[r].has_key = 1;
    }
    qsort(items, t->nrows, sizeof *items, descending ? cmp_desc : cmp_asc);
    for (size_t r = 0; r < t->nrows; r++)
        t->rows[r] = items[r].row;
    free(items);
    for (size_t r = 0; r < t->nrows; r++)
        if (siam_table_set_number(t, r, "rank", (double)(r + 1), err) != 0)
            return -1;
    /* Move "rank" to the front, shifting the others right. */
    long rc = find_col(t, "rank");
    for (long k = rc; k > 0; k--) {
        char *name = t->cols[k];
        t->cols[k] = t->cols[k - 1];
        t->cols[k - 1] = name;
        for (size_t r = 0; r < t->nrows; r++) {
            char *v = t->rows[r][k];
            t->rows[r][k] = t->rows[r][k - 1];
            t->rows[r][k - 1] = v;
        }
    }
    return 0;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* A column is numeric when every set cell is a number. */
static int col_numeric(const siam_table *t, size_t c)
{
    int any = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *v = t->rows[r][c];
        if (!v || !*v)
            continue;
        if (!is_number(v, NULL))
            return 0;
        any = 1;
    }
    return any;
}

static void put_padded(FILE *out, const char *s, size_t width, int right)
{
    size_t w = text_width(s);
    size_t pad = width > w ? width - w : 0;
    if (right)
        fprintf(out, "%*s%s", (int)pad, "", s ? s : "");
    else
        fprintf(out, "%s%*s", s ? s : "", (int)pad, "");
}

int siam_table_print(const siam_table *t, FILE *out)
{
    size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);
    int *right = calloc(t->ncols ? t->ncols : 1, sizeof *right);
    if (!width || !right) {
        free(width);
        free(right);
        return -1;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = text_width(t->cols[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = text_width(t->rows[r][c]);
            width[c] = cw > width[c] ? cw : width[c];
        }
        right[c] = col_numeric(t, c);
    }
    /* Row -1 is the header, row -2 the rule under it. The last column is
     * not padded when left-aligned, so lines carry no trailing blanks. */
    for (long r = -1; r < (long)t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputs("  ", out);
            const char *cell = r < 0 ? t->cols[c] : t->rows[r][c];
            put_padded(out, cell, c + 1 == t->ncols && !right[c] ? 0 : width[c], right[c]);
        }
        fputc('\n', out);
        if (r == -1) {
            for (size_t c = 0; c < t->ncols; c++) {
                if (c)
                    fputs("  ", out);
                for (size_t k = 0; k < width[c]; k++)
                    fputc('-', out);
            }
            fputc('\n', out);
        }
    }
    free(width);
    free(right);
    return ferror(out) ? -1 : 0;
}

/* A control byte (tab aside), which the reader accepts only inside a
 * quoted field: a file with one outside is not CSV text. */
static int is_control(unsigned char ch)
{
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static int needs_quotes(const char *s, size_t n)
{
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        return 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || is_control((unsigned char)s[i]))
            return 1;
    return 0;
}

static void put_csv_field(FILE *out, const char *s)
{
    if (!s)
        return;
    int quote = needs_quotes(s, strlen(s));
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int siam_table_write_csv(const siam_table *t, FILE *out)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', out);
        put_csv_field(out, t->cols[c]);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            put_csv_field(out, t->rows[r][c]);
        }
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

static void put_md_cell(FILE *out, const char *s)
{
    fputc(' ', out);
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputs(" |", out);
}

int siam_table_write_markdown(const siam_table *t, FILE *out)
{
    fputc('|', out);
    for (size_t c = 0; c < t->ncols; c++)
        put_md_cell(out, t->cols[c]);
    fputs("\n|", out);
    for (size_t c = 0; c < t->ncols; c++)
        fputs(col_numeric(t, c) ? " ---: |" : " --- |", out);
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputc('|', out);
        for (size_t c = 0; c < t->ncols; c++)
            put_md_cell(out, t->rows[r][c]);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

int siam_table_save(const siam_table *t, const char *path, siam_table_format format,
                    siam_error *err)
{
    siam_atomic_file *af = siam_atomic_file_begin(path, err);
    if (!af)
        return -1;
    int rc = format == SIAM_TABLE_CSV        ? siam_table_write_csv(t, af->fp)
             : format == SIAM_TABLE_MARKDOWN ? siam_table_write_markdown(t, af->fp)
                                             : siam_table_print(t, af->fp);
    if (rc != 0) {
        int e = siam_atomic_file_errno(af);
        siam_atomic_file_abort(af);
        return siam_fail(err, "table: writing %s failed: %s", path, strerror(e ? e : EIO));
    }
    return siam_atomic_file_commit(af, err);
}

/* Growable text for one field. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_put(strbuf *b, char ch)
{
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char *s = realloc(b->s, cap);
        if (!s)
            return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = ch;
    b->s[b->len] = '\0';
    return 0;
}

typedef struct csv_state {
    char **fields;
    size_t n, cap;
    char **header;
    size_t nheader;
} csv_state;

static int push_field(csv_state *st, strbuf *f)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        char **fs = realloc(st->fields, cap * sizeof *fs);
        if (!fs)
            return -1;
        st->fields = fs;
        st->cap = cap;
    }
    char *copy = strdup(f->s ? f->s : "");
    if (!copy)
        return -1;
    st->fields[st->n++] = copy;
    f->len = 0;
    if (f->s)
        f->s[0] = '\0';
    return 0;
}

static void clear_fields(csv_state *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->fields[i]);
    st->n = 0;
}

/* A header names every column once. */
static int check_header(const csv_state *st, const char *source, size_t line, siam_error *err)
{
    for (size_t i = 0; i < st->nheader; i++) {
        if (st->header[i][0] == '\0')
            return siam_fail(err, "%s:%zu: column %zu of the header has no name", source, line,
                             i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(st->header[i], st->header[j]) == 0)
                return siam_fail(err, "%s:%zu: column '%s' appears twice in the header", source,
                                 line, st->header[i]);
    }
    return 0;
}

/* One complete record: the header when none is held yet, else a row with
 * exactly the header's number of fields (what the writer writes). */
static int end_record(siam_table *t, csv_state *st, const char *source, size_t line,
                      siam_error *err)
{
    if (st->n == 1 && st->fields[0][0] == '\0') { /* blank line */
        clear_fields(st);
        return 0;
    }
    if (!st->header) {
        st->header = st->fields;
        st->nheader = st->n;
        st->fields = NULL;
        st->n = st->cap = 0;
        return check_header(st, source, line, err);
    }
    if (st->n != st->nheader) {
        siam_fail(err, "%s:%zu: %zu field%s, the header has %zu", source, line, st->n,
                  st->n == 1 ? "" : "s", st->nheader);
        clear_fields(st);
        return -1;
    }
    long r = siam_table_add_row(t, err);
    int rc = r < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < st->n; i++)
        if (st->fields[i][0])
            rc = siam_table_set(t, (size_t)r, st->header[i], st->fields[i], err);
    clear_fields(st);
    return rc;
}

int siam_table_read_csv(siam_table *t, const char *text, size_t len, const char *source,
                        siam_error *err)
{
    csv_state st = {0};
    strbuf f = {0};
    size_t line = 1, record_line = 1, quote_line = 0, quote_col = 0;
    const char *line_start = text, *end = text + len;
    int in_quotes = 0, was_quoted = 0, rc = 0, pending = 0;
    /* rc: 0 fine, -1 out of memory, -2 failed with the message in err. */
    for (const char *p = text; p < end && rc == 0; p++) {
        unsigned char ch = (unsigned char)*p;
        size_t col = (size_t)(p - line_start) + 1;
        if (ch == '\0') {
            rc = siam_fail(err, "%s:%zu:%zu: a NUL byte: binary data, not CSV text", source,
                           line, col) - 1;
        } else if (in_quotes) {
            if (ch == '"' && p + 1 < end && p[1] == '"') {
                rc = sb_put(&f, '"');
                p++;
            } else if (ch == '"') {
                in_quotes = 0;
            } else {
                if (ch == '\n') {
                    line++;
                    line_start = p + 1;
                }
                rc = sb_put(&f, (char)ch);
            }
            continue;
        }
        if (rc)
            break;
        pending = 1;
        if (ch == '"' && f.len == 0 && !was_quoted) {
            in_quotes = was_quoted = 1;
            quote_line = line;
            quote_col = col;
        } else if (ch == ',') {
            rc = push_field(&st, &f);
            was_quoted = 0;
        } else if (ch == '\n' || (ch == '\r' && p + 1 < end && p[1] == '\n')) {
            if (ch == '\r')
                p++;
            rc = push_field(&st, &f);
            if (rc == 0)
                rc = end_record(t, &st, source, record_line, err) ? -2 : 0;
            was_quoted = pending = 0;
            record_line = ++line;
            line_start = p + 1;
        } else if (was_quoted) {
            rc = siam_fail(err, "%s:%zu:%zu: text after a closing quote", source, line, col) - 1;
        } else if (ch == '"') {
            rc = siam_fail(err, "%s:%zu:%zu: a quote inside an unquoted field (quote the whole "
                                "field and double the quote)", source, line, col) - 1;
        } else if (is_control(ch)) {
            rc = siam_fail(err, "%s:%zu:%zu: control character 0x%02x outside a quoted field: "
                                "not CSV text", source, line, col, ch) - 1;
        } else {
            rc = sb_put(&f, (char)ch);
        }
    }
    if (rc == 0 && in_quotes)
        rc = siam_fail(err, "%s:%zu:%zu: quoted field never closed", source, quote_line,
                       quote_col) - 1;
    if (rc == 0 && pending) {
        rc = push_field(&st, &f);
        if (rc == 0)
            rc = end_record(t, &st, source, record_line, err) ? -2 : 0;
    }
    if (rc == -1)
        siam_fail(err, "%s: out of memory reading CSV", source);
    clear_fields(&st);
    free(st.fields);
    for (size_t i = 0; i < st.nheader; i++)
        free(st.header[i]);
    free(st.header);
    free(f.s);
    return rc == 0 ? 0 : -1;
}

int siam_table_load_csv(siam_table *t, const char *path, siam_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return siam_fail(err, "table: cannot read %s: %s", path, strerror(errno));
    strbuf b = {0};
    int ch, oom = 0;
    while ((ch = fgetc(fp)) != EOF && !oom)
        oom = sb_put(&b, (char)ch) != 0;
    int bad = ferror(fp);
    fclose(fp);
    if (oom || bad) {
        free(b.s);
        return siam_fail(err, "table: %s reading %s", oom ? "out of memory" : "read error",
                         path);
    }
    int rc = siam_table_read_csv(t, b.s ? b.s : "", b.len, path, err);
    free(b.s);
    return rc;
}
