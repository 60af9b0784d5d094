/* LFW pairs-file parser (format in host/lfw_pairs.h). The file is read whole
 * and tokenised in place: entries point at NUL-terminated names inside it. */
#include "host/lfw_pairs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/escape.h"
#include "host/hash.h"
#include "host/read_stream.h"
#include "host/regular_file.h"

/* Longest excerpt of a bad line quoted in a message. */
#define QUOTE_MAX 160
#define MAX_FIELDS 6
/* LFW's largest image number is 530; anything this large is a typo. */
#define MAX_NUMBER 1000000
/* A person's name becomes a directory name and, with "_NNNN.jpg", a file
 * name: file systems allow 255 bytes. */
#define MAX_NAME 240

typedef struct field {
    char *s;
    size_t n;
} field;

typedef struct line_view {
    char *s; /* first byte of the line */
    size_t n; /* length without the line end */
    int no;  /* 1-based line number */
    int nfields;
    field f[MAX_FIELDS];
} line_view;

static int is_sep(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits a line into fields separated by runs of tabs/spaces; nfields counts
 * all of them, f[] keeps the first MAX_FIELDS. */
static void split_fields(line_view *lv)
{
    lv->nfields = 0;
    size_t i = 0;
    while (i < lv->n) {
        while (i < lv->n && is_sep(lv->s[i]))
            i++;
        if (i >= lv->n)
            break;
        size_t start = i;
        while (i < lv->n && !is_sep(lv->s[i]))
            i++;
        if (lv->nfields < MAX_FIELDS)
            lv->f[lv->nfields] = (field){lv->s + start, i - start};
        lv->nfields++;
    }
}

static int fail_line(siam_error *err, const char *name, const line_view *lv, const char *what)
{
    char shown[SIAM_ESCAPE_CAP(QUOTE_MAX)];
    siam_escape(shown, sizeof shown, lv->s, lv->n > QUOTE_MAX ? QUOTE_MAX : lv->n);
    return siam_fail(err, "%s:%d: %s: \"%s%s\"", name, lv->no, what, shown,
                     lv->n > QUOTE_MAX ? "..." : "");
}

/* A decimal integer in 1..MAX_NUMBER: its value; 0 for anything that is no
 * positive integer; -1 for one above MAX_NUMBER. */
static long parse_positive(const field *f)
{
    if (f->n == 0)
        return 0;
    long v = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->s[i] < '0' || f->s[i] > '9')
            return 0;
        if (v <= MAX_NUMBER)
            v = v * 10 + (f->s[i] - '0');
    }
    return v > MAX_NUMBER ? -1 : v;
}

static int check_number(siam_error *err, const char *name, const line_view *lv, const field *f,
                        const char *what, long *out)
{
    *out = parse_positive(f);
    if (*out > 0)
        return 0;
    char shown[SIAM_ESCAPE_CAP(40)], msg[256];
    siam_escape(shown, sizeof shown, f->s, f->n > 40 ? 40 : f->n);
    if (*out < 0)
        snprintf(msg, sizeof msg, "%s \"%s\" is out of range (1..%d)", what, shown, MAX_NUMBER);
    else
        snprintf(msg, sizeof msg, "%s \"%s\" is not a positive integer", what, shown);
    return fail_line(err, name, lv, msg);
}

/* A person name becomes a directory name: refuse anything that could leave
 * the image root, hide as a dot-file, or that no file system names a
 * directory (control characters, a name too long). */
static int check_name(siam_error *err, const char *name, const line_view *lv, const field *f)
{
    const char *why = NULL;
    if (f->s[0] == '.' || memchr(f->s, '/', f->n) != NULL || memchr(f->s, '\\', f->n) != NULL)
        why = "";
    for (size_t i = 0; i < f->n && !why; i++)
        if ((unsigned char)f->s[i] < 0x20 || f->s[i] == 0x7f)
            why = " (a control character)";
    char len[64];
    if (!why && f->n > MAX_NAME) {
        snprintf(len, sizeof len, " (%zu bytes, longer than a file name can be)", f->n);
        why = len;
    }
    if (!why)
        return 0;
    char shown[SIAM_ESCAPE_CAP(60)], msg[384];
    siam_escape(shown, sizeof shown, f->s, f->n > 60 ? 60 : f->n);
    snprintf(msg, sizeof msg, "bad person name \"%s%s\"%s", shown, f->n > 60 ? "..." : "", why);
    return fail_line(err, name, lv, msg);
}

