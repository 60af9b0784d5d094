-- The selection noise of validation sets (docs/results.md, "Validation
-- noise"), measured with one model: a screening model is trained on the people that remain after a share of
-- pairsDevTrain's people is held out (hold=), then evaluated on `draws`
-- validation sets drawn from the held-out people alone, each as a recipe
-- split would draw it from its own seed: balanced (set:split{balanced=},
-- best_recipe.lua's split=balanced) and the old identity split
-- (split{val=0.2, disjoint=true}, split=people), each from half of the
-- held-out people. Prints, per kind, the spread over the draws of what
-- validation decides: the balanced accuracy at the draw's own best
-- threshold (what early stopping compares), that threshold, and the
-- difference between the final model and its mid-run weights (an epoch
-- choice). Never reads pairsDevTest.
--   siamlua experiments/val_noise.lua seed=1             (a few minutes on 2 cores)
local common = require "common"
local recipe = require "best_recipe"

local opts = siam.args(arg, common.keys {
  model = common.model_key("small"),
  epochs = { 12, min = 2, help = "epochs of the screening model (its mid-run weights are "
                                 .. "compared with its last)" },
  hold = { 0.4, type = "number", min = 0.05, below = 1,
           help = "share of the training pairs whose people are held out (never trained on)" },
  draws = { 10, min = 2, help = "validation sets drawn of each kind" },
  pairs = { recipe.val_pairs, min = 2, help = "balanced validation pairs per draw" },
}, "Measures the selection noise of balanced and old-style validation sets with one model.")
local train = common.data(opts, { all_of_people = true, crop = recipe.crop })
local tr, hold, dropped = train:split { val = opts.hold, seed = opts.seed, disjoint = true }
print(string.format("training on %d pairs; %d pairs of held-out people (%d dropped)", #tr, #hold,
                    dropped))

local model = common.model(opts, { head = "rich", init = "pytorch", dropout = 0 })
local mid, half = nil, opts.epochs // 2
local h = siam.fit(model, siam.optim.adam { lr = 0.001, weight_decay = 0.0005 }, tr, {
  epochs = opts.epochs, batch_size = 32, val = hold, seed = opts.seed, threshold = "val",
  sample_pairs = { per_epoch = 1760, keep_base = false, exclude = "people" },
  on_epoch_end = function(state)
    if state.epoch == half then
      mid = os.tmpname()
      state.model:save(mid)
    end
  end,
})
local early = siam.load(mid)
os.remove(mid)
print(string.format("trained %d epochs in %.0f s; mid-run weights: epoch %d", h.epochs, h.seconds,
                    half))

local function stats(xs)
  local s, n = 0, #xs
  for _, x in ipairs(xs) do s = s + x end
  local mean, sq = s / n, 0
  for _, x in ipairs(xs) do sq = sq + (x - mean) ^ 2 end
  return mean, math.sqrt(sq / (n - 1))
end

local kinds = {
  { name = "balanced", draw = function(seed)
      local _, v = hold:split { balanced = opts.pairs, people = 0.5, exact = false, seed = seed }
      return v
    end },
  { name = "old identity split", draw = function(seed)
      local _, v = hold:split { val = 0.5, disjoint = true, seed = seed }
      return v
    end },
}
local r = siam.results.new { "validation", "pairs", "mismatched", "bal_acc", "sd", "se_formula",
                             "threshold_sd", "diff_mean", "diff_sd" }
for _, kind in ipairs(kinds) do
  local acc, thr, diff, size, mism = {}, {}, {}, {}, {}
  for d = 1, opts.draws do
    local v = kind.draw(1000 + d)
    local e = siam.evaluate(model, v, { examples = 0 })
    local e0 = siam.evaluate(early, v, { examples = 0 })
    acc[d], thr[d] = e.best_balanced_accuracy, e.best_balanced_threshold
    diff[d] = e.best_balanced_accuracy - e0.best_balanced_accuracy
    size[d], mism[d] = #v, v:info().mismatched
  end
  local a, asd = stats(acc)
  local _, tsd = stats(thr)
  local dm, dsd = stats(diff)
  local n, m = stats(size)
  local nm = stats(mism)
  -- SE of a balanced accuracy: each class's rate over its own pairs
  -- (sqrt(p(1-p)/n) per class, the two halves averaged).
  local se = 0.5 * math.sqrt(a * (1 - a) / (n - nm) + a * (1 - a) / nm)
  r:add { validation = kind.name, pairs = math.floor(n + 0.5), mismatched = math.floor(nm + 0.5),
          bal_acc = a, sd = asd, se_formula = se, threshold_sd = tsd, diff_mean = dm,
          diff_sd = dsd }
  print(string.format("%s: %d draws, %.0f pairs (sd %.0f), balanced accuracy %.4f sd %.4f "
                      .. "(formula %.4f), threshold sd %.4f, final - mid %.4f sd %.4f",
                      kind.name, opts.draws, n, m, a, asd, se, tsd, dm, dsd))
end
print()
r:print()
