-- scripts/verify.lua end to end (probability, decision, exit status, the
-- error for each kind of bad input) and the experiment scripts' argument
-- checking, each run as its own siamlua process.
local F = dofile(harness.dir .. "/api_fixture.lua")
local support = dofile(harness.dir .. "/support.lua")
support.interpreter = harness.interpreter
local train, testset, info = F.sets()
local shq = support.shq

-- Runs siamlua with the words; returns stdout, stderr, exit status.
local function run(...)
  return support.run({ ... })
end

local model = F.model()
siam.fit(model, siam.optim.adam { lr = 0.003 }, train, { epochs = 2, batch_size = 16 })
local ckpt = F.tmpfile(".ckpt")
model.threshold = 0.5
model:save(ckpt)
local probs = model:forward(testset)

test("verify prints the probability and the decision at the model's threshold", function()
  for _, i in ipairs { 1, 40 } do
    local p = testset:pair(i)
    local out, err, code = run("scripts/verify.lua", ckpt, info.images .. "/" .. p.a,
                               info.images .. "/" .. p.b)
    check.eq(err, "")
    local shown = tonumber(out:match("^match probability: (%d%.%d+)\n"))
    check.near(shown, probs[i], 5e-5)
    local same = probs[i] >= 0.5
    check.contains(out, "decision: " .. (same and "same person" or "different people")
                   .. " (threshold 0.50)\n")
    check.eq(code, same and 0 or 1)
  end
end)

test("the threshold comes from the checkpoint", function()
  local p = testset:pair(1)
  local m2 = siam.load(ckpt)
  m2.threshold = 1
  local path = F.tmpfile(".ckpt")
  m2:save(path)
  local out, _, code = run("scripts/verify.lua", path, info.images .. "/" .. p.a,
                           info.images .. "/" .. p.b)
  check.contains(out, "decision: different people (threshold 1.00)")
  check.eq(code, 1)
  os.remove(path)
end)

test("verify: clear errors, exit status 2", function()
  local img = info.images .. "/" .. testset:pair(1).a
  local _, err, code = run("scripts/verify.lua", "/no/model.ckpt", img, img)
  check.eq(err, "verify: /no/model.ckpt: No such file or directory\n")
  check.eq(code, 2)
  _, err, code = run("scripts/verify.lua", ckpt, img, "/no/b.jpg")
  check.eq(err, "verify: /no/b.jpg: cannot open image: No such file or directory\n")
  check.eq(code, 2)
  _, err = run("scripts/verify.lua", ckpt, img, harness.dir)
  check.eq(err, "verify: " .. harness.dir .. ": not a regular file (a directory)\n")
  _, err, code = run("scripts/verify.lua", harness.dir, img, img)
  check.eq(err, "verify: " .. harness.dir .. ": is a directory\n")
  check.eq(code, 2)
  _, err = run("scripts/verify.lua", ckpt, img, "tests/lua/harness.lua")
  check.eq(err, "verify: tests/lua/harness.lua: not a readable image (unknown image type)\n")
  _, err = run("scripts/verify.lua", img, img, img)
  check.eq(err, "verify: checkpoint " .. img .. ": not a siamlua checkpoint (bad magic)\n")
  _, err, code = run("scripts/verify.lua", ckpt)
  check.eq(err, "usage: siamlua scripts/verify.lua model.ckpt image_a image_b\n")
  check.eq(code, 2)
end)

