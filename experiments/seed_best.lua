-- The seed's chosen configuration: batch 32, lr 0.005, no L2, no dropout,
-- 25 epochs, StepLR(step 5, gamma 0.95), early stopping with patience 5 on
-- validation accuracy (best weights restored), 20% validation split;
-- reports the test accuracy and saves the model.
--   siamlua experiments/seed_best.lua             (the paper network at 105x105)
--   siamlua experiments/seed_best.lua epochs=2 model=small
-- Output: results/seed_best.ckpt (the decision threshold inside) and the run
-- folder results/seed_best/<time>-<identity>/.
local common = require "common"

local opts = siam.args(arg, common.keys {
  epochs = { 25, min = 1, help = "most epochs to train (early stopping may end sooner)" },
  out = { "seed_best.ckpt", help = "the model's file, in results= unless a full path" },
}, "The seed's chosen configuration (batch 32, lr 0.005, StepLR, early stopping), trained and "
   .. "tested.")
local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }

local run = common.run(opts, { train = tr, val = val, test = test },
                       { batch = 32, lr = 0.005, l2 = 0, dropout = 0, patience = 5 })
local model = common.model(opts, { dropout = 0 })
local opt = siam.optim.adam { lr = 0.005, weight_decay = 0 }
print(model)
local h = run:fit(model, opt, tr, {
  epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed,
  schedule = siam.schedule.step { step_size = 5, gamma = 0.95 },
  stop = siam.stop.early { monitor = "val_acc", mode = "max", patience = 5, restore_best = true },
})
if h.epochs == 0 then
  run:finish {}
  print("no epoch finished (" .. h.stopped .. ")")
  return
end

local v = siam.evaluate(model, val)
local t = siam.evaluate(model, test)
run:finish { test = t, set = test }
local r = siam.results.new { "set", "pairs", "accuracy", "loss", "auc", "eer" }
r:add { set = "validation", pairs = #val, accuracy = v.accuracy, loss = v.loss, auc = v.auc, eer = v.eer }
r:add { set = "test", pairs = #test, accuracy = t.accuracy, loss = t.loss, auc = t.auc, eer = t.eer }
print()
r:print()
print(string.format("\n%d epochs (%s%s), %.0f s", h.epochs, h.stopped,
                    h.best_epoch and (", best epoch " .. h.best_epoch) or "", h.seconds))
print(string.format("test accuracy: %.4f", t.accuracy))
local c = t.confusion
print(string.format("confusion at %.2f: TP %d  FP %d  TN %d  FN %d", t.threshold, c.tp, c.fp, c.tn, c.fn))
for _, o in ipairs { "tp", "fp", "tn", "fn" } do
  local ex = t.examples[o]
  if ex.count > 0 then
    print(string.format("%s best:  %s | %s  p=%.3f", o:upper(), ex.best[1].a, ex.best[1].b, ex.best[1].p))
    print(string.format("%s worst: %s | %s  p=%.3f", o:upper(), ex.worst[1].a, ex.worst[1].b, ex.worst[1].p))
  end
end
local path = common.out(opts, opts.out)
model:save(path)
print("run folder: " .. run.dir)
print("model saved to " .. path)
