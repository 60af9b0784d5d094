#!/usr/bin/python3
"""Writes the PyTorch reference numbers under tests/fixtures/ (ops.bin,
optim.bin, model.bin) in the SIAMFIX1 format read by tests/support/fixture.c.

Run by hand from the repository root with Debian's interpreter, which has
python3-torch: `/usr/bin/python3 scripts/make_fixtures.py`. The build and the
tests never need Python; the .bin files are committed.

Every computation is float32, like the C code. Inputs come from a Philox
identical to kernels/philox.h (checked below against the Random123 known
answers), so that a C test can regenerate a large input instead of the file
storing it. A regenerated tensor NAME is described by NAME.philox =
[seed, stream, lo, hi]: element i = lo + (hi - lo) * siam_philox_uniform(seed,
stream, i), evaluated in float32. A tensor too large to store whole is stored
as NAME.idx (flat indices, exact in float32 below 2^24) and NAME.val.
File layouts are described in tests/fixtures/README.md.
"""

import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from siamese_torch import Siamese
except ImportError as exc:
    sys.exit("make_fixtures.py needs numpy and PyTorch (Debian: python3-torch); run it with "
             "/usr/bin/python3 (%s)" % exc)

MASK32 = 0xFFFFFFFF
OPS_SEED = 7  # Philox seed of every generated ops/optim input


# ---------------------------------------------------------------- Philox --

