-- The README's first run: a reduced Siamese network trained for a few epochs
-- on the synthetic faces (or a subset of LFW when it is found), then
-- evaluated on the test pairs. A few minutes on 2 CPU cores. Writes a run
-- folder results/quickstart/<time>-<identity>/ and the model to
-- results/quickstart.ckpt.
--   siamlua experiments/quickstart.lua            (defaults: epochs=4)
--   siamlua experiments/quickstart.lua epochs=2 subset=600
local common = require "common"

local opts = siam.args(arg, common.keys {
  model = common.model_key("small"),
  epochs = { 4, min = 1, help = "epochs to train" },
  batch = { 32, min = 1, help = "pairs per batch" },
  lr = { 0.001, min = 0, help = "Adam's learning rate" },
}, "The first run: a reduced Siamese network trained for a few epochs, then tested.")
local train, test, info = common.data(opts)
if not info.synthetic and not opts.subset then
  train = train:take(800, opts.seed) -- LFW: a subset keeps the run short
  print("LFW found: training on a subset of 800 pairs (subset=N to change)")
end
local tr, val = train:split { val = 0.2, seed = opts.seed }

local run = common.run(opts, { train = tr, val = val, test = test })
local model = common.model(opts)
local optimizer = siam.optim.adam { lr = opts.lr }
print(model)
print(string.format("training on %d pairs, validating on %d", #tr, #val))

local history = run:fit(model, optimizer, tr, {
  epochs = opts.epochs,
  batch_size = opts.batch,
  val = val,
  seed = opts.seed,
})

local table = siam.results.new { "set", "pairs", "accuracy", "loss", "auc", "eer" }
local function row(name, set)
  local e = siam.evaluate(model, set)
  table:add { set = name, pairs = #set, accuracy = e.accuracy, loss = e.loss, auc = e.auc,
              eer = e.eer }
  return e
end
row("train", tr)
row("val", val)
local e = row("test", test)
run:finish { test = e, set = test }
print()
table:print()
print()
print(string.format("test accuracy %.3f at threshold %.2f (chance: 0.5); %d epochs in %.0f s%s",
                    e.accuracy, e.threshold, history.epochs, history.seconds,
                    history.stopped == "interrupted" and " (interrupted)" or ""))
local path = common.out(opts, "quickstart.ckpt")
model:save(path)
print("run folder: " .. run.dir)
print("model saved to " .. path .. "; try: siamlua scripts/verify.lua " .. path
      .. " a.jpg b.jpg")
