#!/usr/bin/python3
"""Writes tests/fixtures/plateau.h: torch.optim.lr_scheduler.ReduceLROnPlateau
fed fixed metric sequences, its lr and state after every step, as C
constants for tests/test_plateau.c. Run by hand from the repository root
with Debian's interpreter (python3-torch):

    /usr/bin/python3 scripts/make_plateau_fixture.py > tests/fixtures/plateau.h

The build and the tests never need Python; the header is committed.
"""

import math
import sys

try:
    import torch
except ImportError as exc:
    sys.exit("make_plateau_fixture.py needs PyTorch (Debian: python3-torch); run it with "
             "/usr/bin/python3 (%s)" % exc)

NAN = float("nan")
# Falls, stalls, noise around a plateau, a NaN, a rise: every branch of step().
FALLING = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.65, 0.6501, 0.66, 0.64, NAN, 0.64,
           0.63999, 0.7, 0.72, 0.5, 0.5, 0.5, 0.49, 0.52, 0.48, 0.48, 0.481, 0.47, 0.47,
           0.46, 0.5, 0.5, 0.5, 0.5]
RISING = [0.5, 0.55, 0.56, 0.565, 0.56, 0.57, 0.59, 0.591, 0.6, 0.6, 0.605, 0.62, 0.62,
          0.615, 0.63, 0.64, 0.641, 0.64, 0.65, 0.651, 0.652, 0.66, 0.66, 0.66, 0.67, 0.67,
          0.68, 0.681, 0.679, 0.69]
NEGATIVE = [-0.1, -0.2, -0.2, -0.19, -0.25, -0.25, -0.26, -0.3, -0.3, -0.3, -0.31, -0.3,
            -0.35, -0.35, -0.35, -0.36, -0.4, -0.4, -0.4, -0.41]

# name, base lr, metrics, kwargs (mode, factor, patience, threshold, threshold_mode,
# cooldown, min_lr, eps)
CASES = [
    ("defaults_patience2", 0.1, FALLING, dict(patience=2)),
    ("defaults", 0.1, FALLING, dict()),
    ("max_abs_cooldown", 0.01, RISING,
     dict(mode="max", factor=0.5, patience=1, threshold=0.005, threshold_mode="abs",
          cooldown=2)),
    ("max_rel", 0.01, RISING, dict(mode="max", factor=0.3, patience=0, threshold=0.01)),
    ("min_lr_floor", 0.1, FALLING, dict(factor=0.5, patience=0, min_lr=0.02)),
    ("eps_blocks", 1e-7, FALLING, dict(factor=0.5, patience=0, eps=1e-7)),
    ("negative_rel", 0.05, NEGATIVE, dict(factor=0.5, patience=1, threshold=0.1, cooldown=1)),
    ("negative_abs", 0.05, NEGATIVE,
     dict(factor=0.2, patience=1, threshold=0.02, threshold_mode="abs")),
]


def run(base, metrics, kw):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    rows = []
    for m in metrics:
        opt.step()
        sched.step(m)
        rows.append((opt.param_groups[0]["lr"], sched.best, sched.num_bad_epochs,
                     sched.cooldown_counter))
    return rows


def c_double(x):
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return repr(float(x))


def main():
    out = sys.stdout
    out.write("/* ReduceLROnPlateau (torch %s, Debian python3-torch 1.13.1) after each step: the lr, best,\n"
              " * num_bad_epochs and cooldown_counter. Written by\n"
              " * scripts/make_plateau_fixture.py; do not edit. */\n" % torch.__version__)
    out.write("#ifndef SIAM_FIXTURE_PLATEAU_H\n#define SIAM_FIXTURE_PLATEAU_H\n\n")
    out.write("#include <math.h>\n\n")
    out.write("typedef struct plateau_row { double lr, best; int bad, cooldown; } plateau_row;\n\n")
    out.write("typedef struct plateau_case {\n    const char *name;\n    double base_lr;\n"
              "    int mode_max, patience, threshold_abs, cooldown;\n"
              "    double factor, threshold, min_lr, eps;\n    int n;\n"
              "    const double *metrics;\n    const plateau_row *rows;\n} plateau_case;\n\n")
    for name, base, metrics, kw in CASES:
        out.write("static const double %s_metrics[] = {\n" % name)
        vals = [c_double(m) for m in metrics]
        out.write(",\n".join("    " + ", ".join(vals[i:i + 8]) for i in range(0, len(vals), 8))
                  + "\n};\n")
        out.write("static const plateau_row %s_rows[] = {\n" % name)
        out.write(",\n".join("    { %s, %s, %d, %d }" % (c_double(lr), c_double(b), bad, cool)
                             for lr, b, bad, cool in run(base, metrics, kw)) + "\n};\n\n")
    out.write("static const plateau_case plateau_cases[] = {\n")
    for name, base, metrics, kw in CASES:
        out.write("    { \"%s\", %s, %d, %d, %d, %d, %s, %s, %s, %s, %d, %s_metrics, %s_rows },\n"
                  % (name, c_double(base), kw.get("mode", "min") == "max",
                     kw.get("patience", 10), kw.get("threshold_mode", "rel") == "abs",
                     kw.get("cooldown", 0), c_double(kw.get("factor", 0.1)),
                     c_double(kw.get("threshold", 1e-4)), c_double(kw.get("min_lr", 0.0)),
                     c_double(kw.get("eps", 1e-8)), len(metrics), name, name))
    out.write("};\n\n#endif\n")


if __name__ == "__main__":
    main()
