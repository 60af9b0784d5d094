-- The accuracy options: siam.model{head=, embed=}, fit's average,
-- sample_pairs and threshold = "val", the loaders' all_of_people, and a
-- save/load round trip of a rich-head model.
local F = dofile(harness.dir .. "/api_fixture.lua")
local train = F.sets()
local tr, va = train:split { val = 0.25, seed = 1, disjoint = true }

local function param_shape(m, name)
  for _, p in ipairs(m:parameters()) do
    if p.name == name then return p.shape end
  end
end

test("head and embed change the architecture", function()
  local fc = F.small.fc
  check.eq(param_shape(F.model(), "out.weight"), { 1, fc })
  -- rich: |a-b| and (a-b)^2 (fc each) and the cosine (1)
  local rich = F.model { head = "rich" }
  check.eq(param_shape(rich, "out.weight"), { 1, 2 * fc + 1 })
  check.eq(rich.config.head, "rich")
  check.eq(rich.config.embed, "sigmoid")
  local ap = F.model { head = "abs+prod", embed = "relu" }
  check.eq(param_shape(ap, "out.weight"), { 1, 2 * fc })
  check.eq(ap.config.head, "abs+prod")
  check.eq(ap.config.embed, "relu")
  check.eq(F.model().config.head, "l1")
  -- the embedding activation changes the output of the same weights
  local p1 = F.model { embed = "sigmoid" }:forward(va)
  local p2 = F.model { embed = "none" }:forward(va)
  local differ = false
  for i = 1, #p1 do differ = differ or math.abs(p1[i] - p2[i]) > 1e-6 end
  check.truthy(differ, "embed = none gives other probabilities")
end)

test("model option errors", function()
  check.error("bad argument #1 to 'model' (option 'head': unknown distance head 'l2' (l1, rich, " ..
              "or blocks joined by '+' from abs, sq, prod, cos, each once))",
              function() F.model { head = "l2" } end)
  check.error("bad argument #1 to 'model' (option 'head': unknown distance head 'abs+abs' (l1, " ..
              "rich, or blocks joined by '+' from abs, sq, prod, cos, each once))",
              function() F.model { head = "abs+abs" } end)
  check.error("bad argument #1 to 'model' (option 'embed': unknown embedding activation 'tanh' " ..
              "(sigmoid, none, relu))", function() F.model { embed = "tanh" } end)
  check.error("bad argument #1 to 'model' (option 'head' must be a string, got number)",
              function() F.model { head = 3 } end)
end)

test("a rich-head model survives save and load", function()
  local m = F.model { head = "rich", embed = "none" }
  siam.fit(m, siam.optim.adam { lr = 0.003 }, tr, { epochs = 1, batch_size = 16, seed = 2 })
  m.threshold = 0.375
  local path = F.tmpfile(".ckpt")
  m:save(path)
  local m2 = siam.load(path)
  check.eq(m2.config.head, "rich")
  check.eq(m2.config.embed, "none")
  check.eq(m2.threshold, 0.375)
  check.eq(param_shape(m2, "out.weight"), { 1, 2 * F.small.fc + 1 })
  m:eval()
  check.eq(m2:forward(va), m:forward(va))
  os.remove(path)
end)