-- A model trained on cropped images (as every best.lua model is): verify
-- loads the pair with the model's crop and size, and its answer follows the
-- probability and the threshold both ways.
test("verify on a model trained with a crop: the decision follows p and the threshold", function()
  local ctr = siam.data.load { root = info.dir, size = 32, crop = 24, cache = F.cache }
  local m = F.model()
  siam.fit(m, siam.optim.adam { lr = 0.003 }, ctr, { epochs = 1, batch_size = 16 })
  check.eq(m.crop, 24)
  local function paths(i)
    local p = ctr:pair(i)
    return info.images .. "/" .. p.a, info.images .. "/" .. p.b
  end
  -- two pairs with different probabilities, and a threshold between them
  local probs = m:forward(ctr)
  local lo, hi = 1, 1
  for i = 1, #ctr do
    if probs[i] < probs[lo] then lo = i end
    if probs[i] > probs[hi] then hi = i end
  end
  check.truthy(probs[hi] > probs[lo], "the model tells pairs apart")
  m.threshold = (probs[lo] + probs[hi]) / 2
  local path = F.tmpfile(".ckpt")
  m:save(path)
  for _, i in ipairs { lo, hi } do
    local a, b = paths(i)
    local want = m:forward(siam.data.files({ { a, b } }, { size = 32, crop = 24 }))[1]
    check.near(want, probs[i], 1e-6, "the files are the loader's pixels")
    local out, err, code = run("scripts/verify.lua", path, a, b)
    check.eq(err, "")
    check.near(tonumber(out:match("^match probability: (%d%.%d+)\n")), want, 5e-5)
    check.eq(code, want >= m.threshold and 0 or 1)
    check.eq(code, i == hi and 0 or 1)
  end
  os.remove(path)
  os.remove(path .. ".meta")
end)

test("verify: any error exits 2, and a FIFO is refused at once", function()
  local p = testset:pair(1)
  local a, b = info.images .. "/" .. p.a, info.images .. "/" .. p.b
  -- an error the script does not expect (here: forward itself fails)
  local sabotage = "local load = siam.load siam.load = function(path) local m = load(path) "
                   .. "return setmetatable({}, {__index = function(_, k) if k == 'forward' then "
                   .. "return function() error('forward failed') end end return m[k] end}) end"
  local out, err, code = run("-e", sabotage, "scripts/verify.lua", ckpt, a, b)
  check.eq(code, 2)
  check.eq(out, "")
  check.eq(err, "verify: (command line):1: forward failed\n")
  local dir = support.tmpdir()
  local fifo = dir .. "/face.jpg"
  check.eq(os.execute("mkfifo " .. shq(fifo)), true)
  out, err, code = support.run({ "scripts/verify.lua", ckpt, a, fifo }, { timeout = 20 })
  check.eq(code, 2, "exit status (124: it hung)")
  check.eq(err, "verify: " .. fifo .. ": not a regular file (a FIFO)\n")
  support.cleanup()
end)

local SCRIPTS = { "grid", "seed_best", "custom_stop", "schedule", "hooks", "quickstart", "best",
                  "ensemble", "view2", "val_noise" }

test("experiment scripts reject unknown arguments before any work", function()
  for _, s in ipairs(SCRIPTS) do
    local _, err, code = run("experiments/" .. s .. ".lua", "bacth=3")
    if s == "grid" or s == "quickstart" then
      check.eq(err, "siamlua: unknown argument 'bacth'; did you mean 'batch'?\n", s)
    else
      check.truthy(err:find("^siamlua: unknown argument 'bacth' %(known: [%w_, ]*results[%w_, ]*%)\n$"),
                   s .. ": " .. err)
    end
    check.eq(code, 1)
  end
  local _, err = run("experiments/grid.lua", "model=huge")
  check.contains(err, "siamlua: model=huge: expected model=paper or model=small")
end)

