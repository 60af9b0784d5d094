-- The configuration docs/results.md proposes as the likely best, all the
-- accuracy options together: a 512-unit embedding (paper model) with the
-- rich distance head (|a-b|, (a-b)^2, cosine), the paper's affine
-- augmentation, weight decay, extra pairs drawn each epoch from the training
-- people (validation people kept out), EMA of the weights, early stopping
-- on validation accuracy, and the decision threshold chosen on validation.
-- Reports the test accuracy at that threshold (and at 0.5 for comparison).
--   siamlua experiments/best.lua                        (paper network, 105x105)
--   siamlua experiments/best.lua epochs=2 model=small seed=2
-- Keys: epochs (60), patience (10), extra (extra pairs per epoch, 2000),
-- decay (EMA decay, 0.999), lr (0.001), l2 (weight decay, 0.0005),
-- out (best.ckpt), and common.lua's. The training configuration lives in
-- best_recipe.lua (experiments/view2.lua trains each fold with it too).
-- Output: results/<out> (+ .meta holding the validation threshold).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local common = dofile(dir .. "/common.lua")

local recipe = dofile(dir .. "/best_recipe.lua")

local opts = recipe.args(common, { "out" }, { out = "best.ckpt" })
local train, test = common.data(opts, recipe.load)
local tr, val = recipe.split(train, opts)
local model, h = recipe.train(common, opts, tr, val, true)
if h.epochs == 0 then
  print("no epoch finished (" .. h.stopped .. ")")
  return
end

local v = siam.evaluate(model, val)
local t = siam.evaluate(model, test)
local t05 = siam.evaluate(model, test, { threshold = 0.5 })
local r = siam.results.new { "set", "pairs", "threshold", "accuracy", "loss", "auc", "eer" }
r:add { set = "validation", pairs = #val, threshold = v.threshold, accuracy = v.accuracy,
        loss = v.loss, auc = v.auc, eer = v.eer }
r:add { set = "test", pairs = #test, threshold = t.threshold, accuracy = t.accuracy,
        loss = t.loss, auc = t.auc, eer = t.eer }
r:add { set = "test", pairs = #test, threshold = 0.5, accuracy = t05.accuracy, loss = t05.loss,
        auc = t05.auc, eer = t05.eer }
print()
r:print()
print(string.format("\n%d epochs (%s%s), %.0f s", h.epochs, h.stopped,
                    h.best_epoch and (", best epoch " .. h.best_epoch) or "", h.seconds))
print(string.format("validation threshold: %.4f", model.threshold))
print(string.format("test accuracy: %.4f", t.accuracy))
local path = common.out(opts.out)
model:save(path)
print("model saved to " .. path)
