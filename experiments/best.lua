-- The best configuration measured on LFW View 1 (docs/results.md), all the
-- accuracy options together: PyTorch-style initialisation with Adam at a low
-- learning rate, a 512-unit embedding with the rich distance head (|a-b|,
-- (a-b)^2, cosine), the paper's affine augmentation plus horizontal flips,
-- L2 weight decay, fresh training pairs drawn every epoch from the images of
-- the training people (validation people kept out), early stopping on
-- validation accuracy (at the validation threshold) and the decision
-- threshold chosen on validation.
-- Reports the test accuracy at that threshold (and at 0.5 for comparison).
--   siamlua experiments/best.lua seed=1             (paper network, 105x105)
--   siamlua experiments/best.lua epochs=2 model=small seed=2
-- Every option is a key, so that each change can be measured alone:
--   epochs (12), patience (4), lr (0.0001), l2 (0.0005), init (pytorch|paper),
--   fc (512; 4096 is the paper's), head (rich|l1), augment (flip|paper|off),
--   extra (pairs drawn per epoch, 1760; 0 = none), base (0: the drawn pairs
--   replace pairsDevTrain's own each epoch; 1: added to them),
--   ema (decay, 0 = off), threshold (val|0.5), split (people|stratified),
--   out (best.ckpt), and common.lua's.
-- Output: results/<out> (+ .meta holding the validation threshold).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local common = dofile(dir .. "/common.lua")

local opts = common.args({ "epochs", "patience", "extra", "base", "ema", "lr", "l2", "init", "fc",
                           "head", "augment", "threshold", "split", "out" },
                         { epochs = 12, patience = 4, extra = 1760, base = 0, ema = 0, lr = 0.0001,
                           l2 = 0.0005, init = "pytorch", fc = 512, head = "rich",
                           augment = "flip", threshold = "val", split = "people",
                           out = "best.ckpt" })
local function choice(key, allowed)
  local v = tostring(opts[key])
  for _, a in ipairs(allowed) do
    if v == a then return v end
  end
  io.stderr:write("siamlua: ", key, "=", v, ": expected one of ", table.concat(allowed, ", "), "\n")
  os.exit(1)
end
choice("init", { "pytorch", "paper" })
choice("head", { "rich", "l1" })
choice("augment", { "flip", "paper", "off" })
choice("threshold", { "val", "0.5" })
choice("split", { "people", "stratified" })
choice("base", { "0", "1" })

local train, test = common.data(opts, { all_of_people = opts.extra > 0 })
-- Identity-disjoint validation (split=people): no validation person is seen
-- in training, as no test person is.
local tr, val = train:split { val = 0.2, seed = opts.seed, disjoint = opts.split == "people" }

local model = common.model(opts, { dropout = 0, head = opts.head, init = opts.init,
                                   fc = opts.model == "paper" and opts.fc or nil })
local opt = siam.optim.adam { lr = opts.lr, weight_decay = opts.l2 }
print(model)
local augment = false
if opts.augment ~= "off" then
  augment = siam.data.augment { p_flip = opts.augment == "flip" and 0.5 or 0 }
end
local h = siam.fit(model, opt, tr, {
  epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed,
  augment = augment,
  sample_pairs = opts.extra > 0 and { per_epoch = opts.extra, keep_base = opts.base == 1,
                                      exclude = opts.split == "people" and "people" or "images" }
                 or nil,
  average = opts.ema > 0 and { kind = "ema", decay = opts.ema } or nil,
  threshold = opts.threshold == "val" and "val" or 0.5,
  -- with the threshold chosen on validation, epochs are compared at it too
  stop = siam.stop.early { monitor = opts.threshold == "val" and "val_acc_at_threshold" or "val_acc",
                           mode = "max", patience = opts.patience,
                           restore_best = true },
})
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
