-- The best configuration measured on LFW View 1 (docs/results.md, row 13), all
-- the accuracy options together: LFW cut to the centred 140x140 of each image
-- (where the face is), PyTorch-style initialisation with Adam at a low
-- learning rate for up to 50 epochs, a 512-unit embedding with the rich
-- distance head (|a-b|, (a-b)^2, cosine), the paper's affine augmentation
-- plus horizontal flips, L2 weight decay, fresh training pairs drawn every
-- epoch from the images of the training people (validation people kept out),
-- early stopping on validation accuracy (at the validation threshold), and at
-- evaluation each pair's probability averaged with its mirror image's (flip
-- test-time augmentation) at a decision threshold chosen on validation.
-- Reports the test accuracy at that threshold (and at 0.5 for comparison).
-- Validation: 2,000 balanced pairs drawn from 20% of pairsDevTrain's people
-- (split=balanced, issue 19); row 13 ran with split=people, rows 1-22's split.
--   siamlua experiments/best.lua seed=1             (paper network, 105x105)
--   siamlua experiments/best.lua epochs=2 model=small seed=2
--   siamlua experiments/best.lua --help             (every key, its default)
-- Every option is a key, so that each change can be measured alone; the
-- training configuration and its keys live in best_recipe.lua
-- (experiments/view2.lua trains each fold with it too).
-- Output: results/<out> (the model, with its validation threshold, crop and
-- tta inside) and the run folder results/best/<time>-<identity>/; an
-- interrupted run given the same command again resumes from its folder's
-- training state.
local common = require "common"
local recipe = require "best_recipe"

local opts = siam.args(arg, common.keys(recipe.with(common, {
  out = { "best.ckpt", help = "the model's file, in results= unless a full path" },
  checkpoint = { type = "text", help = "a training state written after every epoch" },
  resume = { type = "text", help = "such a file: training goes on from its last finished epoch "
                                   .. "(give the same keys again)" },
})), "Trains the best configuration measured on LFW View 1 and tests it at the validation "
    .. "threshold.")
local train, test = common.data(opts, recipe.load(opts))
local tr, val = recipe.split(train, opts)
local more = {}
if opts.checkpoint then more.checkpoint = common.out(opts, opts.checkpoint) end
if opts.resume then more.resume = common.out(opts, opts.resume) end
local run = common.run(opts, { train = tr, val = val, test = test })
local model, h = recipe.train(common, opts, tr, val, true, more,
                              function(...) return run:fit(...) end)
if h.epochs == 0 then
  run:finish {}
  print("no epoch finished (" .. h.stopped .. ")")
  return
end

local v = siam.evaluate(model, val)
local t = siam.evaluate(model, test)
run:finish { test = t, set = test }
local t05 = siam.evaluate(model, test, { threshold = 0.5 })
local r = siam.results.new { "set", "pairs", "threshold", "accuracy", "loss", "auc", "eer" }
r:add { set = "validation", pairs = #val, threshold = v.threshold, accuracy = v.accuracy,
        loss = v.loss, auc = v.auc, eer = v.eer }
r:add { set = "test", pairs = #test, threshold = t.threshold, accuracy = t.accuracy,
        loss = t.loss, auc = t.auc, eer = t.eer }
r:add { set = "test", pairs = #test, threshold = 0.5, accuracy = t05.accuracy, loss = t05.loss,
        auc = t05.auc, eer = t05.eer }
if recipe.cosine(opts) or opts.objective == "pair+triplet" then
  -- verification by the embeddings' cosine, its threshold chosen on validation
  local c = siam.evaluate(model, test, { score = "cosine", val = val, examples = 0 })
  r:add { set = "test (cosine)", pairs = #test, threshold = c.threshold, accuracy = c.accuracy,
          auc = c.auc, eer = c.eer }
end
print()
r:print()
print(string.format("\n%d epochs (%s%s), %.0f s", h.epochs, h.stopped,
                    h.best_epoch and (", best epoch " .. h.best_epoch) or "", h.seconds))
print(string.format("validation threshold: %.4f", model.threshold))
print("test-time augmentation: " .. model.tta)
print(string.format("test accuracy: %.4f", t.accuracy))
local path = common.out(opts, opts.out)
model:save(path)
print("run folder: " .. run.dir)
print("model saved to " .. path)
