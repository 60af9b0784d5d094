/* results_table: stable numeric ranking with failed/NaN rows last, exact
 * text/CSV/Markdown output, CSV quoting round trips, shard merging and the
 * CSV reader's error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/results_table.h"
#include "kernels/philox.h"

typedef int (*writer)(const siam_table *, FILE *);

static char *render(const siam_table *t, writer w)
{
    char *text = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&text, &n);
    assert_int_equal(w(t, fp), 0);
    fclose(fp);
    return text;
}

static siam_table *grid_table(void)
{
    siam_error e;
    siam_table *t = siam_table_new(&e);
    const char *ids[4] = {"c1", "c2", "c3", "c4"};
    const char *status[4] = {"done", "NaN", "done", "failed"};
    const double acc[4] = {0.75, NAN, 0.8125, 0};
    for (int i = 0; i < 4; i++) {
        long r = siam_table_add_row(t, &e);
        assert_int_equal(r, i);
        assert_int_equal(siam_table_set(t, (size_t)r, "id", ids[i], &e), 0);
        assert_int_equal(siam_table_set_number(t, (size_t)r, "lr", i == 2 ? 1e-4 : 1e-3, &e), 0);
        assert_int_equal(siam_table_set(t, (size_t)r, "status", status[i], &e), 0);
        if (i != 3)
            assert_int_equal(siam_table_set_number(t, (size_t)r, "val_acc", acc[i], &e), 0);
    }
    return t;
}

static void sort_ranks_finished_runs_first(void **state)
{
    (void)state;
    siam_error e;
    siam_table *t = grid_table();
    assert_int_equal(siam_table_sort(t, "val_acc", 1, &e), 0);
    assert_int_equal(siam_table_cols(t), 5);
    assert_string_equal(siam_table_col_name(t, 0), "rank");
    assert_string_equal(siam_table_col_name(t, 1), "id");
    const char *order[4] = {"c3", "c1", "c2", "c4"};
    for (size_t r = 0; r < 4; r++) {
        assert_string_equal(siam_table_get(t, r, "id"), order[r]);
        char rank[8];
        snprintf(rank, sizeof rank, "%zu", r + 1);
        assert_string_equal(siam_table_get(t, r, "rank"), rank);
    }
    assert_null(siam_table_get(t, 3, "val_acc"));
    assert_null(siam_table_get(t, 0, "no_such_key"));

    char *text = render(t, siam_table_print);
    assert_string_equal(text,
        "rank  id      lr  status  val_acc\n"
        "----  --  ------  ------  -------\n"
        "   1  c3  0.0001  done     0.8125\n"
        "   2  c1   0.001  done       0.75\n"
        "   3  c2   0.001  NaN         nan\n"
        "   4  c4   0.001  failed         \n");
    free(text);
    text = render(t, siam_table_write_markdown);
    assert_string_equal(text,
        "| rank | id | lr | status | val_acc |\n"
        "| ---: | --- | ---: | --- | ---: |\n"
        "| 1 | c3 | 0.0001 | done | 0.8125 |\n"
        "| 2 | c1 | 0.001 | done | 0.75 |\n"
        "| 3 | c2 | 0.001 | NaN | nan |\n"
        "| 4 | c4 | 0.001 | failed |  |\n");
    free(text);

    /* Ascending and stable: equal lr keep their current order. */
    assert_int_equal(siam_table_sort(t, "lr", 0, &e), 0);
    const char *by_lr[4] = {"c3", "c1", "c2", "c4"};
    for (size_t r = 0; r < 4; r++)
        assert_string_equal(siam_table_get(t, r, "id"), by_lr[r]);
    assert_int_equal(siam_table_cols(t), 5);
    assert_int_equal(siam_table_sort(t, "val_loss", 0, &e), -1);
    assert_string_equal(e.msg, "table: cannot sort by 'val_loss': no such column");
    assert_int_equal(siam_table_set(t, 9, "id", "x", &e), -1);
    assert_string_equal(e.msg, "table: row 9 does not exist (4 rows)");
    siam_table_free(t);
    siam_table_free(NULL);
}

/* A diverged run keeps the validation accuracy of its last finite epochs;
 * demoted by its status it still ranks below every finished run. */
