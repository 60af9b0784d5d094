-- A learning-rate schedule written in Lua: linear warm-up from lr/warmup to
-- lr over `warmup` epochs, then cosine annealing down to min_lr at the last
-- epoch (Loshchilov & Hutter 2017, SGDR, without restarts).
--   siamlua experiments/schedule.lua                     (model=small, 10 epochs)
--   siamlua experiments/schedule.lua epochs=20 warmup=4 lr=0.005
local common = require "common"

local opts = siam.args(arg, common.keys {
  model = common.model_key("small"),
  epochs = { 10, min = 1, help = "epochs to train" },
  warmup = { 2, min = 0, help = "epochs of linear warm-up" },
  lr = { 0.002, min = 0, help = "the learning rate reached after warm-up" },
  min_lr = { 1e-5, min = 0, help = "the learning rate at the last epoch" },
}, "A learning-rate schedule written in Lua: linear warm-up, then cosine annealing.")

-- fit calls this at the start of every epoch (1-based) with the
-- optimizer's lr at the start of training, and uses what it returns.
local function warmup_cosine(epoch, base)
  if epoch <= opts.warmup then
    return base * epoch / opts.warmup
  end
  local span = math.max(1, opts.epochs - opts.warmup)
  local t = (epoch - opts.warmup) / span
  return opts.min_lr + 0.5 * (base - opts.min_lr) * (1 + math.cos(math.pi * t))
end

print("planned learning rates:")
for e = 1, opts.epochs do io.write(string.format(" %.3g", warmup_cosine(e, opts.lr))) end
print()

local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }
local run = common.run(opts, { train = tr, val = val, test = test }, { batch = 32 })
local model = common.model(opts)
local h = run:fit(model, siam.optim.adam { lr = opts.lr }, tr, {
  epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed, schedule = warmup_cosine,
})
local r = siam.results.new { "epoch", "lr", "train_loss", "val_loss", "val_acc" }
for e = 1, h.epochs do
  r:add { epoch = e, lr = h.lr[e], train_loss = h.train_loss[e], val_loss = h.val_loss[e],
          val_acc = h.val_acc[e] }
end
print()
r:print()
local t = siam.evaluate(model, test)
run:finish { test = t, set = test }
print(string.format("\ntest accuracy %.4f", t.accuracy))
print("run folder: " .. run.dir)