/* Next line starting at *pos; returns 0 at the end of the text. */
static int next_line(char *text, size_t len, size_t *pos, int *lineno, line_view *lv)
{
    if (*pos >= len)
        return 0;
    char *s = text + *pos;
    char *nl = memchr(s, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - s) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    lv->s = s;
    lv->n = n;
    lv->no = ++*lineno;
    split_fields(lv);
    return 1;
}

static void terminate_fields(line_view *lv)
{
    for (int i = 0; i < lv->nfields && i < MAX_FIELDS; i++)
        lv->f[i].s[lv->f[i].n] = '\0';
}

static int parse_header(siam_pair_list *pl, const char *name, line_view *lv, siam_error *err)
{
    if (lv->nfields < 1 || lv->nfields > 2)
        return fail_line(err, name, lv,
                         "the header must be \"N\" (View 1) or \"folds N\" (View 2)");
    long a, b = 0;
    if (check_number(err, name, lv, &lv->f[0], lv->nfields == 1 ? "pair count" : "fold count",
                     &a) < 0)
        return -1;
    if (lv->nfields == 2 && check_number(err, name, lv, &lv->f[1], "pair count", &b) < 0)
        return -1;
    pl->folds = lv->nfields == 1 ? 1 : (int)a;
    pl->per_fold = lv->nfields == 1 ? (int)a : (int)b;
    return 0;
}

/* "1 matched pair", "19 matched pairs", with "per fold" for View 2. */
static void count_phrase(char *out, size_t cap, const siam_pair_list *pl, const char *kind)
{
    snprintf(out, cap, "%d %s pair%s%s", pl->per_fold, kind, pl->per_fold == 1 ? "" : "s",
             pl->folds > 1 ? " per fold" : "");
}

/* Whether the line reads as a well-formed pair of `fields` fields (3:
 * name n1 n2, 4: name1 n1 name2 n2): names are not numbers, numbers are. */
static int looks_like_pair(const line_view *lv, int fields)
{
    if (lv->nfields != fields || parse_positive(&lv->f[0]) != 0 ||
        parse_positive(&lv->f[1]) <= 0 || parse_positive(&lv->f[fields - 1]) <= 0)
        return 0;
    return fields == 3 || parse_positive(&lv->f[2]) == 0;
}

static int parse_pair(siam_pair_entry *e, size_t index, const siam_pair_list *pl,
                      const char *name, line_view *lv, siam_error *err)
{
    size_t per = 2 * (size_t)pl->per_fold;
    e->fold = (int)(index / per);
    e->label = index % per < (size_t)pl->per_fold;
    e->line = lv->no;
    int want = e->label ? 3 : 4;
    if (lv->nfields != want) {
        char msg[192], counts[64], fold[32] = "";
        if (pl->folds > 1)
            snprintf(fold, sizeof fold, " (fold %d)", e->fold + 1);
        count_phrase(counts, sizeof counts, pl, "matched");
        /* A line of the other kind means the header's count and the lines
         * disagree: say so, rather than only that a field is missing. */
        if (looks_like_pair(lv, 4))
            snprintf(msg, sizeof msg, "the header says %s; line %d%s is a mismatched pair",
                     counts, lv->no, fold);
        else if (looks_like_pair(lv, 3))
            snprintf(msg, sizeof msg, "the header says %s; line %d%s is another matched pair",
                     counts, lv->no, fold);
        else
            snprintf(msg, sizeof msg, "expected %d fields (%s) for a %s pair, got %d", want,
                     e->label ? "name n1 n2" : "name1 n1 name2 n2",
                     e->label ? "matched" : "mismatched", lv->nfields);
        return fail_line(err, name, lv, msg);
    }
    long n1, n2;
    const field *fa = &lv->f[0];
    const field *fb = e->label ? &lv->f[0] : &lv->f[2];
    const field *f1 = &lv->f[1];
    const field *f2 = e->label ? &lv->f[2] : &lv->f[3];
    if (check_name(err, name, lv, fa) < 0 || check_name(err, name, lv, fb) < 0 ||
        check_number(err, name, lv, f1, "image number", &n1) < 0 ||
        check_number(err, name, lv, f2, "image number", &n2) < 0)
        return -1;
    e->name_a = fa->s;
    e->name_b = fb->s;
    e->num_a = (int)n1;
    e->num_b = (int)n2;
    return 0;
}

/* Binary data is refused before any line is read: a NUL would end a name
 * early and hide the rest of its line. */
