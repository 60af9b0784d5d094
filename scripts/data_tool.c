/* A small command-line front end to the data path until the siamlua host
 * exposes it (scripts/data_summary.sh and scripts/bench_data.sh build and run
 * it):
 *   data_tool summary [LFW_DIR]   the seed report's Part 1 summary
 *   data_tool bench [LFW_DIR]     load timings (host/data_bench.h)
 * LFW_DIR is found as the program does: argument, $LFW_DIR, ./data/lfw, else
 * the synthetic set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/data_bench.h"
#include "host/data_summary.h"
#include "host/dataset.h"
#include "host/lfw_find.h"
#include "host/lfw_load.h"

static int summary(const siam_data_location *loc, siam_error *err)
{
    siam_load_report rep;
    siam_pairset *train = siam_pairset_load(loc->train, loc->image_root, NULL, &rep, err);
    siam_pairset *test = train ? siam_pairset_load(loc->test, loc->image_root, NULL, &rep, err)
                               : NULL;
    int rc = test ? siam_data_summary_print(stdout, train, test, err) : -1;
    siam_pairset_free(train);
    siam_pairset_free(test);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "summary") != 0 && strcmp(argv[1], "bench") != 0)) {
        fprintf(stderr, "usage: data_tool summary|bench [LFW_DIR]\n");
        return 2;
    }
    siam_error err;
    siam_data_location loc;
    if (siam_lfw_find(&loc, argc > 2 ? argv[2] : NULL, NULL, &err) < 0) {
        fprintf(stderr, "data_tool: %s\n", err.msg);
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "summary") == 0) {
        printf("%s\n", loc.message);
        rc = summary(&loc, &err);
    } else {
        const char *tmp = getenv("TMPDIR");
        siam_data_bench b;
        rc = siam_data_bench_run(&b, &loc, tmp && *tmp ? tmp : "/tmp", 0, 1, &err);
        if (rc == 0)
            siam_data_bench_print(stdout, &b, &loc);
        double synth_s;
        if (rc == 0)
            rc = siam_data_bench_synth(&synth_s, tmp && *tmp ? tmp : "/tmp", &err);
        if (rc == 0)
            printf("%-34s %6d images %8.3f s\n", "default synthetic set written", 200 * 10,
                   synth_s);
    }
    if (rc < 0) {
        fprintf(stderr, "data_tool: %s\n", err.msg);
        return 1;
    }
    return 0;
}