static void sort_demotes_by_status(void **state)
{
    (void)state;
    siam_error e;
    siam_table *t = grid_table();
    assert_int_equal(siam_table_set(t, 1, "status", "nan", &e), 0);
    assert_int_equal(siam_table_set_number(t, 1, "val_acc", 0.9, &e), 0);
    assert_int_equal(siam_table_sort(t, "val_acc", 1, &e), 0);
    assert_string_equal(siam_table_get(t, 0, "id"), "c2"); /* undemoted: on top */
    const char *const last[] = {"failed", "nan", NULL};
    assert_int_equal(siam_table_sort_demoting(t, "val_acc", 1, "status", last, &e), 0);
    const char *order[4] = {"c3", "c1", "c2", "c4"};
    for (size_t r = 0; r < 4; r++)
        assert_string_equal(siam_table_get(t, r, "id"), order[r]);
    /* a column nobody has demotes nothing */
    assert_int_equal(siam_table_sort_demoting(t, "lr", 0, "nope", last, &e), 0);
    assert_string_equal(siam_table_get(t, 0, "id"), "c3");
    siam_table_free(t);
}

/* siam_table_read_csv over a C string. */
static int read_text(siam_table *t, const char *text, const char *source, siam_error *e)
{
    return siam_table_read_csv(t, text, strlen(text), source, e);
}

static void csv_quotes_and_round_trips(void **state)
{
    (void)state;
    siam_error e;
    siam_table *t = siam_table_new(&e);
    siam_table_add_row(t, &e);
    siam_table_add_row(t, &e);
    siam_table_set(t, 0, "name", "a,b", &e);
    siam_table_set(t, 0, "note", "say \"hi\"", &e);
    siam_table_set(t, 1, "name", " padded", &e);
    siam_table_set(t, 1, "note", "two\nlines", &e);
    siam_table_set(t, 1, "x|y", "p|q", &e);
    char *csv = render(t, siam_table_write_csv);
    assert_string_equal(csv, "name,note,x|y\n"
                             "\"a,b\",\"say \"\"hi\"\"\",\n"
                             "\" padded\",\"two\nlines\",p|q\n");
    char *md = render(t, siam_table_write_markdown);
    assert_string_equal(md, "| name | note | x\\|y |\n| --- | --- | --- |\n"
                            "| a,b | say \"hi\" |  |\n|  padded | two lines | p\\|q |\n");
    free(md);
    siam_table *back = siam_table_new(&e);
    assert_int_equal(read_text(back, csv, "mem", &e), 0);
    assert_int_equal(siam_table_rows(back), 2);
    assert_string_equal(siam_table_get(back, 1, "note"), "two\nlines");
    assert_null(siam_table_get(back, 0, "x|y"));
    char *again = render(back, siam_table_write_csv);
    assert_string_equal(again, csv);
    free(again);
    free(csv);
    siam_table_free(back);
    siam_table_free(t);

    /* CRLF line ends and a missing final newline read the same. */
    t = siam_table_new(&e);
    assert_int_equal(read_text(t, "a,b\r\n1,2\r\n\r\n3,\"4\"", "crlf", &e), 0);
    assert_int_equal(siam_table_rows(t), 2);
    assert_string_equal(siam_table_get(t, 1, "b"), "4");
    siam_table_free(t);
}

static void shards_merge_into_one_ranking(void **state)
{
    (void)state;
    siam_error e;
    char dir[] = "/tmp/siam_table_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[64], b[64], md[64];
    snprintf(a, sizeof a, "%s/shard0.csv", dir);
    snprintf(b, sizeof b, "%s/shard1.csv", dir);
    snprintf(md, sizeof md, "%s/grid.md", dir);
    siam_table *s0 = siam_table_new(&e), *s1 = siam_table_new(&e);
    siam_table_add_row(s0, &e);
    siam_table_set(s0, 0, "id", "c1", &e);
    siam_table_set(s0, 0, "test_acc", "0.7", &e);
    siam_table_add_row(s1, &e);
    siam_table_set(s1, 0, "id", "c2", &e);
    siam_table_set(s1, 0, "test_acc", "0.9", &e);
    siam_table_set(s1, 0, "auc", "0.95", &e);
    assert_int_equal(siam_table_save(s0, a, SIAM_TABLE_CSV, &e), 0);
    assert_int_equal(siam_table_save(s1, b, SIAM_TABLE_CSV, &e), 0);
    siam_table *all = siam_table_new(&e);
    assert_int_equal(siam_table_load_csv(all, a, &e), 0);
    assert_int_equal(siam_table_load_csv(all, b, &e), 0);
    assert_int_equal(siam_table_sort(all, "test_acc", 1, &e), 0);
    assert_int_equal(siam_table_save(all, md, SIAM_TABLE_MARKDOWN, &e), 0);
    FILE *fp = fopen(md, "r");
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_string_equal(buf, "| rank | id | test_acc | auc |\n| ---: | --- | ---: | ---: |\n"
                             "| 1 | c2 | 0.9 | 0.95 |\n| 2 | c1 | 0.7 |  |\n");
    char c[64];
    snprintf(c, sizeof c, "%s/missing.csv", dir);
    assert_int_equal(siam_table_load_csv(all, c, &e), -1);
    char want[160];
    snprintf(want, sizeof want, "table: cannot read %s: No such file or directory", c);
    assert_string_equal(e.msg, want);
    siam_table_free(s0);
    siam_table_free(s1);
    siam_table_free(all);
    remove(a), remove(b), remove(md), remove(dir);
}