def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 (Salmon et al., SC 2011) over uint64 arrays that hold
    32-bit words, with the key schedule of kernels/philox.h."""
    m0 = np.uint64(0xD2511F53)
    m1 = np.uint64(0xCD9E8D57)
    low = np.uint64(MASK32)
    sh = np.uint64(32)
    for _ in range(10):
        p0 = c0 * m0  # < 2^64: both factors are below 2^32
        p1 = c2 * m1
        n0 = (p1 >> sh) ^ c1 ^ np.uint64(k0)
        n1 = p1 & low
        n2 = (p0 >> sh) ^ c3 ^ np.uint64(k1)
        n3 = p0 & low
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


def philox_u32(seed, stream, index):
    """siam_philox_u32 for an array of indices (uint64)."""
    index = np.asarray(index, dtype=np.uint64)
    block = index >> np.uint64(2)
    c0 = block & np.uint64(MASK32)
    c1 = block >> np.uint64(32)
    c2 = np.full_like(block, stream & MASK32)
    c3 = np.full_like(block, stream >> 32)
    words = philox4x32_10(c0, c1, c2, c3, seed & MASK32, seed >> 32)
    out = np.empty(index.shape, dtype=np.uint64)
    lane = index & np.uint64(3)
    for w in range(4):
        sel = lane == np.uint64(w)
        out[sel] = words[w][sel]
    return out.astype(np.uint32)


def philox_uniform_range(seed, stream, n):
    """siam_philox_uniform(seed, stream, i) for i = 0..n-1, as float32;
    one Philox block gives four consecutive values."""
    nblocks = (n + 3) // 4
    block = np.arange(nblocks, dtype=np.uint64)
    c0 = block & np.uint64(MASK32)
    c1 = block >> np.uint64(32)
    c2 = np.full_like(block, stream & MASK32)
    c3 = np.full_like(block, stream >> 32)
    words = philox4x32_10(c0, c1, c2, c3, seed & MASK32, seed >> 32)
    del c0, c1, c2, c3, block
    u = np.stack(words, axis=1).reshape(-1)[:n]
    del words
    return to_unit(u)


def to_unit(u):
    # siam_u32_to_unit: the top 24 bits times 2^-24, exact in float32.
    return (np.asarray(u, dtype=np.uint64) >> np.uint64(8)).astype(np.float32) * \
        np.float32(1.0 / 16777216.0)


def check_philox():
    # Random123 kat_vectors, "philox4x32 10" lines: counter, key -> output.
    kat = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((MASK32,) * 4, (MASK32, MASK32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for ctr, key, want in kat:
        c = [np.array([x], dtype=np.uint64) for x in ctr]
        got = tuple(int(w[0]) for w in philox4x32_10(*c, key[0], key[1]))
        if got != want:
            sys.exit("Philox known answer mismatch: %s != %s" % (
                [hex(x) for x in got], [hex(x) for x in want]))
    # The indexing of siam_philox_u32 with 64-bit values in every field:
    # counter (index/4 low, high, stream low, high), key (seed low, high),
    # lane index & 3.
    seed, stream, block = 0x299F31D0A4093822, 0x0370734413198A2E, 0x05A308D3243F6A88
    want = philox4x32_10(*[np.array([w], dtype=np.uint64) for w in
                           (0x243F6A88, 0x05A308D3, 0x13198A2E, 0x03707344)],
                         0xA4093822, 0x299F31D0)
    for lane in range(4):
        if int(philox_u32(seed, stream, [(block << 2) | lane])[0]) != int(want[lane][0]):
            sys.exit("Philox indexing mismatch in lane %d" % lane)
    if not np.array_equal(philox_uniform_range(5, 9, 11),
                          to_unit(philox_u32(5, 9, np.arange(11)))):
        sys.exit("Philox block and single-index paths disagree")


# ---------------------------------------------------------------- writer --

class Fixture:
    """Collects named float32 tensors and writes one SIAMFIX1 file."""

    def __init__(self):
        self.entries = []
        self.names = set()
        self.stream = 1000  # next Philox stream for a generated input

    def put(self, name, value):
        a = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        a = np.ascontiguousarray(a, dtype=np.float32)
        if name in self.names:
            raise ValueError("duplicate tensor " + name)
        if not np.all(np.isfinite(a)):
            raise ValueError("non-finite values in " + name)
        self.names.add(name)
        self.entries.append((name, a))

    def gen(self, name, shape, lo, hi, store=False):
        """A Philox input (float32 numpy array); described by NAME.philox,
        and also stored whole when `store`."""
        stream = self.stream
        self.stream += 1
        n = int(np.prod(shape))
        lo32, hi32 = np.float32(lo), np.float32(hi)
        a = (lo32 + (hi32 - lo32) * philox_uniform_range(OPS_SEED, stream, n)).reshape(shape)
        assert a.dtype == np.float32
        self.put(name + ".philox", [OPS_SEED, stream, lo32, hi32])
        if store:
            self.put(name, a)
        return a

    def put_sampled(self, name, value, k):
        """k values of a large tensor at Philox-chosen flat indices."""
        a = value.detach().numpy().reshape(-1)
        assert a.size < (1 << 24), "indices must stay exact in float32"
        stream = self.stream
        self.stream += 1
        idx = np.floor(philox_uniform_range(OPS_SEED, stream, k).astype(np.float64) *
                       a.size).astype(np.int64)
        self.put(name + ".idx", idx.astype(np.float32))
        self.put(name + ".val", a[idx])

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"SIAMFIX1")
            f.write(struct.pack("<I", len(self.entries)))
            for name, a in self.entries:
                nb = name.encode()
                f.write(struct.pack("<I", len(nb)))
                f.write(nb)
                f.write(struct.pack("<I", a.ndim))
                f.write(struct.pack("<%dI" % a.ndim, *a.shape))
                f.write(a.astype("<f4").tobytes())
        print("%s: %d tensors, %d bytes" % (path, len(self.entries), os.path.getsize(path)))


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float32, requires_grad=grad)


# ------------------------------------------------------------------- ops --

def weighted_case(fx, name, layer, shapes, bound, store, k):
    """A layer with weights and a bias (conv2d, linear): in, w, b and dout of
    shapes (in, w, out), w and b uniform in +-bound; forward, then backward of
    sum(out * dout). A tensor is sampled when not stored whole and larger
    than 8192 values."""
    x_shape, w_shape, out_shape = shapes
    x = t(fx.gen(name + ".in", x_shape, -1, 1, store), True)
    w = t(fx.gen(name + ".w", w_shape, -bound, bound, store), True)
    b = t(fx.gen(name + ".b", w_shape[:1], -bound, bound, store), True)
    dout = t(fx.gen(name + ".dout", out_shape, -1, 1, store))
    out = layer(x, w, b)
    out.backward(dout)
    for key, val in (("out", out), ("din", x.grad), ("dw", w.grad), ("db", b.grad)):
        if store or val.numel() <= 8192:
            fx.put(name + "." + key, val)
        else:
            fx.put_sampled(name + "." + key, val, k)


def conv_case(fx, name, N, Ci, H, W, Co, KH, KW, store, k):
    """conv2d valid/stride 1."""
    Ho, Wo = H - KH + 1, W - KW + 1
    fx.put(name + ".dims", [N, Ci, H, W, Co, KH, KW])
    weighted_case(fx, name, F.conv2d, ((N, Ci, H, W), (Co, Ci, KH, KW), (N, Co, Ho, Wo)),
                  1.0 / math.sqrt(Ci * KH * KW), store, k)


def batchnorm_case(fx, name, N, C, H, W, lo, hi, store, k):
    """batchnorm2d training step (momentum 0.1, eps 1e-5) and backward of
    sum(out * dout), then eval mode on separate running statistics."""
    momentum, eps = 0.1, 1e-5
    fx.put(name + ".dims", [N, C, H * W])
    fx.put(name + ".hyper", [momentum, eps])
    x = t(fx.gen(name + ".in", (N, C, H, W), lo, hi, store), True)
    g = t(fx.gen(name + ".gamma", (C,), 0.5, 1.5, True), True)
    bt = t(fx.gen(name + ".beta", (C,), -0.5, 0.5, True), True)
    rm = t(fx.gen(name + ".running_mean0", (C,), -1, 1, True))
    rv = t(fx.gen(name + ".running_var0", (C,), 0.5, 2, True))
    dout = t(fx.gen(name + ".dout", (N, C, H, W), -1, 1, store))
    rm_n, rv_n = rm.clone(), rv.clone()
    _, save_mean, save_invstd = torch.native_batch_norm(
        x.detach(), g.detach(), bt.detach(), rm_n, rv_n, True, momentum, eps)
    rm_f, rv_f = rm.clone(), rv.clone()
    out = F.batch_norm(x, rm_f, rv_f, g, bt, training=True, momentum=momentum, eps=eps)
    out.backward(dout)
    assert torch.equal(rm_n, rm_f) and torch.equal(rv_n, rv_f)
    for key, val in (("out", out), ("din", x.grad)):
        if store:
            fx.put(name + "." + key, val)
        else:
            fx.put_sampled(name + "." + key, val, k)
    fx.put(name + ".save_mean", save_mean)
    fx.put(name + ".save_invstd", save_invstd)
    fx.put(name + ".running_mean", rm_f)
    fx.put(name + ".running_var", rv_f)
    fx.put(name + ".dgamma", g.grad)
    fx.put(name + ".dbeta", bt.grad)
    erm = t(fx.gen(name + ".eval_mean", (C,), lo, hi, True))
    erv = t(fx.gen(name + ".eval_var", (C,), 0.05, 0.5, True))
    with torch.no_grad():
        eout = F.batch_norm(x, erm, erv, g, bt, training=False, eps=eps)
    if store:
        fx.put(name + ".eval_out", eout)
    else:
        fx.put_sampled(name + ".eval_out", eout, k)


def maxpool_case(fx):
    # Values on a coarse grid so that most 2x2 windows hold ties; odd H and W
    # check the floor mode.
    NC, H, W = 6, 7, 9
    fx.put("pool.dims", [NC, H, W])
    u = fx.gen("pool.u", (NC, H, W), 0, 1)
    x = t(np.float32(np.floor(u * 5) - 2) * np.float32(0.5), True)
    fx.put("pool.in", x)
    dout = t(fx.gen("pool.dout", (NC, H // 2, W // 2), -1, 1, True))
    out, idx = F.max_pool2d(x.unsqueeze(0), 2, 2, return_indices=True)
    out.backward(dout.unsqueeze(0))
    fx.put("pool.out", out[0])
    fx.put("pool.argmax", idx[0].float())
    fx.put("pool.din", x.grad)
    ties = 0
    xv = x.detach().numpy()
    for c in range(NC):
        for i in range(H // 2):
            for j in range(W // 2):
                win = xv[c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                ties += int((win == win.max()).sum() > 1)
    print("pool: %d of %d windows have tied maxima" % (ties, NC * (H // 2) * (W // 2)))
    assert ties >= 10


def linear_case(fx, name, N, I, O, store, k):
    fx.put(name + ".dims", [N, I, O])
    weighted_case(fx, name, F.linear, ((N, I), (O, I), (N, O)), 1.0 / math.sqrt(I), store, k)


def elementwise_cases(fx):
    edges = np.array([-100, -30, -17, -10, -1, -1e-3, 0, 1e-3, 1, 10, 17, 30, 100],
                     dtype=np.float32)
    rnd = fx.gen("sigmoid.u", (51,), -8, 8)
    x = t(np.concatenate([edges, rnd]), True)
    dout = t(fx.gen("sigmoid.dout", (x.numel(),), -1, 1, True))
    y = torch.sigmoid(x)
    y.backward(dout)
    fx.put("sigmoid.in", x)
    fx.put("sigmoid.out", y)
    fx.put("sigmoid.din", x.grad)

    x = t(np.concatenate([np.array([0, -0.0, 1e-30, -1e-30, 3, -3], np.float32),
                          fx.gen("relu.u", (58,), -2, 2)]), True)
    dout = t(fx.gen("relu.dout", (x.numel(),), -1, 1, True))
    y = torch.relu(x)
    y.backward(dout)
    fx.put("relu.in", x)
    fx.put("relu.out", y)
    fx.put("relu.din", x.grad)

    a = fx.gen("absdiff.a", (64,), -1, 1, True)
    bb = fx.gen("absdiff.bu", (64,), -1, 1).copy()
    bb[::5] = a[::5]  # equal pairs: sign(0) = 0 in the gradient
    a, bb = t(a, True), t(bb, True)
    fx.put("absdiff.b", bb)
    dout = t(fx.gen("absdiff.dout", (64,), -1, 1, True))
    y = (a - bb).abs()
    y.backward(dout)
    fx.put("absdiff.out", y)
    fx.put("absdiff.da", a.grad)
    fx.put("absdiff.db", bb.grad)


def bce_case(fx):
    # p = 0 and 1 hit the log clamp at -100 and the 1e-12 floor of the
    # gradient's denominator; the rest are ordinary.
    p_edge = np.array([0, 0, 1, 1, 1e-30, 1 - 2 ** -24, 1e-7, 0.5], np.float32)
    y_edge = np.array([0, 1, 0, 1, 1, 0, 0, 1], np.float32)
    pr = fx.gen("bce.pu", (24,), 0.01, 0.99)
    yr = np.float32(fx.gen("bce.yu", (24,), 0, 1) >= 0.5)
    p = t(np.concatenate([p_edge, pr]), True)
    y = t(np.concatenate([y_edge, yr]))
    loss = F.binary_cross_entropy(p, y)
    dloss = 0.5
    (loss * dloss).backward()
    fx.put("bce.p", p)
    fx.put("bce.y", y)
    fx.put("bce.loss", [loss.item()])
    fx.put("bce.dloss", [dloss])
    fx.put("bce.dp", p.grad)


def make_ops(path):
    fx = Fixture()
    conv_case(fx, "conv_small", 2, 3, 7, 6, 4, 3, 2, store=True, k=0)
    conv_case(fx, "conv_c1", 2, 1, 105, 105, 64, 10, 10, store=False, k=512)
    conv_case(fx, "conv_c2", 2, 64, 12, 12, 128, 7, 7, store=False, k=512)
    batchnorm_case(fx, "bn_small", 3, 4, 5, 3, 1, 3, store=True, k=0)
    # A large offset mean over 18432 values per channel: a one-pass variance
    # in float32 would lose most of its digits here.
    batchnorm_case(fx, "bn_big", 8, 2, 48, 48, 2, 4, store=False, k=256)
    maxpool_case(fx)
    linear_case(fx, "lin_small", 3, 5, 4, store=True, k=0)
    linear_case(fx, "lin_big", 8, 576, 256, store=False, k=4608)
    elementwise_cases(fx)
    bce_case(fx)
    fx.write(path)


# ----------------------------------------------------------------- optim --

def run_optimizer(make, p0, grads):
    p = torch.nn.Parameter(t(p0))
    opt = make([p])
    traj = []
    for g in grads:
        p.grad = t(g)
        opt.step()
        traj.append(p.detach().clone().numpy())
    return np.stack(traj)


def make_optim(path):
    fx = Fixture()
    n, steps = 10, 5
    p0 = fx.gen("optim.p0", (n,), -1, 1, True)
    grads = fx.gen("optim.grads", (steps, n), -1, 1).copy()
    grads[0, 3] = 0  # a zero first gradient: Adam's update is 0 / (0 + eps)
    grads[2, 7] = 0
    fx.put("optim.grads", grads)
    adams = [
        ("adam", 1e-2, 0.9, 0.999, 1e-8, 0.0, False),
        ("adam_l2", 1e-2, 0.9, 0.999, 1e-8, 0.1, False),
        ("adam_betas", 5e-3, 0.8, 0.99, 1e-6, 0.0, False),
        ("adamw", 1e-2, 0.9, 0.999, 1e-8, 0.1, True),
    ]
    for name, lr, b1, b2, eps, wd, decoupled in adams:
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        traj = run_optimizer(
            lambda ps: cls(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), p0, grads)
        fx.put(name + ".config", [lr, b1, b2, eps, wd, 1 if decoupled else 0])
        fx.put(name + ".traj", traj)
    sgds = [
        ("sgd", 0.1, 0.0, 0.0, False),
        ("sgd_momentum", 0.1, 0.9, 0.0, False),
        ("sgd_nesterov", 0.1, 0.9, 0.0, True),
        ("sgd_wd", 0.1, 0.9, 0.1, False),
        ("sgd_wd_plain", 0.1, 0.0, 0.1, False),
    ]
    for name, lr, mom, wd, nesterov in sgds:
        traj = run_optimizer(
            lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mom, weight_decay=wd,
                                       nesterov=nesterov), p0, grads)
        fx.put(name + ".config", [lr, mom, wd, 1 if nesterov else 0])
        fx.put(name + ".traj", traj)
    for name, base, step, gamma in (("steplr_5_0.95", 5e-3, 5, 0.95),
                                    ("steplr_2_0.5", 1e-3, 2, 0.5)):
        p = torch.nn.Parameter(t(np.zeros(1, np.float32)))
        opt = torch.optim.SGD([p], lr=base)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step, gamma=gamma)
        lrs = [sched.get_last_lr()[0]]
        for _ in range(20):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        fx.put(name + ".config", [base, step, gamma])
        fx.put(name + ".lr", lrs)
    fx.write(path)


# ----------------------------------------------------------------- model --

def make_model(path):
    seed, B = 1234, 4
    model = Siamese()
    params = list(model.named_parameters())
    with torch.no_grad():
        for j, (name, p) in enumerate(params):
            if name.startswith("bn"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
                continue
            layer = getattr(model, name.split(".")[0])
            w = layer.weight
            fan_in = w.shape[1] * (w.shape[2] * w.shape[3] if w.dim() == 4 else 1)
            bound = np.float32(1.0 / math.sqrt(fan_in))
            u = philox_uniform_range(seed, 100 + j, p.numel())
            v = (u * np.float32(2) - np.float32(1)) * bound
            p.copy_(torch.from_numpy(v.reshape(tuple(p.shape))))
            del u, v
    x = torch.from_numpy(philox_uniform_range(seed, 200, 2 * B * 105 * 105)
                         .reshape(2 * B, 1, 105, 105))
    y = torch.tensor([1, 0, 1, 0], dtype=torch.float32)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    losses, prob0 = [], None
    for step in range(3):
        opt.zero_grad()
        prob = model(x)
        loss = F.binary_cross_entropy(prob, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step == 0:
            prob0 = prob.detach().clone()
        print("model step %d: loss %.7f" % (step + 1, loss.item()))
    fx = Fixture()
    fx.put("loss", losses)
    fx.put("prob0", prob0)
    for j, (name, p) in enumerate(params):
        flat = p.detach().reshape(-1).numpy()
        # u has 24 bits and numel < 2^26, so the product is exact in double
        # (not in float32, where fc.weight's indices could round).
        idx = np.floor(philox_uniform_range(seed, 300 + j, 16).astype(np.float64) *
                       flat.size).astype(np.int64)
        fx.put("sample." + name, flat[idx])
    fx.write(path)


def main():
    check_philox()
    torch.set_num_threads(1)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
    os.makedirs(root, exist_ok=True)
    only = set(sys.argv[1:]) or {"ops", "optim", "model"}
    print("PyTorch", torch.__version__, "numpy", np.__version__)
    if "ops" in only:
        make_ops(os.path.join(root, "ops.bin"))
    if "optim" in only:
        make_optim(os.path.join(root, "optim.bin"))
    if "model" in only:
        make_model(os.path.join(root, "model.bin"))


if __name__ == "__main__":
    main()