-- A bad value, an unknown key and a value outside a list, each refused in
-- well under a second: one line, no traceback, status 1, nothing on
-- stdout and no data loaded (the cache folder is never made).
test("bad arguments fail at once, one line, before any data loads", function()
  local dir = support.tmpdir()
  local cache = dir .. "/cache"
  for _, c in ipairs {
    { "quickstart", "epochs=abc", "siamlua: epochs=abc: expected an integer >= 1\n" },
    { "best", "head=l2", "siamlua: head=l2: expected head=rich or head=l1\n" },
    { "best", "schedule=linear", "siamlua: schedule=linear: expected one of none, cosine, step\n" },
    { "grid", "lr=0.1,x", "siamlua: lr=0.1,x: expected a number >= 0 for each value\n" },
    { "seed_best", "epohcs=2", "siamlua: unknown argument 'epohcs'; did you mean 'epochs'?\n" },
  } do
    local t0 = siam.io.clock()
    local out, err, code = support.run({ "experiments/" .. c[1] .. ".lua", c[2], "data=tiny",
                                         "cache=" .. cache, "results=" .. dir .. "/results" })
    local took = siam.io.clock() - t0
    check.eq(err, c[3], c[1] .. " " .. c[2])
    check.eq(out, "")
    check.eq(code, 1)
    check.truthy(took < 1, string.format("%s %s took %.2f s", c[1], c[2], took))
    check.eq(siam.io.list(cache), nil, "no data loaded")
  end
  support.cleanup()
end)