static void csv_errors_name_the_line(void **state)
{
    (void)state;
    siam_error e;
    siam_table *t = siam_table_new(&e);
    assert_int_equal(read_text(t, "a,b\n1,2\n\"open,3\n4,5\n", "g.csv", &e), -1);
    assert_string_equal(e.msg, "g.csv:3:1: quoted field never closed");
    assert_int_equal(read_text(t, "a,b\n1,2,3\n", "h.csv", &e), -1);
    assert_string_equal(e.msg, "h.csv:2: 3 fields, the header has 2");
    assert_int_equal(read_text(t, "a\n\"x\"y\n", "i.csv", &e), -1);
    assert_string_equal(e.msg, "i.csv:2:4: text after a closing quote");
    siam_table_free(t);
}

/* Random bytes, binary data and every other departure from the CSV the
 * writer writes are errors with the line and column; empty text, blank
 * lines and a header alone are an empty table. */
static void csv_reader_refuses_what_is_not_csv(void **state)
{
    (void)state;
    siam_error e;
    siam_table *t = siam_table_new(&e);
    unsigned char rnd[4096];
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (unsigned char)(siam_philox_uniform(5, 0, i) * 256.0f);
    assert_int_equal(siam_table_read_csv(t, (const char *)rnd, sizeof rnd, "rnd.bin", &e), -1);
    print_message("random bytes: %s\n", e.msg);
    assert_true(strncmp(e.msg, "rnd.bin:1:", 10) == 0);
    assert_non_null(strstr(e.msg, "not CSV text"));
    const struct {
        const char *text;
        size_t len;
        const char *msg;
    } bad[] = {
        { "a,b\n1,\0002\n", 9, "x.csv:2:3: a NUL byte: binary data, not CSV text" },
        { "a,b\n1,\x01\n", 0, "x.csv:2:3: control character 0x01 outside a quoted field: not "
                               "CSV text" },
        { "a,b\r1,2\n", 0, "x.csv:1:4: control character 0x0d outside a quoted field: not CSV "
                           "text" },
        { "a,b\n1,x\"y\n", 0, "x.csv:2:4: a quote inside an unquoted field (quote the whole "
                              "field and double the quote)" },
        { "a,b,c\n1,2\n", 0, "x.csv:2: 2 fields, the header has 3" },
        { "a,b\n1\n", 0, "x.csv:2: 1 field, the header has 2" },
        { "a,,c\n1,2,3\n", 0, "x.csv:1: column 2 of the header has no name" },
        { "a,b,a\n", 0, "x.csv:1: column 'a' appears twice in the header" },
        { "a\n\"x\"\"\ny\n", 0, "x.csv:2:1: quoted field never closed" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        siam_table *u = siam_table_new(&e);
        assert_int_equal(siam_table_read_csv(u, bad[i].text, len, "x.csv", &e), -1);
        assert_string_equal(e.msg, bad[i].msg);
        siam_table_free(u);
    }
    const char *empty[] = { "", "\n", "\r\n\n", "a,b\n", "a,b" };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        siam_table *u = siam_table_new(&e);
        assert_int_equal(read_text(u, empty[i], "e.csv", &e), 0);
        assert_int_equal(siam_table_rows(u), 0);
        siam_table_free(u);
    }
    /* What the writer writes for an empty table, and a cell holding control
     * characters (quoted on the way out), read back. */
    siam_table *u = siam_table_new(&e);
    char *csv = render(u, siam_table_write_csv);
    assert_int_equal(read_text(t, csv, "empty", &e), 0);
    assert_int_equal(siam_table_rows(t), 0);
    free(csv);
    siam_table_add_row(u, &e);
    siam_table_set(u, 0, "note", "bell\a and\ttab", &e);
    csv = render(u, siam_table_write_csv);
    assert_string_equal(csv, "note\n\"bell\a and\ttab\"\n");
    assert_int_equal(read_text(t, csv, "ctl", &e), 0);
    assert_string_equal(siam_table_get(t, 0, "note"), "bell\a and\ttab");
    free(csv);
    siam_table_free(u);
    siam_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sort_ranks_finished_runs_first),
        cmocka_unit_test(sort_demotes_by_status),
        cmocka_unit_test(csv_quotes_and_round_trips),
        cmocka_unit_test(shards_merge_into_one_ranking),
        cmocka_unit_test(csv_errors_name_the_line),
        cmocka_unit_test(csv_reader_refuses_what_is_not_csv),
    };
    return cmocka_run_group_tests_name("results_table", tests, NULL, NULL);
}
