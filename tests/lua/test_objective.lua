-- fit's training on identities: objective = "triplet" | "pair+triplet" and
-- its `triplet` options (P x K batches, margin, soft, weight, batches), the
-- loss parts in the history and state.config, and every bad value's
-- message. The C side (sampler, ops, trainer) is tested in tests/*.c.
local F = dofile(harness.dir .. "/api_fixture.lua")
local train = siam.data.synthetic { identities = 24, images = 4, size = 32, train_pairs = 40,
                                    test_pairs = 20, cache = F.cache, all_of_people = true }
local tr, va = train:split { val = 0.25, seed = 1, disjoint = true }

test("the default objective is pair, and its history has no loss parts", function()
  local cfg
  local h = siam.fit(F.model(), siam.optim.adam(), tr, {
    epochs = 1, batch_size = 8, seed = 3, on_start = function(s) cfg = s.config end,
  })
  check.eq(cfg.objective, "pair")
  check.eq(cfg.triplet, false)
  check.eq(h.train_triplet_loss, nil)
end)

test("triplet alone trains on P x K batches", function()
  local cfg, sizes = nil, {}
  local h = siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, {
    epochs = 3, batch_size = 8, seed = 3, val = va, objective = "triplet",
    triplet = { p = 4, k = 2, margin = 0.3, batches = 5 },
    on_start = function(s) cfg = s.config end,
    on_batch_end = function(s) sizes[#sizes + 1] = s.batches end,
  })
  check.eq(cfg.objective, "triplet")
  check.eq(cfg.triplet, { p = 4, k = 2, batches = 5, margin = 0.3, soft = false, weight = 1,
                          exclude = "people" })
  check.eq(#sizes, 15)
  check.eq(sizes[1], 5)
  for e = 1, 3 do
    check.eq(h.train_loss[e], h.train_triplet_loss[e])
    check.truthy(h.train_triplet_loss[e] > 0, "a positive triplet loss")
    check.truthy(h.train_pair_loss[e] ~= h.train_pair_loss[e], "no pair loss: NaN")
  end
end)

test("pair+triplet sums the parts with the weight", function()
  local cfg
  local h = siam.fit(F.model(), siam.optim.adam(), tr, {
    epochs = 2, batch_size = 8, seed = 4, objective = "pair+triplet",
    triplet = { p = 3, k = 3, weight = 0.25, soft = true },
    on_start = function(s) cfg = s.config end,
  })
  -- batches default to the pair epoch's
  check.eq(cfg.triplet.batches, (#tr + 7) // 8)
  check.eq(cfg.triplet.soft, true)
  for e = 1, 2 do
    check.truthy(math.abs(h.train_loss[e] - (h.train_pair_loss[e]
                                            + 0.25 * h.train_triplet_loss[e])) < 1e-6,
                 "train_loss is pair + 0.25 x triplet")
  end
end)

test("objective option errors", function()
  local function fit(o)
    o.epochs = 1
    o.batch_size = 8
    return siam.fit(F.model(), siam.optim.adam(), tr, o)
  end
  local pre = "bad argument #4 to 'fit' ("
  check.error(pre .. "option 'objective': unknown objective 'triplets' (pair, triplet, " ..
              "pair+triplet))", fit, { objective = "triplets" })
  check.error(pre .. "option 'objective' must be \"pair\", \"triplet\" or \"pair+triplet\", " ..
              "got number)", fit, { objective = 1 })
  check.error(pre .. "option 'triplet' needs objective \"triplet\" or \"pair+triplet\")",
              fit, { triplet = { p = 4 } })
  check.error(pre .. "option 'triplet' must be a table, got number)",
              fit, { objective = "triplet", triplet = 4 })
  check.error(pre .. "option 'triplet': unknown key 'P')",
              fit, { objective = "triplet", triplet = { P = 4 } })
  check.error(pre .. "option 'triplet': 'p' and 'k' must be in [2, 65536], got 4 and 1)",
              fit, { objective = "triplet", triplet = { p = 4, k = 1 } })
  check.error(pre .. "option 'triplet': 'margin' must be in [0, 2] (a cosine distance), " ..
              "got 3.0)", fit, { objective = "triplet", triplet = { margin = 3 } })
  check.error(pre .. "option 'triplet': 'weight' must be in (0, 1e6], got 0.0)",
              fit, { objective = "pair+triplet", triplet = { weight = 0 } })
  check.error(pre .. "option 'triplet': 'soft' must be a boolean, got number)",
              fit, { objective = "triplet", triplet = { soft = 1 } })
  check.error(pre .. "option 'triplet': 'batches' must be in [1, 100000000], got 0)",
              fit, { objective = "triplet", triplet = { batches = 0 } })
  check.error(pre .. "option 'triplet': 'exclude' must be \"people\" or \"images\", got 'x')",
              fit, { objective = "triplet", triplet = { exclude = "x" } })
  local ok, msg = pcall(fit, { objective = "triplet", triplet = { p = 500 } })
  check.truthy(not ok and msg:find("identity sampler: p 500 is more than the", 1, true),
               tostring(msg))
  ok, msg = pcall(fit, { objective = "pair+triplet", triplet = { batches = 1 } })
  check.truthy(not ok and msg:find("the identity sampler gives 1 batches an epoch, fewer than",
                                   1, true), tostring(msg))
end)

test("cosine verification: fit records it, evaluate scores by it, early stopping uses it",
     function()
  local m = F.model()
  local h = siam.fit(m, siam.optim.adam { lr = 0.003 }, tr, {
    epochs = 3, batch_size = 8, seed = 3, val = va, objective = "triplet",
    triplet = { p = 4, k = 2, batches = 4 },
    stop = siam.stop.early { monitor = "val_cos_acc", mode = "max", patience = 5 },
  })
  check.eq(#h.val_cos_acc, 3)
  -- the last epoch's weights are the model's: evaluate chooses the same threshold on va
  local e = siam.evaluate(m, va, { score = "cosine", val = va })
  check.eq(e.score, "cosine")
  check.eq(e.loss, nil)
  check.eq(e.probs, nil)
  check.eq(#e.scores, #va)
  check.eq(e.threshold, h.val_cos_threshold[3])
  check.truthy(math.abs(e.balanced_accuracy - h.val_cos_acc[3]) < 1e-12,
               e.balanced_accuracy .. " against " .. h.val_cos_acc[3])
  -- a given threshold: the accuracy is the count of scores on the right side of it
  local f = siam.evaluate(m, va, { score = "cosine", threshold = 0.5, examples = 1 })
  local right = 0
  for i, s in ipairs(f.scores) do
    if (s >= 0.5) == (va:pair(i).label == 1) then right = right + 1 end
  end
  check.eq(f.accuracy, right / #va)
  for _, s in ipairs(f.scores) do check.truthy(s >= -1 and s <= 1, "a cosine in [-1, 1]") end
  check.truthy(f.examples.tp.count + f.examples.fn.count > 0, "matched pairs among val")
  local pre = "bad argument #3 to 'siam.evaluate' ("
  check.error(pre .. "score \"cosine\" needs either 'threshold' (in [-1, 1]) or 'val' (a set " ..
              "to choose it on))", siam.evaluate, m, va, { score = "cosine" })
  check.error(pre .. "score \"cosine\" needs one of 'threshold' (in [-1, 1]) or 'val' (a set " ..
              "to choose it on))", siam.evaluate, m, va, { score = "cosine", threshold = 0,
                                                           val = va })
  check.error(pre .. "option 'threshold' must be in [-1, 1] for score \"cosine\", got 2.0)",
              siam.evaluate, m, va, { score = "cosine", threshold = 2 })
  check.error(pre .. "option 'tta' is for score \"head\")", siam.evaluate, m, va,
              { score = "cosine", val = va, tta = "flip" })
  check.error(pre .. "option 'val' is for score \"cosine\" (the head's threshold comes from " ..
              "fit's threshold = \"val\"))", siam.evaluate, m, va, { val = va })
end)
