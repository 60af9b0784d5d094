/* LFW pairs-file parser: View 1 and View 2 files, CRLF and spaces, and the
 * exact message for every malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host/lfw_pairs.h"
#include "tests/support/data_fixture.h"

static siam_pair_list *parse(const char *text, siam_error *e)
{
    return siam_pair_list_parse("f.txt", text, strlen(text), e);
}

static void expect_entry(const siam_pair_entry *e, const char *a, int na, const char *b, int nb,
                         int label, int fold, int line)
{
    assert_string_equal(e->name_a, a);
    assert_int_equal(e->num_a, na);
    assert_string_equal(e->name_b, b);
    assert_int_equal(e->num_b, nb);
    assert_int_equal(e->label, label);
    assert_int_equal(e->fold, fold);
    assert_int_equal(e->line, line);
}

static void view1_tabs_and_spaces(void **state)
{
    (void)state;
    siam_error e;
    siam_pair_list *pl = parse("2\nAaron_Peirsol\t1\t2\nB  3 4\nA\t1\tB\t2\n C 1 D_E-F 13 \n", &e);
    assert_non_null(pl);
    assert_int_equal(pl->count, 4);
    assert_int_equal(pl->folds, 1);
    assert_int_equal(pl->per_fold, 2);
    expect_entry(&pl->entries[0], "Aaron_Peirsol", 1, "Aaron_Peirsol", 2, 1, 0, 2);
    expect_entry(&pl->entries[1], "B", 3, "B", 4, 1, 0, 3);
    expect_entry(&pl->entries[2], "A", 1, "B", 2, 0, 0, 4);
    expect_entry(&pl->entries[3], "C", 1, "D_E-F", 13, 0, 0, 5);
    siam_pair_list_free(pl);
}

static void crlf_and_trailing_blank_lines(void **state)
{
    (void)state;
    siam_error e;
    siam_pair_list *pl = parse("1\r\nA\t1\t2\r\nA\t1\tB\t1\r\n\r\n\n", &e);
    assert_non_null(pl);
    assert_int_equal(pl->count, 2);
    expect_entry(&pl->entries[0], "A", 1, "A", 2, 1, 0, 2);
    expect_entry(&pl->entries[1], "A", 1, "B", 1, 0, 0, 3);
    siam_pair_list_free(pl);
    /* No final newline at all. */
    pl = parse("1\nA 1 2\nA 1 B 1", &e);
    assert_non_null(pl);
    assert_int_equal(pl->count, 2);
    siam_pair_list_free(pl);
}

static void view2_keeps_folds(void **state)
{
    (void)state;
    siam_error e;
    siam_pair_list *pl = parse("2\t1\nA 1 2\nA 1 B 1\nC 1 2\nC 2 D 1\n", &e);
    assert_non_null(pl);
    assert_int_equal(pl->folds, 2);
    assert_int_equal(pl->per_fold, 1);
    assert_int_equal(pl->count, 4);
    expect_entry(&pl->entries[0], "A", 1, "A", 2, 1, 0, 2);
    expect_entry(&pl->entries[1], "A", 1, "B", 1, 0, 0, 3);
    expect_entry(&pl->entries[2], "C", 1, "C", 2, 1, 1, 4);
    expect_entry(&pl->entries[3], "C", 2, "D", 1, 0, 1, 5);
    siam_pair_list_free(pl);
}

static void hash_follows_content_and_file_read_matches(void **state)
{
    (void)state;
    siam_error e;
    const char *text = "1\nA 1 2\nA 1 B 1\n";
    siam_pair_list *a = parse(text, &e);
    siam_pair_list *b = parse("1\nA 1 3\nA 1 B 1\n", &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->hash != b->hash);
    char *dir = siam_fixture_tmpdir();
    char *path = siam_fixture_write(dir, "pairs.txt", text, strlen(text));
    siam_pair_list *c = siam_pair_list_read(path, &e);
    assert_non_null(c);
    assert_true(a->hash == c->hash);
    assert_string_equal(c->path, path);
    assert_int_equal(c->count, 2);
    expect_entry(&c->entries[1], "A", 1, "B", 1, 0, 0, 3);
    siam_pair_list_free(a);
    siam_pair_list_free(b);
    siam_pair_list_free(c);
    siam_fixture_rmdir(dir);
    free(path);
    free(dir);
}

static void expect_error(const char *text, const char *msg)
{
    siam_error e = {{0}};
    siam_pair_list *pl = parse(text, &e);
    if (pl != NULL) {
        siam_pair_list_free(pl);
        fail_msg("accepted: %s", text);
    }
    assert_string_equal(e.msg, msg);
}

