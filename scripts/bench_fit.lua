-- The seed report's headline run as a benchmark (its GPU took 6.4 minutes):
-- the paper network at 105x105, batch 32, Adam lr 0.005, StepLR(5, 0.95),
-- 25 epochs on 1,760 pairs of the synthetic set (its 2,200 training pairs
-- split 80/20) with validation on the other 440 after every epoch. No early
-- stopping, so every epoch runs. The image bank lives on the backend's
-- device and every batch is assembled there.
--   siamlua --device cuda scripts/bench_fit.lua [epochs=25] [cache=DIR] [pairs=N]
-- (pairs=N: N of the 2,200 pairs, split the same way, for a quick check.)
-- Prints "fit: key=value" lines; the time is fit's own (data preparation
-- is outside it, and timed apart). scripts/bench.sh runs it;
-- scripts/bench_torch.py --fit does the same run in PyTorch.
local opts = siam.args(arg or {}, {
  epochs = { 25, min = 1, help = "epochs to train (every one runs: no early stopping)" },
  cache = { type = "text", help = "where the synthetic set goes" },
  pairs = { type = "integer", min = 1, help = "N of the 2,200 training pairs, for a quick check" },
}, "The seed report's headline run (the paper network, 25 epochs) as a benchmark.")
local epochs = opts.epochs
local t0 = os.time()
local train = siam.data.synthetic { size = 105, cache = opts.cache, quiet = true }
if opts.pairs then train = train:take(opts.pairs, 1) end
local tr, val = train:split { val = 0.2, seed = 1 }
print(string.format("fit: data_seconds=%d train_pairs=%d val_pairs=%d", os.time() - t0, #tr, #val))
local model = siam.model { size = 105, seed = 1, dropout = 0 }
local opt = siam.optim.adam { lr = 0.005, weight_decay = 0 }
local h = siam.fit(model, opt, tr, {
  epochs = epochs, batch_size = 32, val = val, seed = 1, verbose = false,
  schedule = siam.schedule.step { step_size = 5, gamma = 0.95 },
})
local last = h.epochs
print(string.format("fit: device=%s tf32=%s cudnn_algo=%s epochs=%d stopped=%s seconds=%.2f "
                    .. "seconds_per_epoch=%.3f", model.device, tostring(siam.config.tf32),
                    siam.config.cudnn_algo, h.epochs, h.stopped, h.seconds,
                    h.seconds / math.max(h.epochs, 1)))
if last > 0 then
  print(string.format("fit: train_loss_first=%.4f train_loss_last=%.4f val_acc_last=%.4f",
                      h.train_loss[1], h.train_loss[last], h.val_acc[last]))
end
if h.nan then print("fit: nan=" .. h.nan) end