static int check_text(const char *name, const char *text, size_t len, siam_error *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul == NULL)
        return 0;
    int line = 1;
    const char *start = text;
    for (const char *p = text; p < nul; p++)
        if (*p == '\n') {
            line++;
            start = p + 1;
        }
    return siam_fail(err, "%s:%d:%d: a NUL byte: binary data, not a pairs file", name, line,
                     (int)(nul - start) + 1);
}

siam_pair_list *siam_pair_list_parse(const char *name, const char *bytes, size_t len,
                                     siam_error *err)
{
    siam_pair_list *pl = calloc(1, sizeof *pl);
    if (pl == NULL || (pl->text = malloc(len + 1)) == NULL ||
        (pl->path = strdup(name)) == NULL) {
        siam_pair_list_free(pl);
        siam_fail(err, "%s: out of memory reading the pairs file", name);
        return NULL;
    }
    if (len > 0)
        memcpy(pl->text, bytes, len);
    pl->text[len] = '\0';
    pl->hash = siam_hash64(SIAM_HASH64_INIT, bytes, len);

    if (check_text(name, pl->text, len, err) < 0)
        goto fail;
    /* A UTF-8 byte-order mark, which some editors put first, is no part of
     * the header (the hash above still covers it). */
    size_t pos = len >= 3 && memcmp(pl->text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    int lineno = 0;
    line_view lv;
    if (!next_line(pl->text, len, &pos, &lineno, &lv)) {
        siam_fail(err, "%s:1: empty file, expected the header \"N\" or \"folds N\"", name);
        goto fail;
    }
    if (parse_header(pl, name, &lv, err) < 0)
        goto fail;
    size_t expected = (size_t)pl->folds * 2 * (size_t)pl->per_fold;
    /* The header is untrusted: cap the allocation by what the text can hold
     * (a pair line takes at least 6 bytes) so a bad count cannot exhaust
     * memory before the count check reports it. */
    size_t cap = expected < len / 6 + 1 ? expected : len / 6 + 1;
    pl->entries = calloc(cap ? cap : 1, sizeof *pl->entries);
    if (pl->entries == NULL) {
        siam_fail(err, "%s: out of memory for %zu pairs", name, expected);
        goto fail;
    }
    char header[64];
    if (lv.nfields == 1)
        snprintf(header, sizeof header, "%d", pl->per_fold);
    else
        snprintf(header, sizeof header, "%d %d", pl->folds, pl->per_fold);
    int blank_line = 0;
    while (next_line(pl->text, len, &pos, &lineno, &lv)) {
        if (lv.nfields == 0) {
            if (!blank_line)
                blank_line = lv.no;
            continue;
        }
        if (blank_line) {
            lv.no = blank_line;
            lv.n = 0;
            fail_line(err, name, &lv, "blank line inside the pair list");
            goto fail;
        }
        if (pl->count == expected) {
            char msg[128];
            snprintf(msg, sizeof msg, "more pairs than the header \"%s\" announces (%zu)", header,
                     expected);
            fail_line(err, name, &lv, msg);
            goto fail;
        }
        if (pl->count == cap) {
            /* Only reachable when the text is denser than 6 bytes a line,
             * which no valid line is. */
            fail_line(err, name, &lv, "line too short to be a pair");
            goto fail;
        }
        if (parse_pair(&pl->entries[pl->count], pl->count, pl, name, &lv, err) < 0)
            goto fail;
        terminate_fields(&lv);
        pl->count++;
    }
    if (pl->count < expected) {
        siam_fail(err, "%s:%d: the file ends after %zu pair%s, but the header \"%s\" announces %zu",
                  name, lineno, pl->count, pl->count == 1 ? "" : "s", header, expected);
        goto fail;
    }
    return pl;
fail:
    siam_pair_list_free(pl);
    return NULL;
}

siam_pair_list *siam_pair_list_read(const char *path, siam_error *err)
{
    FILE *f = siam_open_regular(path, "pairs file", err);
    if (f == NULL)
        return NULL;
    size_t len;
    int read_error;
    char *buf = siam_read_stream(f, &len, &read_error);
    int saved = errno;
    fclose(f);
    if (buf == NULL) {
        siam_fail(err, "%s: out of memory reading the pairs file", path);
        return NULL;
    }
    if (read_error) {
        free(buf);
        siam_fail(err, "%s: cannot read the pairs file: %s", path, strerror(saved));
        return NULL;
    }
    siam_pair_list *pl = siam_pair_list_parse(path, buf, len, err);
    free(buf);
    return pl;
}

void siam_pair_list_free(siam_pair_list *pl)
{
    if (pl == NULL)
        return;
    free(pl->entries);
    free(pl->text);
    free(pl->path);
    free(pl);
}