static void bad_headers(void **state)
{
    (void)state;
    expect_error("", "f.txt:1: empty file, expected the header \"N\" or \"folds N\"");
    expect_error("x\n", "f.txt:1: pair count \"x\" is not a positive integer: \"x\"");
    expect_error("0\n", "f.txt:1: pair count \"0\" is not a positive integer: \"0\"");
    expect_error("-3\n", "f.txt:1: pair count \"-3\" is not a positive integer: \"-3\"");
    expect_error("1 2 3\n", "f.txt:1: the header must be \"N\" (View 1) or \"folds N\" "
                            "(View 2): \"1 2 3\"");
    expect_error("\n1\n", "f.txt:1: the header must be \"N\" (View 1) or \"folds N\" "
                          "(View 2): \"\"");
    expect_error("10 x\n", "f.txt:1: pair count \"x\" is not a positive integer: \"10 x\"");
    expect_error("y 300\n", "f.txt:1: fold count \"y\" is not a positive integer: \"y 300\"");
}

static void counts_that_do_not_match_the_header(void **state)
{
    (void)state;
    expect_error("2\nA 1 2\nB 1 2\nA 1 B 1\n",
                 "f.txt:4: the file ends after 3 pairs, but the header \"2\" announces 4");
    expect_error("1\n", "f.txt:1: the file ends after 0 pairs, but the header \"1\" announces 2");
    expect_error("1\nA 1 2\nA 1 B 1\nC 1 D 1\n",
                 "f.txt:4: more pairs than the header \"1\" announces (2): \"C 1 D 1\"");
    expect_error("2 1\nA 1 2\nA 1 B 1\n",
                 "f.txt:3: the file ends after 2 pairs, but the header \"2 1\" announces 4");
    /* A line of the other kind where the header's counts put one kind: the
     * message names the header's count, not only the fields. */
    expect_error("2\nA 1 2\nA 1 B 1\nB 1 2\nC 1 D 1\n",
                 "f.txt:3: the header says 2 matched pairs; line 3 is a mismatched pair: "
                 "\"A 1 B 1\"");
    expect_error("1\nA 1 2\nA 1 2\n",
                 "f.txt:3: the header says 1 matched pair; line 3 is another matched pair: "
                 "\"A 1 2\"");
    expect_error("2 1\nA 1 2\nA 1 B 1\nA 1 2\nA 1 2\n",
                 "f.txt:5: the header says 1 matched pair per fold; line 5 (fold 2) is another "
                 "matched pair: \"A 1 2\"");
}

static void bad_pair_lines(void **state)
{
    (void)state;
    expect_error("1\nA 1 2 3\nA 1 B 1\n",
                 "f.txt:2: expected 3 fields (name n1 n2) for a matched pair, got 4: "
                 "\"A 1 2 3\"");
    expect_error("1\nA 1 2\n2 1 2\n",
                 "f.txt:3: expected 4 fields (name1 n1 name2 n2) for a mismatched pair, got 3: "
                 "\"2 1 2\"");
    expect_error("1\nA\t1\nA 1 B 1\n",
                 "f.txt:2: expected 3 fields (name n1 n2) for a matched pair, got 2: \"A\\t1\"");
    expect_error("1\nA x 2\nA 1 B 1\n",
                 "f.txt:2: image number \"x\" is not a positive integer: \"A x 2\"");
    expect_error("1\nA 1 2\nA 1 B 0\n",
                 "f.txt:3: image number \"0\" is not a positive integer: \"A 1 B 0\"");
    expect_error("1\nA -1 2\nA 1 B 1\n",
                 "f.txt:2: image number \"-1\" is not a positive integer: \"A -1 2\"");
    expect_error("1\nA 1 2.5\nA 1 B 1\n",
                 "f.txt:2: image number \"2.5\" is not a positive integer: \"A 1 2.5\"");
    expect_error("1\nA 1 99999999999\nA 1 B 1\n",
                 "f.txt:2: image number \"99999999999\" is out of range (1..1000000): "
                 "\"A 1 99999999999\"");
    expect_error("2\nA 1 2\n\nB 1 2\nA 1 B 1\nC 1 D 1\n",
                 "f.txt:3: blank line inside the pair list: \"\"");
    expect_error("1\n../etc 1 2\nA 1 B 1\n",
                 "f.txt:2: bad person name \"../etc\": \"../etc 1 2\"");
    expect_error("1\nA 1 2\nA 1 x/y 1\n", "f.txt:3: bad person name \"x/y\": \"A 1 x/y 1\"");
}

static void missing_file(void **state)
{
    (void)state;
    siam_error e;
    assert_null(siam_pair_list_read("/nonexistent-siam/pairs.txt", &e));
    assert_string_equal(e.msg, "/nonexistent-siam/pairs.txt: cannot open pairs file: No such "
                               "file or directory");
    siam_pair_list_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view1_tabs_and_spaces),
        cmocka_unit_test(crlf_and_trailing_blank_lines),
        cmocka_unit_test(view2_keeps_folds),
        cmocka_unit_test(hash_follows_content_and_file_read_matches),
        cmocka_unit_test(bad_headers),
        cmocka_unit_test(counts_that_do_not_match_the_header),
        cmocka_unit_test(bad_pair_lines),
        cmocka_unit_test(missing_file),
    };
    return cmocka_run_group_tests_name("data_pairs", tests, NULL, NULL);
}
