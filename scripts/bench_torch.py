#!/usr/bin/env python3
"""PyTorch peer for `make bench`: the seed's Siamese model (docs in
/work/spec-crosscheck.md: conv1..conv4 with BN/ReLU/maxpool, fc 9216->4096
sigmoid, head |e1-e2| -> out 4096->1 -> sigmoid), Adam, BCE. Prints
machine-readable `peer: key=value` lines; "peer: not installed" when torch is
missing. Run it through scripts/bench.sh, which sets glibc malloc tuning
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) so that PyTorch's large
buffers are reused instead of being returned to the OS after every step."""
import argparse
import resource
import sys
import time

try:
    import torch
    import torch.nn as nn
    from siamese_torch import Siamese
except ImportError:
    print("peer: not installed")
    sys.exit(0)


def train_rate(model, opt, loss_fn, batch, steps, warmup):
    model.train()
    x = torch.rand(2 * batch, 1, 105, 105)
    y = (torch.arange(batch) % 2).float()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t0)


def infer_rate(model, batch, steps, warmup):
    model.eval()
    x = torch.rand(2 * batch, 1, 105, 105)
    with torch.no_grad():
        for i in range(warmup + steps):
            if i == warmup:
                t0 = time.perf_counter()
            model(x)
    return batch * steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", default="train16,train32,infer128")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Siamese()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.BCELoss()
    print(f"peer: torch={torch.__version__} threads={torch.get_num_threads()} "
          f"mkldnn={int(torch.backends.mkldnn.is_available())}", flush=True)
    for what in a.only.split(","):
        kind, batch = what.rstrip("0123456789"), int(what.lstrip("traininfer"))
        if kind == "train":
            r = train_rate(model, opt, loss_fn, batch, a.steps, a.warmup)
        else:
            r = infer_rate(model, batch, a.steps, a.warmup)
        print(f"peer: {what}={r:.2f}", flush=True)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peer: rss_mib={rss_kib / 1024:.0f}", flush=True)


if __name__ == "__main__":
    main()
