#!/usr/bin/python3
"""Writes tests/fixtures/margin_softmax.h: the identity heads' loss
(softmax cross-entropy, CosFace, ArcFace as insightface writes it in
PyTorch) and its gradients w.r.t. E and W from torch.autograd, in float32,
as C constants for tests/test_ops_margin.c. Run by hand from the repository
root with Debian's interpreter (python3-torch):

    /usr/bin/python3 scripts/make_margin_fixture.py > tests/fixtures/margin_softmax.h

The build and the tests never need Python; the header is committed.
"""

import math
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as exc:
    sys.exit("make_margin_fixture.py needs PyTorch (Debian: python3-torch); run it with "
             "/usr/bin/python3 (%s)" % exc)

N, D, C = 6, 8, 10


def logits(kind, e, w, labels, s, m):
    if kind == "softmax":
        return F.linear(e, w)
    cos = F.linear(F.normalize(e), F.normalize(w))
    onehot = F.one_hot(labels, C).bool()
    if kind == "cosface":
        return s * torch.where(onehot, cos - m, cos)
    # insightface ArcFace (easy_margin off): clamp, then cos(theta + m) while
    # cos > cos(pi - m), else cos - m sin(pi - m).
    c = cos.clamp(-1, 1)
    sin = torch.sqrt(1.0 - c * c)
    phi = c * math.cos(m) - sin * math.sin(m)
    phi = torch.where(c > math.cos(math.pi - m), phi, c - math.sin(math.pi - m) * m)
    return s * torch.where(onehot, phi, cos)


def case(kind, e0, w0, labels, s, m):
    e = torch.tensor(e0, requires_grad=True)
    w = torch.tensor(w0, requires_grad=True)
    loss = F.cross_entropy(logits(kind, e, w, torch.tensor(labels), s, m), torch.tensor(labels))
    loss.backward()
    return float(loss), e.grad.numpy().ravel(), w.grad.numpy().ravel()


def lit(x):
    """A float32 C literal that reads back exactly (%.9g always has a digit
    before 'f' that C accepts once it holds a point or an exponent)."""
    t = "%.9g" % x
    return t + ("f" if ("." in t or "e" in t) else ".0f")


def floats(a):
    return ",\n    ".join(", ".join(lit(x) for x in a[i:i + 6]) for i in range(0, len(a), 6))


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(19)
    e0 = rng.uniform(-1, 1, (N, D)).astype(np.float32)
    w0 = rng.uniform(-1, 1, (C, D)).astype(np.float32)
    labels = [int(x) for x in rng.integers(0, C, N)]
    # Row 1 points away from its class (theta + m past pi for ArcFace).
    e0[1] = -w0[labels[1]] + np.float32(0.2) * e0[1]
    cases = [("softmax", 1.0, 0.0), ("cosface", 30.0, 0.35), ("cosface", 64.0, 0.4),
             ("arcface", 30.0, 0.5), ("arcface", 64.0, 0.5)]
    out = sys.stdout
    out.write("/* The identity heads' loss and gradients from torch %s (Debian python3-torch\n"
              " * 1.13.1, float32, one thread): F.cross_entropy of F.linear logits, CosFace\n"
              " * and insightface's ArcFace on F.normalize'd rows. Written by\n"
              " * scripts/make_margin_fixture.py; do not edit. */\n" % torch.__version__)
    out.write("#ifndef SIAM_FIXTURE_MARGIN_SOFTMAX_H\n#define SIAM_FIXTURE_MARGIN_SOFTMAX_H\n\n")
    out.write("#include <stdint.h>\n\n")
    out.write("enum { margin_fx_N = %d, margin_fx_D = %d, margin_fx_C = %d };\n\n" % (N, D, C))
    out.write("static const float margin_fx_E[] = {\n    %s\n};\n" % floats(e0.ravel()))
    out.write("static const float margin_fx_W[] = {\n    %s\n};\n" % floats(w0.ravel()))
    out.write("static const int32_t margin_fx_labels[] = { %s };\n\n"
              % ", ".join(str(x) for x in labels))
    out.write("typedef struct margin_fx_case {\n    int kind; /* SIAM_MARGIN_* */\n"
              "    float s, m, loss;\n    const float *dE, *dW;\n} margin_fx_case;\n\n")
    names = []
    for k, (kind, s, m) in enumerate(cases):
        loss, de, dw = case(kind, e0, w0, labels, s, m)
        out.write("static const float margin_fx_dE%d[] = {\n    %s\n};\n" % (k, floats(de)))
        out.write("static const float margin_fx_dW%d[] = {\n    %s\n};\n" % (k, floats(dw)))
        names.append("    { %d, %s, %s, %s, margin_fx_dE%d, margin_fx_dW%d },"
                     % (["softmax", "cosface", "arcface"].index(kind), lit(s), lit(m),
                        lit(loss), k, k))
    out.write("\nstatic const margin_fx_case margin_fx_cases[] = {\n%s\n};\n\n#endif\n"
              % "\n".join(names))


if __name__ == "__main__":
    main()