test("--help and -h print the generated usage on stdout, status 0, and run nothing", function()
  local out, err, code = run("experiments/seed_best.lua", "--help")
  check.eq(err, "")
  check.eq(code, 0)
  check.eq(out, [[
usage: siamlua experiments/seed_best.lua [key=value ...]
The seed's chosen configuration (batch 32, lr 0.005, StepLR, early stopping), trained and tested.

keys (key=value):
  cache    text                  -               where the synthetic set and image caches go
  crop     integer in [0, 8192]  -               cut each source image to its centred NxN square before resizing (0: the whole image; default: the whole image)
  data     tiny                  -               tiny: a 24-person synthetic set, for smoke tests
  epochs   integer >= 1          25              most epochs to train (early stopping may end sooner)
  lfw      text                  -               the LFW directory (default $LFW_DIR, else data/lfw)
  model    paper|small           paper           paper: Koch et al.'s network at 105x105; small: a reduced one at 48x48 for CPU runs
  out      text                  seed_best.ckpt  the model's file, in results= unless a full path
  results  text                  results         where run folders and outputs go
  seed     integer >= 0          0               the seed of the model, the shuffle and the splits (default: --seed's)
  subset   integer >= 1          -               train on N pairs of the training set
]])
  for _, s in ipairs(SCRIPTS) do
    local o, e, c = run("experiments/" .. s .. ".lua", "epochs=abc", "-h")
    check.eq(c, 0, s)
    check.eq(e, "", s)
    check.contains(o, "usage: siamlua experiments/" .. s .. ".lua ", s)
    check.contains(o, "\n  results  ", s)
  end
  check.contains(run("experiments/grid.lua", "--help"),
                 "usage: siamlua experiments/grid.lua [--shard i/n] [key=value ...]\n")
  for _, s in ipairs { "verify", "merge_grid", "bench_fit" } do
    local o, e, c = run("scripts/" .. s .. ".lua", "--help")
    check.eq(c, 0, s)
    check.eq(e, "", s)
    check.contains(o, "usage: siamlua scripts/" .. s .. ".lua ", s)
  end
end)

test("a script loads its sibling modules with require (its folder is on package.path)", function()
  local dir = support.tmpdir()
  local f = assert(io.open(dir .. "/helper_mod.lua", "w"))
  f:write("return { answer = 42 }\n")
  f:close()
  f = assert(io.open(dir .. "/main.lua", "w"))
  f:write("print(require('helper_mod').answer)\n")
  f:close()
  local out, err, code = run(dir .. "/main.lua")
  check.eq(err, "")
  check.eq(out, "42\n")
  check.eq(code, 0)
  support.cleanup()
end)

test("every experiment runs end to end on a tiny synthetic set", function()
  local res = F.tmpfile("")
  local common = { "model=small", "data=tiny", "cache=" .. F.cache, "results=" .. res }
  local function exp(name, ...)
    local words = { "--threads", "1", "experiments/" .. name .. ".lua" }
    for _, w in ipairs(common) do words[#words + 1] = w end
    for _, w in ipairs { ... } do words[#words + 1] = w end
    local out, err, code = run(table.unpack(words))
    check.eq(code, 0, name .. " exit status; stderr: " .. err)
    check.contains(err, "data: SYNTHETIC face set (24 people x 4 images, seed 1)")
    return out, err
  end
  local out = exp("grid", "epochs=1", "batch=16,32", "lr=0.005", "l2=0", "dropout=0")
  check.contains(out, "grid: 2 configurations\n")
  -- the same grid on another subset is another run: trained, not skipped
  local again = exp("grid", "epochs=1", "batch=16,32", "lr=0.005", "l2=0", "dropout=0",
                    "subset=40", "out=grid2")
  check.truthy(not again:find("already finished"), again)
  local same = exp("grid", "epochs=1", "batch=16,32", "lr=0.005", "l2=0", "dropout=0",
                   "subset=40", "out=grid2")
  check.contains(same, "grid: 2 configuration(s) already finished, skipped")
  local other = exp("grid", "epochs=1", "batch=16,32", "lr=0.005", "l2=0", "dropout=0",
                    "out=grid2")
  check.truthy(not other:find("already finished"), "subset dropped: another run: " .. other)
  local t = siam.results.load(res .. "/grid/grid.csv")
  check.eq(#t, 2)
  check.eq(t:columns()[1], "rank")
  check.eq(t:get(1, "status"), "done")
  check.truthy(tonumber(t:get(1, "val_acc")) >= tonumber(t:get(2, "val_acc")), "sorted")
  out = exp("seed_best", "epochs=1")
  check.truthy(out:find("test accuracy: %d%.%d+\n"), "seed_best reports test accuracy")
  local m = siam.load(res .. "/seed_best.ckpt")
  check.eq(m.config.size, 48)
  out = exp("custom_stop", "epochs=2", "gap=1")
  check.truthy(out:find("stopped after %d of 2 epochs"), "custom_stop reports")
  out = exp("schedule", "epochs=3", "warmup=2", "lr=0.002", "min_lr=0")
  check.contains(out, "planned learning rates:\n 0.001 0.002 0\n")
  out = exp("hooks", "epochs=2")
  local f = assert(io.open(res .. "/norms.csv"))
  local header, first = f:read("l"), f:read("l")
  f:close()
  check.eq(header, "epoch,parameter,numel,norm,grad_norm")
  check.truthy(first:find("^1,conv1%.weight,784,"), "first row " .. first)
  out = exp("quickstart", "epochs=1")
  check.contains(out, "test accuracy ")
  out = exp("best", "epochs=2", "extra=40", "patience=5", "crop=40")
  check.truthy(out:find("test accuracy: %d%.%d+\n"), "best reports test accuracy")
  local full_acc = out:match("test accuracy: (%d%.%d+)\n")
  check.contains(out, "48x48 images (centre 40x40 of each source)\n")
  local thr = tonumber(out:match("validation threshold: (%d%.%d+)\n"))
  m = siam.load(res .. "/best.ckpt")
  check.eq(m.config.head, "rich")
  check.eq(m.crop, 40)
  check.eq(m.tta, "flip")
  check.contains(out, "test-time augmentation: flip\n")
  check.near(m.threshold, thr, 5e-5, "the saved threshold is the validation one")
  -- a run checkpointed after its first epoch and resumed to two: the same model
  local err
  out, err = exp("best", "epochs=1", "extra=40", "patience=5", "crop=40", "out=part.ckpt",
                 "checkpoint=run.ckpt")
  check.contains(err, "epoch 1/1: ") -- the run's progress, on stderr
  out, err = exp("best", "epochs=2", "extra=40", "patience=5", "crop=40", "out=resumed.ckpt",
                 "resume=run.ckpt")
  check.truthy(not err:find("epoch 1/2: "), "the first epoch is not run again")
  check.contains(err, "epoch 2/2: ")
  check.eq(tonumber(out:match("validation threshold: (%d%.%d+)\n")), thr)
  local function norms(path)
    local r = {}
    for _, p in ipairs(siam.load(path):parameters()) do r[#r + 1] = p.norm end
    return r
  end
  check.eq(norms(res .. "/resumed.ckpt"), norms(res .. "/best.ckpt"))
  check.eq(out:match("test accuracy: (%d%.%d+)\n"), full_acc)
  -- a model with itself: the mean probabilities and threshold are its own
  local b = res .. "/best.ckpt"
  out = exp("ensemble", "models=" .. b .. "," .. b)
  local member = out:match("best%.ckpt%s+%d%.%d+%s+(%d%.?%d*)")
  check.truthy(member, "member row in " .. out)
  check.eq(tonumber(out:match("ensemble test accuracy: (%d%.%d+)\n")), tonumber(member))
  check.contains(out, "ensemble of 2")
  -- every script that trains (and the ensemble) left a finished run folder
  for _, name in ipairs { "seed_best", "custom_stop", "schedule", "hooks", "quickstart", "best",
                          "ensemble" } do
    local dirs = siam.io.list(res .. "/" .. name)
    check.truthy(dirs and #dirs >= 1, name .. " wrote a run folder")
    local d = res .. "/" .. name .. "/" .. dirs[1]
    local cfg = dofile(d .. "/config.lua")
    check.eq(cfg.config.script, name)
    check.eq(cfg.identity:sub(1, 8), dirs[1]:match("%-(%x+)$"), name .. " folder name")
    check.truthy(support.read(d .. "/test.json"), name .. " test.json")
    check.eq(support.read(d .. "/train.ckpt"), nil, name .. " finished: no training state left")
  end
  -- grid folders are named by the keys that vary, then the identity
  local gdirs = siam.io.list(res .. "/grid")
  local named = {}
  for _, g in ipairs(gdirs) do named[#named + 1] = g:match("^(batch%d+)%-%x%x%x%x%x%x%x%x$") end
  check.eq(named, { "batch16", "batch32" }, table.concat(gdirs, " "))
  -- members must have seen the same crop (the test set is loaded with it)
  local _, err, code = run("experiments/ensemble.lua", "data=tiny", "model=small",
                           "cache=" .. F.cache, "models=" .. b .. "," .. res .. "/seed_best.ckpt")
  check.contains(err, "seed_best.ckpt was trained on crop 0, " .. b .. " on crop 40\n")
  check.eq(code, 1)
  _, err, code = run("experiments/ensemble.lua", "models=" .. b)
  check.contains(err, "siamlua: models=: expected two or more checkpoints")
  check.eq(code, 1)
  _, err, code = run("experiments/ensemble.lua", "models=" .. b .. "," .. res .. "/none.ckpt")
  check.contains(err, "none.ckpt: cannot open: No such file or directory")
  check.eq(code, 1)
  os.execute("rm -rf " .. shq(res))
end)

test("find's synthetic stand-in is loaded whole whatever the crop, and says so", function()
  local dir = F.tmpfile("")
  os.execute("mkdir -p " .. shq(dir))
  local script = "local tr = siam.data.find{crop = 140, synthetic = {identities = 24, images = 4, "
                 .. "train_pairs = 40, test_pairs = 20}, cache = " .. string.format("%q", F.cache)
                 .. ", quiet = false} print('crop ' .. tr:info().crop)"
  -- from an empty directory with $LFW_DIR empty: no LFW anywhere
  local o, e, code = support.run({ "-e", script }, { env = "LFW_DIR=", cwd = dir })
  os.execute("rm -rf " .. shq(dir))
  check.eq(code, 0, "stderr: " .. e)
  check.eq(o, "crop 0\n")
  check.contains(e, "data: crop 140 not applied: it is meant for LFW's framing, and the synthetic "
                 .. "faces fill their images\n")
end)

test("cleanup", function()
  os.remove(ckpt)
  F.cleanup()
end)
