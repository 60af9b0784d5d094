#!/usr/bin/python3
"""Writes tests/fixtures/triplet.h: PyTorch's numbers for the embedding
losses of kernels/ops.h on fixed inputs, as C constants for
tests/test_ops_triplet.c. Raw embeddings x (N, D) with P x K labels go
through torch.nn.functional.normalize; batch-hard mining on the cosine
distance 1 - e_i . e_j picks each anchor's hardest positive and negative;
the loss of the mined triplets is torch.nn.TripletMarginWithDistanceLoss
with the cosine distance (the hinge) or softplus(d_ap - d_an + margin)
(the soft margin), and autograd gives d(loss)/d(x) through the
normalisation. Run by hand from the repository root with Debian's
interpreter (python3-torch):

    /usr/bin/python3 scripts/make_triplet_fixture.py > tests/fixtures/triplet.h

The build and the tests never need Python; the header is committed.
"""

import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as exc:
    sys.exit("make_triplet_fixture.py needs PyTorch (Debian: python3-torch); run it with "
             "/usr/bin/python3 (%s)" % exc)

N, D, P, K = 12, 7, 4, 3
# name, margin, soft
CASES = [("hinge_m03", 0.3, 0), ("hinge_m0", 0.0, 0), ("soft_m0", 0.0, 1),
         ("soft_m02", 0.2, 1)]


def cosine_distance(a, b):
    return 1.0 - F.cosine_similarity(a, b, dim=-1, eps=1e-12)


def mine(e, labels):
    d = 1.0 - e @ e.t()
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = torch.where(same & ~eye, d, torch.full_like(d, -1e9)).argmax(1)
    neg = torch.where(~same, d, torch.full_like(d, 1e9)).argmin(1)
    return pos, neg


def floats(name, t):
    v = t.detach().reshape(-1).tolist()
    body = ",\n    ".join(", ".join("%.9ef" % x for x in v[i:i + 4]) for i in range(0, len(v), 4))
    return "static const float %s[%d] = {\n    %s\n};\n" % (name, len(v), body)


def ints(name, t):
    v = [int(x) for x in t.reshape(-1).tolist()]
    return "static const int32_t %s[%d] = { %s };\n" % (name, len(v), ", ".join(map(str, v)))


def main():
    torch.manual_seed(19)
    torch.set_num_threads(1)
    x = torch.randn(N, D, dtype=torch.float32)
    labels = torch.arange(P).repeat_interleave(K)
    out = ["/* PyTorch %s (Debian python3-torch): batch-hard triplet losses on fixed inputs.\n"
           " * Written by scripts/make_triplet_fixture.py; do not edit. */\n"
           "#ifndef SIAM_FIXTURE_TRIPLET_H\n#define SIAM_FIXTURE_TRIPLET_H\n\n"
           "#include <stdint.h>\n\n" % torch.__version__,
           "enum { TRIPLET_N = %d, TRIPLET_D = %d };\n\n" % (N, D),
           floats("triplet_x", x), ints("triplet_labels", labels),
           floats("triplet_e", F.normalize(x, p=2, dim=1, eps=1e-12))]
    rows = []
    for name, margin, soft in CASES:
        xg = x.clone().requires_grad_(True)
        e = F.normalize(xg, p=2, dim=1, eps=1e-12)
        pos, neg = mine(e.detach(), labels)
        if soft:
            dap, dan = cosine_distance(e, e[pos]), cosine_distance(e, e[neg])
            loss = F.softplus(dap - dan + margin).mean()
        else:
            crit = torch.nn.TripletMarginWithDistanceLoss(distance_function=cosine_distance,
                                                          margin=margin)
            loss = crit(e, e[pos], e[neg])
        loss.backward()
        out.append(ints("triplet_%s_hard" % name, torch.stack([pos, neg], 1)))
        out.append(floats("triplet_%s_dx" % name, xg.grad))
        rows.append("    { \"%s\", %.9ef, %d, %.9ef, triplet_%s_hard, triplet_%s_dx },\n"
                    % (name, margin, soft, loss.item(), name, name))
    out.append("\ntypedef struct triplet_case {\n    const char *name;\n    float margin;\n"
               "    int soft;\n    float loss;\n    const int32_t *hard; /* (N, 2) */\n"
               "    const float *dx;     /* d(loss)/d(x) through the normalisation */\n"
               "} triplet_case;\n\nstatic const triplet_case triplet_cases[] = {\n")
    out.extend(rows)
    out.append("};\n\n#endif\n")
    sys.stdout.write("".join(out))


main()
