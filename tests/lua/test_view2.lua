-- siam.view2 (LFW's View 2 protocol) and experiments/view2.lua, on a View 2
-- style pairs.txt generated over the tiny synthetic set (data=tiny's: 24
-- people x 4 images): ten person-disjoint folds of 3 matched and 3
-- mismatched pairs each.
local F = dofile(harness.dir .. "/api_fixture.lua")
local support = dofile(harness.dir .. "/support.lua")
support.interpreter = harness.interpreter
local view2 = require "siam.view2"

-- data=tiny's set (experiments/common.lua) at the small model's 48x48.
local _, _, info = siam.data.synthetic { identities = 24, images = 4, train_pairs = 40,
                                         test_pairs = 20, size = 48, cache = F.cache }
local tmp = support.tmpdir()

-- The 24 people, sorted, each holding images 1..4.
local people = {}
for line in io.lines(info.train) do
  for name in line:gmatch("(Face_%d+)") do people[name] = true end
end
for line in io.lines(info.test) do
  for name in line:gmatch("(Face_%d+)") do people[name] = true end
end
local names = {}
for name in pairs(people) do names[#names + 1] = name end
table.sort(names)

-- Fold f holds the people whose index is f mod 10 (3 people in folds 1-4,
-- 2 in folds 5-10): `per` matched pairs (one person, two of its images)
-- then `per` mismatched ones (two people of the fold), LFW's layout.
-- Returns the file's text and each fold's lines as {a, b, label}.
local function generate(nfolds, per)
  local out, byfold = { string.format("%d\t%d", nfolds, per) }, {}
  for f = 1, nfolds do
    local fp = {}
    for i = f, #names, nfolds do fp[#fp + 1] = names[i] end
    local lines = {}
    for j = 1, per do
      local p = fp[(j - 1) % #fp + 1]
      local a = (j - 1) // #fp % 3 + 1
      out[#out + 1] = string.format("%s\t%d\t%d", p, a, a + 1)
      lines[#lines + 1] = { string.format("%s/%s_%04d.png", p, p, a),
                            string.format("%s/%s_%04d.png", p, p, a + 1), 1 }
    end
    for j = 1, per do
      local p, q = fp[(j - 1) % #fp + 1], fp[j % #fp + 1]
      local a, b = (j - 1) % 4 + 1, j % 4 + 1
      out[#out + 1] = string.format("%s\t%d\t%s\t%d", p, a, q, b)
      lines[#lines + 1] = { string.format("%s/%s_%04d.png", p, p, a),
                            string.format("%s/%s_%04d.png", q, q, b), 0 }
    end
    byfold[f] = lines
  end
  return table.concat(out, "\n") .. "\n", byfold
end

local function write(name, text)
  local path = tmp .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local text, byfold = generate(10, 3)
local pairs_file = write("pairs.txt", text)
local set = siam.data.load { pairs = pairs_file, images = info.images, size = 32,
                             cache = F.cache }

local function people_of(s)
  local p = {}
  for i = 1, #s do
    local x = s:pair(i)
    p[x.person_a], p[x.person_b] = true, true
  end
  return p
end

local function key(x) return x.a .. "|" .. x.b end

test("the generated file: 60 pairs, 10 folds, person-disjoint", function()
  check.eq(#set, 60)
  check.eq(set:folds(), 10)
  check.eq(set:info().folds, 10)
  check.eq(#names, 24)
  local owner = {}
  for i = 1, #set do
    local p = set:pair(i)
    for _, who in ipairs { p.person_a, p.person_b } do
      check.truthy(owner[who] == nil or owner[who] == p.fold, who .. " in two folds")
      owner[who] = p.fold
    end
  end
end)

test("sets(k): validation is fold k + 1 (cyclically), train the eight others, nothing dropped",
     function()
  for k = 1, 10 do
    local tr, val, te, i = view2.sets(set, k)
    local vf = k % 10 + 1
    check.eq({ #tr, #val, #te, i.dropped, i.val_fold, i.shared_people }, { 48, 6, 6, 0, vf, 0 },
             "fold " .. k)
    check.eq(view2.val_fold(k), vf)
    local matched = 0
    for j = 1, 6 do
      local p = val:pair(j)
      check.eq({ p.a, p.b, p.label }, byfold[vf][j], "fold " .. k .. " validation pair " .. j)
      matched = matched + p.label
    end
    check.eq(matched, 3, "a balanced validation fold")
    for j = 1, #tr do
      local f = tr:pair(j).fold
      check.truthy(f ~= k and f ~= vf, "fold " .. f .. " in training for test fold " .. k)
    end
    check.eq(tr:summary(val).shared_people, 0, "validation people are not training people")
    check.eq(te:summary(val).shared_people, 0, "validation people are not test people")
    check.eq(tr:summary(te).shared_people, 0, "test people are not training people")
  end
  check.eq(view2.val_fold(10), 1)
  check.eq(view2.val_fold(9), 10)
  check.error('view2: validation = "folds": expected "fold" or "split"', view2.sets, set, 1,
               { validation = "folds" })
end)

test("sets(k, {validation = \"split\"}): val carved from the nine other folds", function()
  for k = 1, 10 do
    local tr, val, te, i = view2.sets(set, k, { seed = 3, validation = "split" })
    check.eq(i.val_fold, nil)
    check.eq(#te, 6, "fold " .. k .. " test pairs")
    for j = 1, 6 do
      local p = te:pair(j)
      check.eq({ p.a, p.b, p.label }, byfold[k][j], "fold " .. k .. " pair " .. j)
      check.eq(p.fold, k)
    end
    check.eq(#tr + #val + i.dropped, 54, "fold " .. k .. ": the nine other folds")
    check.eq(i.shared_people, 0)
    local test_keys, test_people = {}, people_of(te)
    for j = 1, #te do test_keys[key(te:pair(j))] = true end
    for _, s in ipairs { tr, val } do
      for j = 1, #s do
        local p = s:pair(j)
        check.truthy(p.fold ~= k, "a training pair from the test fold")
        check.truthy(not test_keys[key(p)], "a test pair in training")
        check.truthy(not test_people[p.person_a] and not test_people[p.person_b],
                     "a test person in training: " .. p.person_a .. ", " .. p.person_b)
      end
    end
    check.eq(tr:summary(val).shared_people, 0, "validation people are not training people")
    check.truthy(#val > 0 and #tr > #val, "a 20% validation split")
  end
  -- disjoint = false: a stratified split of the nine folds, nothing
  -- dropped: round(0.2 * 27) = 5 pairs of each class to validation
  local tr, val, te, i = view2.sets(set, 6, { seed = 3, disjoint = false, validation = "split" })
  check.eq({ #tr, #val, #te, i.dropped }, { 44, 10, 6, 0 })
  for j = 1, #tr do check.truthy(tr:pair(j).fold ~= 6, "fold 6 in training") end
  -- seeded: the same seed gives the same split
  local _, v1 = view2.sets(set, 4, { seed = 3, validation = "split" })
  local _, v2 = view2.sets(set, 4, { seed = 3, validation = "split" })
  check.eq(#v1, #v2)
  for j = 1, #v1 do check.eq(v1:pair(j), v2:pair(j)) end
end)

test("summary: mean, S_E = sigma / sqrt(n) with sigma over n - 1", function()
  -- Per-fold accuracies worked by hand: mean 0.8; deviations 0, +-0.01,
  -- +-0.02, +-0.03, +-0.04, 0 give squares summing to 2 * (1+4+9+16)e-4 =
  -- 0.006; sigma = sqrt(0.006 / 9) = 0.0258199; S_E = sigma / sqrt(10) =
  -- 0.00816497.
  local accs = { 0.80, 0.81, 0.79, 0.82, 0.78, 0.83, 0.77, 0.84, 0.76, 0.80 }
  local mean, se, sd = view2.summary(accs)
  check.near(mean, 0.8, 1e-12)
  check.near(sd, 0.025819889, 1e-9)
  check.near(se, 0.0081649658, 1e-9)
  -- two folds: 0.7, 0.9 -> sigma = sqrt(0.02 / 1) = 0.141421, S_E = 0.1
  mean, se, sd = view2.summary { 0.7, 0.9 }
  check.near(mean, 0.8, 1e-12)
  check.near(sd, math.sqrt(0.02), 1e-12)
  check.near(se, 0.1, 1e-12)
  -- one fold: no deviation, no standard error
  mean, se, sd = view2.summary { 0.65 }
  check.eq({ mean, se, sd }, { 0.65 })
  check.eq(view2.line { folds = { 3 }, mean = 0.65 },
           "mean accuracy 0.6500 (1 fold, no standard error)")
  check.eq(view2.line { folds = { 1, 2 }, mean = 0.8, se = 0.1 },
           "mean accuracy 0.8000 ± 0.1000 (2 folds)")
  check.error("view2.summary: no values", view2.summary, {})
end)

test("folds: all, a subset, and each kind of bad value", function()
  check.eq(view2.folds(nil), { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })
  check.eq(view2.folds(3), { 3 })
  check.eq(view2.folds({ 2, 1 }), { 1, 2 })
  check.eq(view2.folds("10,4"), { 4, 10 })
  check.error("folds=0: 0 is not a fold number (1..10), e.g. folds=1,2", view2.folds, 0)
  check.error("folds=1,11: 11 is not a fold number (1..10), e.g. folds=1,2", view2.folds, { 1, 11 })
  check.error("folds=1.5: 1.5 is not a fold number (1..10), e.g. folds=1,2", view2.folds, 1.5)
  check.error("folds=a: a is not a fold number (1..10), e.g. folds=1,2", view2.folds, "a")
  check.error("folds=2,2: fold 2 given twice", view2.folds, { 2, 2 })
  check.error('folds=1,,2: "" is not a fold number (1..10), e.g. folds=1,2', view2.folds, "1,,2")
  -- from run, the error points at run's caller
  local function run11()
    local r = view2.run(set, { folds = 11, train = print })
    return r
  end
  local msg = check.error("folds=11: 11 is not a fold number (1..10), e.g. folds=1,2", run11)
  check.truthy(msg:find("^tests/lua/test_view2%.lua:%d+: "), "position " .. msg)
  check.error("folds=true: true is not a fold number (1..10), e.g. folds=1,2", view2.folds, true)
end)

test("a set that is not 10-fold is an error naming the file and the fold count", function()
  local train = siam.data.load { pairs = info.train, images = info.images, size = 32,
                                 cache = F.cache }
  check.error(info.train .. ": the View 2 protocol needs a 10-fold pairs file (LFW's "
              .. "pairs.txt); this one has 1 fold (a View 1 file such as pairsDevTrain.txt?)",
              view2.check, train)
  local four = write("four.txt", (generate(4, 3)))
  local s4 = siam.data.load { pairs = four, images = info.images, size = 32, cache = F.cache }
  check.error(four .. ": the View 2 protocol needs a 10-fold pairs file (LFW's pairs.txt); "
              .. "this one has 4 folds", view2.run, s4, { train = function() end })
  check.error_match("^.*/nowhere/pairs%.txt: cannot open pairs file: No such file or directory$",
                    siam.data.load, { pairs = tmp .. "/nowhere/pairs.txt", images = info.images })
end)

test("run: each fold trained on its own sets, evaluated, summarised", function()
  local seen, reported = {}, {}
  local result = view2.run(set, {
    folds = "2,7", seed = 5,
    train = function(k, tr, val, te, i)
      seen[#seen + 1] = { k = k, tr = #tr, val = #val, te = #te, dropped = i.dropped }
      for j = 1, #tr do check.truthy(tr:pair(j).fold ~= k, "test fold in training") end
      -- an untrained model, its threshold set as fit's threshold = "val" would
      local m = F.model { seed = k }
      m.threshold = siam.evaluate(m, val).best_threshold or 0.5
      return m, { note = "fold" .. k, fold = -1 }
    end,
    on_fold = function(row) reported[#reported + 1] = row.fold end,
  })
  check.eq(result.folds, { 2, 7 })
  check.eq(reported, { 2, 7 })
  check.eq(#result.rows, 2)
  local accs = {}
  for n, row in ipairs(result.rows) do
    local k = seen[n].k
    check.eq(row.fold, k, "extra keys do not overwrite the protocol's")
    check.eq(row.note, "fold" .. k)
    check.eq({ row.train, row.val, row.test, row.dropped },
             { seen[n].tr, seen[n].val, 6, seen[n].dropped })
    -- the accuracy is the test fold's at the validation threshold
    local _, _, te = view2.sets(set, k, { seed = 5 })
    local m = F.model { seed = k }
    local e = siam.evaluate(m, te, { threshold = row.threshold })
    check.near(row.accuracy, e.accuracy, 1e-12)
    check.near(row.auc, e.auc, 1e-12)
    accs[n] = e.accuracy
  end
  local mean, se = view2.summary(accs)
  check.near(result.mean, mean, 1e-12)
  check.near(result.se, se, 1e-12)
  check.near(result.se, math.abs(accs[1] - accs[2]) / 2, 1e-12, "S_E of two values")
end)

local shq = support.shq

-- Runs siamlua with the words after the env prefix; returns stdout, stderr,
-- exit status.
local function run(env, ...)
  return support.run({ ... }, { env = env })
end

test("view2.lua: where it looked when pairs.txt is absent, and bad arguments", function()
  local empty = tmp .. "/empty"
  assert(siam.io.mkdir_p(empty))
  local _, err, code = run("LFW_DIR=", "experiments/view2.lua", "lfw=" .. empty)
  check.eq(code, 1)
  check.contains(err, "view2: no pairs.txt in " .. empty .. " (lfw=); View 2 needs LFW's "
                 .. "pairs.txt")
  check.contains(err, "\n  Put LFW's pairs.txt (http://vis-www.cs.umass.edu/lfw/pairs.txt) into "
                 .. empty .. ", next to pairsDevTrain.txt; or run scripts/get-lfw.sh DIR, which "
                 .. "downloads LFW with pairs.txt into DIR (default data/lfw); or give "
                 .. "pairs=FILE images=DIR.\n")
  _, err, code = run("LFW_DIR=" .. shq(empty), "experiments/view2.lua")
  check.eq(code, 1)
  check.contains(err, "view2: no pairs.txt in " .. empty .. " ($LFW_DIR)")
  if not support.read("data/lfw/pairs.txt") then
    _, err, code = run("LFW_DIR=", "experiments/view2.lua")
    check.contains(err, "no pairs.txt in data/lfw (the default: no lfw= given, $LFW_DIR unset)")
    check.eq(code, 1)
  end
  _, err, code = run("", "experiments/view2.lua", "pairs=" .. tmp .. "/none.txt")
  check.eq(err, "view2: pairs=" .. tmp .. "/none.txt: no such file\n")
  check.eq(code, 1)
  _, err, code = run("", "experiments/view2.lua", "pairs=" .. pairs_file, "folds=0,3")
  check.eq(err, "view2: folds=0,3: 0 is not a fold number (1..10), e.g. folds=1,2\n")
  check.eq(code, 1)
  -- the default crop (LFW's) on 48x48 images: the error says how to turn it off
  _, err, code = run("", "experiments/view2.lua", "pairs=" .. pairs_file, "images=" .. info.images,
                     "cache=" .. F.cache, "model=small")
  check.contains(err, ": crop 140 is larger than the 48x48 image\n  (view2.lua cuts LFW's "
                 .. "250x250 images to their centred 140x140 by default; give crop=0 for whole "
                 .. "images)\n")
  check.eq(code, 1)
  _, err, code = run("", "experiments/view2.lua", "pairs=" .. info.train, "images=" .. info.images,
                     "cache=" .. F.cache, "model=small", "crop=0")
  check.eq(err, "view2: " .. info.train .. ": the View 2 protocol needs a 10-fold pairs file "
           .. "(LFW's pairs.txt); this one has 1 fold (a View 1 file such as "
           .. "pairsDevTrain.txt?)\n")
  check.eq(code, 1)
  _, err, code = run("", "experiments/view2.lua", "data=tiny")
  check.contains(err, "view2: data=tiny: the synthetic set has no View 2 file")
  check.eq(code, 1)
  _, err, code = run("", "experiments/view2.lua", "fold=1")
  check.eq(err, "siamlua: unknown argument 'fold'; did you mean 'folds'?\n")
  check.eq(code, 1)
end)

test("view2.lua end to end: model=small, epochs=1, folds=1,2", function()
  local res = tmp .. "/results"
  local out, err, code = run("", "--threads", "1", "experiments/view2.lua",
                             "pairs=" .. pairs_file, "images=" .. info.images, "model=small",
                             "epochs=1", "extra=20", "folds=1,2", "cache=" .. F.cache,
                             "results=" .. res, "crop=40")
  check.eq(code, 0, "exit status; stderr: " .. err)
  check.contains(out, "data: View 2 pairs " .. pairs_file .. ": 60 pairs in 10 folds, 48x48 "
                 .. "images (crop 40); folds 1,2\n")
  check.contains(out, "\nfold 2: training on 48 pairs, validation 6 (fold 3)\n")
  local a1 = tonumber(out:match("\nfold 1: test accuracy (%d%.%d+) at threshold"))
  local a2 = tonumber(out:match("\nfold 2: test accuracy (%d%.%d+) at threshold"))
  check.truthy(a1 and a2, "per-fold lines\n" .. out)
  local last = out:match("([^\n]*)\n$")
  local mean, se = last:match("^view2: mean accuracy (%d%.%d+) ± (%d%.%d+) %(2 folds%)$")
  check.truthy(mean, "the final line: " .. last)
  check.near(tonumber(mean), (a1 + a2) / 2, 1e-4)
  check.near(tonumber(se), math.abs(a1 - a2) / 2, 1e-4)
  local t = siam.results.load(res .. "/view2.csv")
  check.eq(#t, 2)
  check.eq(t:columns()[1], "fold")
  check.eq({ t:get(1, "fold"), t:get(2, "fold"), t:get(1, "test") }, { "1", "2", "6" })
  check.near(tonumber(t:get(2, "accuracy")), a2, 1e-4)
  local js = support.read(res .. "/view2.json")
  check.contains(js, '"folds":[1,2]')
  check.contains(js, '"model":"small"')
  check.contains(js, '"extra":20,')
  check.contains(js, '"split":"balanced"')
  check.contains(js, '"val_fold":3')
end)

test("cleanup", function()
  os.execute("rm -rf " .. shq(tmp))
  F.cleanup()
end)
