#!/usr/bin/env python3
"""PyTorch peer for `make bench` (scripts/bench.sh): the seed's Siamese model
(scripts/siamese_torch.py: conv1..conv4 with BN/ReLU/maxpool, fc 9216->4096
sigmoid, head |e1-e2| -> out 4096->1 -> sigmoid), Adam, BCE, on the CPU or
on a CUDA GPU, measured the way bench_model measures siamlua:

- a training step is zero_grad, forward, BCE, backward, Adam's step and the
  loss read on the host (loss.item(), which is what a training loop that
  logs its loss pays; siamlua's step reads its loss back too);
- an inference step is a no_grad forward and the probabilities on the host;
- after --warmup steps, --steps steps are timed: with CUDA events on a GPU,
  the wall clock on the CPU.

--configs lists the CUDA settings to measure, each "fp32" or "tf32" (TF32
off or on for both cuDNN and cuBLAS: PyTorch's own default allows it for
convolutions) and "b0" or "b1" (torch.backends.cudnn.benchmark off or on),
e.g. "fp32.b0,fp32.b1,tf32.b1"; on the CPU there is one configuration,
"cpu". --fit N times the seed's whole run instead: N epochs over 1,760
pairs, batch 32, Adam lr 0.005, StepLR(5, 0.95), validation on 440 pairs
after every epoch, with the image bank and every batch on the device
(--fit-pairs P: P pairs split the same way, for a quick check).

Prints machine-readable `peer: key=value` lines (keys "<what>.<config>", e.g.
"train32.fp32.b1"); "peer: not installed" when torch is missing, and
"peer: cuda not available" when --device cuda finds no GPU. bench.sh runs it
with glibc malloc tuned on the CPU (see there)."""
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


def configure(device, config):
    """Applies one configuration's backend flags."""
    if device != "cuda":
        return
    tf32 = config.startswith("tf32")
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = config.endswith("b1")


class Clock:
    """Milliseconds between start() and stop(): CUDA events on a GPU (the
    device's own clock, after its queue drains), the wall clock otherwise."""

    def __init__(self, device):
        self.cuda = device == "cuda"

    def start(self):
        if self.cuda:
            self.a = torch.cuda.Event(enable_timing=True)
            self.b = torch.cuda.Event(enable_timing=True)
            self.a.record()
        self.t0 = time.perf_counter()

    def stop(self):
        if self.cuda:
            self.b.record()
            self.b.synchronize()
            return self.a.elapsed_time(self.b)
        return 1e3 * (time.perf_counter() - self.t0)


def train_ms(model, opt, loss_fn, batch, steps, warmup, device):
    model.train()
    x = torch.rand(2 * batch, 1, 105, 105, device=device)
    y = (torch.arange(batch, device=device) % 2).float()
    clock = Clock(device)
    for i in range(warmup + steps):
        if i == warmup:
            clock.start()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return clock.stop() / steps


def infer_ms(model, batch, steps, warmup, device):
    model.eval()
    x = torch.rand(2 * batch, 1, 105, 105, device=device)
    clock = Clock(device)
    with torch.no_grad():
        for i in range(warmup + steps):
            if i == warmup:
                clock.start()
            model(x).cpu()
    return clock.stop() / steps


def fit_seconds(epochs, device, pairs=2200, seed=1):
    """The seed's run on synthetic data: 200 people x 10 images of 105x105
    (a per-person pattern plus noise, uint8, on the device), 1,100 matched
    and 1,100 mismatched pairs split 1,760 / 440 (pairs: fewer, split the
    same way, for a quick check)."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    people, per = 200, 10
    proto = torch.randint(0, 256, (people, 1, 105, 105), generator=g).float()
    noise = torch.randint(-40, 41, (people, per, 1, 105, 105), generator=g).float()
    bank = (proto[:, None] + noise).clamp(0, 255).to(torch.uint8).reshape(-1, 1, 105, 105)
    a = torch.randint(0, people, (pairs,), generator=g)
    b = torch.where(torch.arange(pairs) % 2 == 0, a,
                    (a + torch.randint(1, people, (pairs,), generator=g)) % people)
    ia = a * per + torch.randint(0, per, (pairs,), generator=g)
    ib = b * per + torch.randint(0, per, (pairs,), generator=g)
    label = (a == b).float()
    perm = torch.randperm(pairs, generator=g)
    ntrain = pairs * 4 // 5
    tr, va = perm[:ntrain], perm[ntrain:]
    bank, ia, ib, label = bank.to(device), ia.to(device), ib.to(device), label.to(device)
    torch.manual_seed(seed)
    model = Siamese().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.95)
    loss_fn = nn.BCELoss()

    def batch_of(idx):
        x = torch.cat([bank[ia[idx]], bank[ib[idx]]]).float() / 255.0
        return (x - 0.5) / 0.25, label[idx]

    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    last = (float("nan"), float("nan"))
    for _ in range(epochs):
        model.train()
        order = tr[torch.randperm(len(tr), generator=g)].to(device)
        total = 0.0
        for s in range(0, len(order), 32):
            x, y = batch_of(order[s:s + 32])
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
        sched.step()
        model.eval()
        correct, vloss = 0.0, 0.0
        with torch.no_grad():
            for s in range(0, len(va), 128):
                x, y = batch_of(va[s:s + 128].to(device))
                p = model(x)
                vloss += loss_fn(p, y).item() * len(y)
                correct += ((p >= 0.5).float() == y).sum().item()
        last = (total / len(tr), correct / len(va))
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", default="train16,train32,infer128")
    ap.add_argument("--configs", default="fp32.b0")
    ap.add_argument("--fit", type=int, default=0)
    ap.add_argument("--fit-pairs", type=int, default=2200)
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        print("peer: cuda not available")
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = a.device
    about = (f"gpu={torch.cuda.get_device_name(0).replace(' ', '_')} "
             f"cudnn={torch.backends.cudnn.version()}" if dev == "cuda"
             else f"mkldnn={int(torch.backends.mkldnn.is_available())}")
    print(f"peer: torch={torch.__version__} device={dev} threads={torch.get_num_threads()} "
          f"{about}", flush=True)
    configs = a.configs.split(",") if dev == "cuda" else ["cpu"]
    if a.fit:
        for c in configs:
            configure(dev, c)
            secs, (tl, vacc) = fit_seconds(a.fit, dev, a.fit_pairs)
            print(f"peer: fit.{c}={secs:.2f} epochs={a.fit} train_loss_last={tl:.4f} "
                  f"val_acc_last={vacc:.4f}", flush=True)
        return
    model = Siamese().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.BCELoss()
    for c in configs:
        configure(dev, c)
        for what in a.only.split(","):
            kind, batch = what.rstrip("0123456789"), int(what.lstrip("traininfer"))
            if kind == "train":
                ms = train_ms(model, opt, loss_fn, batch, a.steps, a.warmup, dev)
            else:
                ms = infer_ms(model, batch, a.steps, a.warmup, dev)
            key = what if dev == "cpu" else f"{what}.{c}"
            print(f"peer: {key}={batch * 1e3 / ms:.2f} ms_per_step={ms:.3f}", flush=True)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peer: rss_mib={rss_kib / 1024:.0f}", flush=True)


if __name__ == "__main__":
    main()