-- Copies a parameter's values into a flat Lua array.
local function values(m, name)
  local t = m:parameter(name):totable()
  local flat = {}
  local function walk(x)
    if type(x) == "table" then for _, v in ipairs(x) do walk(v) end
    else flat[#flat + 1] = x end
  end
  walk(t)
  return flat
end

test("EMA: the model ends with the moving average of the steps' weights", function()
  local decay, names = 0.6, { "out.weight", "out.bias", "conv1.weight", "fc.weight" }
  local ema, raw = {}, {}
  local m = F.model()
  siam.fit(m, siam.optim.adam { lr = 0.01 }, tr, {
    epochs = 2, batch_size = 16, seed = 4, average = { kind = "ema", decay = decay },
    on_batch_end = function(s)
      for _, n in ipairs(names) do
        local w = values(s.model, n)
        raw[n] = w
        if ema[n] == nil then
          ema[n] = w -- the first update copies
        else
          for i = 1, #w do ema[n][i] = decay * ema[n][i] + (1 - decay) * w[i] end
        end
      end
    end,
  })
  for _, n in ipairs(names) do
    local got, maxdiff, moved = values(m, n), 0, 0
    for i = 1, #got do
      maxdiff = math.max(maxdiff, math.abs(got[i] - ema[n][i]))
      moved = math.max(moved, math.abs(got[i] - raw[n][i]))
    end
    check.truthy(maxdiff < 1e-5, n .. ": EMA differs from the Lua one by " .. maxdiff)
    check.truthy(moved > 1e-4, n .. ": the average equals the raw weights")
  end
end)

test("EMA from a later epoch and SWA: start counts", function()
  -- start = 3 of 2 epochs: nothing averaged, the raw weights stay
  local function run(avg)
    local m = F.model()
    siam.fit(m, siam.optim.adam { lr = 0.01 }, tr,
             { epochs = 2, batch_size = 16, seed = 4, average = avg })
    return values(m, "out.weight")
  end
  local plain = run(nil)
  check.eq(run { kind = "ema", start = 3 }, plain)
  -- SWA over epochs 1 and 2: the mean of the two epochs' final weights
  local ends = {}
  local m = F.model()
  siam.fit(m, siam.optim.adam { lr = 0.01 }, tr, {
    epochs = 2, batch_size = 16, seed = 4, average = { kind = "swa" },
    on_batch_end = function(s)
      if s.batch == s.batches then ends[s.epoch] = values(s.model, "out.weight") end
    end,
  })
  local got = values(m, "out.weight")
  local maxdiff = 0
  for i = 1, #got do
    maxdiff = math.max(maxdiff, math.abs(got[i] - 0.5 * (ends[1][i] + ends[2][i])))
  end
  check.truthy(maxdiff < 1e-6, "SWA differs from the mean by " .. maxdiff)
  check.eq(ends[2], plain)
end)

test("sample_pairs adds pairs to every epoch", function()
  local batches = {}
  local h = siam.fit(F.model(), siam.optim.adam(), tr, {
    epochs = 2, batch_size = 8, val = va, seed = 5, sample_pairs = { per_epoch = 24 },
    on_batch_end = function(s) batches[s.epoch] = s.batches end,
  })
  check.eq(h.epochs, 2)
  local n = #tr + 24
  check.eq(batches, { (n + 7) // 8, (n + 7) // 8 })
  local only = {}
  siam.fit(F.model(), siam.optim.adam(), tr, {
    epochs = 1, batch_size = 8, val = va, seed = 5,
    sample_pairs = { per_epoch = 16, keep_base = false, exclude = "images" },
    on_batch_end = function(s) only[s.epoch] = s.batches end,
  })
  check.eq(only, { 2 })
end)

test("all_of_people puts every image of the pairs' people in the bank", function()
  local a = F.sets()
  local b = siam.data.synthetic { identities = 24, images = 4, size = 32, train_pairs = 40,
                                  test_pairs = 20, cache = F.cache, all_of_people = true }
  check.eq(#b, #a)
  check.truthy(b:info().images > a:info().images,
               string.format("%d images with the option, %d without", b:info().images,
                             a:info().images))
  check.eq(b:summary().people, a:summary().people)
  check.eq(b:summary().images, a:summary().images)
  check.eq(b:pair(7), a:pair(7))
end)

-- The threshold maximising balanced accuracy (TPR + TNR) / 2 over probs
-- (p >= t is a match), among the scores and above them all; ties go to the
-- highest. Returns it, the balanced accuracy and the plain accuracy there.
local function best_threshold(set, probs)
  local cands = { math.huge }
  for _, p in ipairs(probs) do cands[#cands + 1] = p end
  table.sort(cands, function(x, y) return x > y end)
  local npos = 0
  for i = 1, #probs do
    if set:pair(i).label == 1 then npos = npos + 1 end
  end
  local nneg = #probs - npos
  assert(npos > 0 and nneg > 0, "the validation set has both classes")
  local best, best_t, best_plain = -1, nil, nil
  for _, t in ipairs(cands) do
    local tp, tn = 0, 0
    for i, p in ipairs(probs) do
      local pos = set:pair(i).label == 1
      if pos and p >= t then tp = tp + 1 elseif not pos and p < t then tn = tn + 1 end
    end
    local b = (tp / npos + tn / nneg) / 2
    if b > best + 1e-12 then best, best_t, best_plain = b, t, (tp + tn) / #probs end
  end
  return best_t, best, best_plain
end

test("threshold = \"val\" sets the model's threshold from validation", function()
  local m = F.model()
  local h = siam.fit(m, siam.optim.adam { lr = 0.003 }, tr,
                     { epochs = 3, batch_size = 16, val = va, seed = 6, threshold = "val" })
  check.eq(#h.val_threshold, 3)
  check.eq(h.threshold, m.threshold)
  check.eq(m.threshold, h.val_threshold[3])
  local probs = m:forward(va)
  local t, bacc, acc = best_threshold(va, probs)
  check.near(m.threshold, t, 1e-6, "threshold")
  check.near(h.val_acc_at_threshold[3], bacc, 1e-12, "balanced accuracy at the threshold")
  check.near(siam.evaluate(m, va).accuracy, acc, 1e-12, "evaluate uses it")
  -- without the option the threshold stays
  local m2 = F.model { threshold = 0.4 }
  local h2 = siam.fit(m2, siam.optim.adam(), tr, { epochs = 1, batch_size = 16, val = va })
  check.eq(m2.threshold, 0.4)
  check.eq(h2.val_threshold, nil)
end)

test("threshold = \"val\" with early stopping takes the best epoch's", function()
  local m = F.model()
  local h = siam.fit(m, siam.optim.adam { lr = 0.003 }, tr, {
    epochs = 4, batch_size = 16, val = va, seed = 6, threshold = "val",
    stop = siam.stop.early { monitor = "val_acc", mode = "max", patience = 10,
                             restore_best = true },
  })
  check.eq(m.threshold, h.val_threshold[h.best_epoch])
end)

test("fit option errors", function()
  local function fit(o)
    o.epochs = 1
    return siam.fit(F.model(), siam.optim.adam(), tr, o)
  end
  local pre = "bad argument #4 to 'fit' ("
  check.error(pre .. "option 'threshold' is \"val\" but no 'val' set was given)",
              fit, { threshold = "val" })
  check.error(pre .. "option 'threshold' must be a number in [0, 1] or \"val\", got 'test')",
              fit, { threshold = "test" })
  check.error(pre .. "option 'threshold' must be a number in [0, 1] or \"val\", got table)",
              fit, { threshold = {} })
  check.error(pre .. "option 'threshold' must be in [0, 1], got 1.5)", fit, { threshold = 1.5 })
  check.error(pre .. "option 'average' must be a table, got string)", fit, { average = "ema" })
  check.error(pre .. "option 'average': 'kind' must be \"ema\" or \"swa\", got nil)",
              fit, { average = {} })
  check.error(pre .. "option 'average': 'kind' must be \"ema\" or \"swa\", got 'polyak')",
              fit, { average = { kind = "polyak" } })
  check.error(pre .. "option 'average': unknown key 'decy')",
              fit, { average = { kind = "ema", decy = 0.9 } })
  check.error(pre .. "option 'average': 'decay' must be in [0, 1), got 1.0)",
              fit, { average = { kind = "ema", decay = 1 } })
  check.error(pre .. "option 'average': 'decay' must be a number, got string)",
              fit, { average = { kind = "ema", decay = "x" } })
  check.error(pre .. "option 'average': 'decay' is for kind \"ema\" only)",
              fit, { average = { kind = "swa", decay = 0.9 } })
  check.error(pre .. "option 'average': 'start' must be an epoch >= 1, got 0)",
              fit, { average = { kind = "swa", start = 0 } })
  check.error(pre .. "option 'average': 'start' must be an integer, got a fraction)",
              fit, { average = { kind = "swa", start = 1.5 } })
  check.error(pre .. "option 'sample_pairs' must be a table, got number)",
              fit, { sample_pairs = 100 })
  check.error(pre .. "option 'sample_pairs': 'per_epoch' is required)",
              fit, { sample_pairs = {} })
  check.error(pre .. "option 'sample_pairs': 'per_epoch' must be in [1, 100000000], got 0)",
              fit, { sample_pairs = { per_epoch = 0 } })
  check.error(pre .. "option 'sample_pairs': 'exclude' must be \"people\" or \"images\", got 'all')",
              fit, { sample_pairs = { per_epoch = 4, exclude = "all" } })
  check.error(pre .. "option 'sample_pairs': 'keep_base' must be a boolean, got number)",
              fit, { sample_pairs = { per_epoch = 4, keep_base = 1 } })
  check.error(pre .. "option 'sample_pairs': unknown key 'count')",
              fit, { sample_pairs = { count = 4 } })
  check.error(pre .. "unknown option 'averge'; did you mean 'average'?)", fit, { averge = {} })
end)

test("cleanup", function() F.cleanup() end)
