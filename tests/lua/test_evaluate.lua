-- siam.evaluate against metrics recomputed here in plain Lua from the
-- probabilities it returns and the labels of the set.
local F = dofile(harness.dir .. "/api_fixture.lua")
local train, testset = F.sets()
local m = F.model()
siam.fit(m, siam.optim.adam { lr = 0.003 }, train, { epochs = 3, batch_size = 16, seed = 2 })

local labels = {}
for i = 1, #testset do labels[i] = testset:pair(i).label end

test("accuracy, confusion and loss match a naive count", function()
  local e = siam.evaluate(m, testset)
  check.eq(e.n, 40)
  check.eq(e.threshold, 0.5)
  check.eq(#e.probs, 40)
  check.eq(e.probs, m:forward(testset))
  local tp, fp, tn, fn, loss = 0, 0, 0, 0, 0
  for i, p in ipairs(e.probs) do
    local pred = p >= 0.5
    if pred and labels[i] == 1 then tp = tp + 1
    elseif pred then fp = fp + 1
    elseif labels[i] == 1 then fn = fn + 1
    else tn = tn + 1 end
    loss = loss - (labels[i] == 1 and math.log(p) or math.log(1 - p))
  end
  check.eq(e.confusion, { tp = tp, fp = fp, tn = tn, fn = fn })
  check.near(e.accuracy, (tp + tn) / 40, 1e-12)
  check.near(e.loss, loss / 40, 1e-6)
end)

test("AUC as the Mann-Whitney statistic; best threshold; EER in [0, 1]", function()
  local e = siam.evaluate(m, testset)
  local wins, n = 0, 0
  for i, p in ipairs(e.probs) do
    if labels[i] == 1 then
      for j, q in ipairs(e.probs) do
        if labels[j] == 0 then
          n = n + 1
          wins = wins + (p > q and 1 or p == q and 0.5 or 0)
        end
      end
    end
  end
  check.near(e.auc, wins / n, 1e-12)
  -- best threshold: no threshold among the scores does better
  local best = 0
  for _, t in ipairs(e.probs) do
    local c = 0
    for i, p in ipairs(e.probs) do if (p >= t) == (labels[i] == 1) then c = c + 1 end end
    best = math.max(best, c / 40)
  end
  check.near(e.best_accuracy, best, 1e-12)
  local c = 0
  for i, p in ipairs(e.probs) do if (p >= e.best_threshold) == (labels[i] == 1) then c = c + 1 end end
  check.near(c / 40, e.best_accuracy, 1e-12)
  check.truthy(e.eer >= 0 and e.eer <= 1, "eer " .. e.eer)
  check.truthy(e.eer_threshold >= 0 and e.eer_threshold <= 1, "eer threshold")
end)

test("threshold option and model.threshold move the decision", function()
  local all = siam.evaluate(m, testset, { threshold = 0 })
  check.eq(all.confusion.tp + all.confusion.fp, 40)
  check.eq(all.accuracy, 0.5)
  m.threshold = 1
  local none = siam.evaluate(m, testset)
  check.eq(none.threshold, 1.0)
  check.eq(none.confusion.tn + none.confusion.fn, 40)
  m.threshold = 0.5
end)

test("balanced accuracy at the threshold and its best threshold match a naive count", function()
  local e = siam.evaluate(m, testset)
  local function balanced(t)
    local tp, pos, tn, neg = 0, 0, 0, 0
    for i, p in ipairs(e.probs) do
      if labels[i] == 1 then
        pos = pos + 1
        if p >= t then tp = tp + 1 end
      else
        neg = neg + 1
        if p < t then tn = tn + 1 end
      end
    end
    return (tp / pos + tn / neg) / 2
  end
  check.near(e.balanced_accuracy, balanced(0.5), 1e-12)
  local best = 0
  for _, t in ipairs(e.probs) do best = math.max(best, balanced(t)) end
  check.near(e.best_balanced_accuracy, best, 1e-12)
  check.near(balanced(e.best_balanced_threshold), best, 1e-12)
end)

test("tta: flip averages each pair with its mirror image; model.tta is the default", function()
  local plain = siam.evaluate(m, testset, { tta = "none" })
  local flip = siam.evaluate(m, testset, { tta = "flip" })
  check.eq(plain.tta, "none")
  check.eq(flip.tta, "flip")
  check.eq(m.tta, "none")
  check.eq(plain.probs, m:forward(testset))
  local moved = 0
  for i = 1, #plain.probs do moved = math.max(moved, math.abs(flip.probs[i] - plain.probs[i])) end
  check.truthy(moved > 1e-4, "the mirror changes some probability, by " .. moved)
  m.tta = "flip"
  check.eq(siam.evaluate(m, testset).probs, flip.probs)
  check.eq(m:forward(testset), flip.probs)
  check.eq(siam.evaluate(m, testset, { tta = "none" }).probs, plain.probs)
  m.tta = "none"
  check.error_match("option 'tta'", function() return siam.evaluate(m, testset, { tta = "mirror" }) end)
  check.error_match('tta must be "none" or "flip", got mirror', function() m.tta = "mirror" end)
  check.error_match('tta must be "none" or "flip", got number', function() m.tta = 1 end)
  check.eq(m.tta, "none")
end)

test("examples: best and worst of each outcome, ordered by confidence", function()
  local e = siam.evaluate(m, testset, { examples = 2 })
  local c = e.confusion
  for _, o in ipairs { "tp", "fp", "tn", "fn" } do
    local ex = e.examples[o]
    check.eq(ex.count, c[o])
    check.eq(#ex.best, math.min(2, c[o]))
    check.eq(#ex.worst, math.min(2, c[o]))
    for _, x in ipairs(ex.best) do
      check.eq(x.p, e.probs[x.index])
      local pair = testset:pair(x.index)
      check.eq(x.a, pair.a)
      check.eq(x.b, pair.b)
      check.eq(x.label, pair.label)
      check.eq(x.label, (o == "tp" or o == "fn") and 1 or 0)
    end
  end
  -- for a correct outcome the best example is the most confident one
  local tp = e.examples.tp
  if tp.count >= 2 then
    local top = 0
    for i, p in ipairs(e.probs) do if p >= 0.5 and labels[i] == 1 then top = math.max(top, p) end end
    check.eq(tp.best[1].p, top)
    check.truthy(tp.worst[1].p <= tp.best[1].p, "worst TP is the least confident")
  end
  -- for an error the worst example is the most confident one
  local fp = e.examples.fp
  if fp.count >= 1 then
    local top = 0
    for i, p in ipairs(e.probs) do if p >= 0.5 and labels[i] == 0 then top = math.max(top, p) end end
    check.eq(fp.worst[1].p, top)
  end
  check.eq(#siam.evaluate(m, testset, { examples = 0 }).examples.tp.best, 0)
end)

test("one class only: no AUC, EER or best threshold", function()
  local _, _, info = F.sets()
  local pairs = {}
  for i = 1, 5 do
    local p = testset:pair(i)
    pairs[i] = { info.images .. "/" .. p.a, info.images .. "/" .. p.b, 1 }
  end
  local e = siam.evaluate(m, siam.data.files(pairs, { size = 32 }))
  check.eq(e.n, 5)
  check.eq(e.auc, nil)
  check.eq(e.eer, nil)
  check.eq(e.best_threshold, nil)
  check.eq(e.confusion.tp + e.confusion.fn, 5)
end)

test("errors", function()
  check.error("bad argument #1 to 'evaluate' (siam.Model expected, got siam.PairSet)",
              function() siam.evaluate(testset, testset) end)
  check.error("bad argument #2 to 'evaluate' (siam.PairSet expected, got nil)",
              function() siam.evaluate(m, nil) end)
  check.error("bad argument #3 to 'evaluate' (option 'threshold' must be in [0, 1], got 1.5)",
              function() siam.evaluate(m, testset, { threshold = 1.5 }) end)
  check.error("bad argument #3 to 'evaluate' (unknown option 'treshold'; did you mean 'threshold'?)",
              function() siam.evaluate(m, testset, { treshold = 0.5 }) end)
end)

test("cleanup", F.cleanup)
