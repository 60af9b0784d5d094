-- siam.run: the run folder a training run leaves, filled through the fit
-- hooks (driven here by fake_fit.lua, which follows siam.fit's hook
-- contract), and the TensorBoard file decoded by protoc.
local Run = require "siam.run"
local fake = dofile(harness.dir .. "/fake_fit.lua")

-- A fresh folder per test (support.tmpdir); the last one is removed by the
-- cleanup test.
local support = dofile(harness.dir .. "/support.lua")
local tmpdir, read = support.tmpdir, support.read

local function lines(s)
  local out = {}
  for l in s:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function train(root, cfg, id, extra)
  local run = Run.new{ experiment = "exp", id = id, root = root, config = cfg, progress = false }
  run.fit_function = fake.fit
  local model = fake.model(cfg.seed)
  local opts = { epochs = cfg.epochs }
  for k, v in pairs(extra or {}) do opts[k] = v end
  run:fit(model, nil, cfg, opts)
  local face = string.rep("\90", 105 * 105)
  local sheet = { { label = "TP most sure", pairs = { { a = face, b = face, prob = 0.97 } } } }
  return run, run:finish{ test = fake.evaluate(cfg), sheet = sheet }, model
end

test("a run folder holds config, metrics, log, checkpoint, test, events and plots", function()
  local root = tmpdir()
  local cfg = { lr = 0.005, epochs = 3, batch = 16, seed = 7, peak = 2 }
  local run, summary, model = train(root, cfg, "r1")
  local dir = root .. "/exp/r1"
  check.eq(run.dir, dir)
  -- config.lua reloads to the configuration, with the run's identity and
  -- what produced it
  local saved = dofile(dir .. "/config.lua")
  check.eq(saved.config, cfg)
  check.eq(saved.identity, run.identity)
  check.eq(saved.identity, Run.identity(cfg, {}))
  check.eq(saved.experiment, "exp")
  check.eq(saved.produced_by.siamlua, siam.version)
  check.eq(saved.produced_by.commit, siam.build.commit)
  check.eq(saved.produced_by.cpu, siam.build.cpu)
  check.eq(saved.produced_by.checkpoint_format, siam.build.checkpoint_format)
  check.eq(saved.resolved.fit, { epochs = 3 })
  local csv = lines(read(dir .. "/metrics.csv"))
  check.eq(#csv, 4, "header + 3 epochs")
  check.eq(csv[1], "epoch,train_loss,train_acc,val_loss,val_acc,lr,time")
  local m2 = fake.metrics(cfg, 2)
  local c = {}
  for x in (csv[3] .. ","):gmatch("([^,]*),") do c[#c + 1] = x end
  check.eq(c[1], "2")
  check.near(tonumber(c[2]), m2.train_loss, 1e-6)
  check.near(tonumber(c[5]), m2.val_acc, 1e-6)
  check.eq(c[6], "0.005")
  local js = lines(read(dir .. "/metrics.jsonl"))
  check.eq(#js, 3)
  check.contains(js[1], '"epoch":1,')
  check.contains(js[3], '"lr":0.005,')
  -- val_acc peaks at epoch 2: that is the best epoch, saved once
  check.eq(summary.best_epoch, 2)
  check.eq(summary.status, "done")
  check.near(summary.val_acc, m2.val_acc, 1e-12)
  check.eq(model.saves, 2, "saved at epochs 1 and 2, not 3")
  check.eq(read(dir .. "/best.ckpt"), "fake checkpoint 2\n")
  local test = read(dir .. "/test.json")
  check.contains(test, '"confusion":{"fn":12,"fp":10,"tn":38,"tp":40}')
  check.contains(test, '"auc":0.75')
  local log = lines(read(dir .. "/log.txt"))
  check.truthy(log[1]:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ INFO  run exp/r1 in "),
               "first log line: " .. log[1])
  local epoch_lines = 0
  for _, l in ipairs(log) do if l:find("INFO  epoch %d: train_loss=") then epoch_lines = epoch_lines + 1 end end
  check.eq(epoch_lines, 3)
  check.contains(log[#log], "INFO  run done: ")
  local names = siam.io.list(dir)
  local events = 0
  for _, n in ipairs(names) do if n:match("^events%.out%.tfevents%.%d+%..+%.%d+$") then events = events + 1 end end
  check.eq(events, 1, "one event file")
  check.eq(read(dir .. "/plots/sheet.png"):sub(1, 4), "\137PNG")
  for _, n in ipairs{ "training.dat", "training.gp", "confusion.dat", "confusion.gp", "roc.dat", "roc.gp" } do
    check.truthy(read(dir .. "/plots/" .. n), n)
  end
  local dat = read(dir .. "/plots/confusion.dat")
  check.contains(dat, "40")
  if run._plotter and run._plotter:has_gnuplot() then
    for _, n in ipairs{ "training.png", "confusion.png", "roc.png" } do
      check.eq(read(dir .. "/plots/" .. n):sub(1, 8), "\137PNG\r\n\26\n", n)
    end
  end
end)

test("user hooks run after the run's and can stop training", function()
  local root = tmpdir()
  local cfg = { lr = 0.001, epochs = 5, seed = 1 }
  local seen = {}
  local run, summary = train(root, cfg, "stop", {
    on_epoch_end = function(state)
      seen[#seen + 1] = state.epoch
      if state.epoch == 2 then state.stop = true end
    end,
  })
  check.eq(seen, { 1, 2 })
  check.eq(summary.status, "early-stopped")
  check.eq(summary.epochs, 5, "configured")
  check.eq(summary.epochs_run, 2)
  check.eq(#lines(read(run.dir .. "/metrics.csv")), 3)
end)

test("fit_options keeps the caller's options and hooks, and silences fit's own lines", function()
  local root = tmpdir()
  local run = Run.new{ experiment = "exp", id = "opts", root = root, progress = false }
  local mine = function() end
  local o = run:fit_options{ epochs = 4, on_end = mine }
  check.eq(o.epochs, 4)
  check.eq(o.verbose, false)
  check.eq(type(o.on_epoch_end), "function")
  check.truthy(o.on_end ~= mine, "on_end chained")
  check.eq(run:fit_options{ verbose = true }.verbose, true)
  run:close()
end)

test("an interrupted fit marks the run interrupted", function()
  local root = tmpdir()
  local run, summary = train(root, { lr = 0.001, epochs = 4, interrupt_at = 2, seed = 1 }, "int")
  check.eq(run.interrupted, true)
  check.eq(summary.status, "interrupted")
  check.eq(summary.epochs_run, 2)
end)

test("a NaN loss gives status nan, naming the metric and epoch", function()
  local root = tmpdir()
  local _, summary = train(root, { lr = 0.001, epochs = 3, nan_at = 2, seed = 1 }, "nan")
  check.eq(summary.status, "nan")
  check.eq(summary.message, "train_loss is NaN at epoch 2")
end)

test("fit stopping on non-finite values gives status nan with fit's message", function()
  local root = tmpdir()
  local run, summary = train(root, { lr = 0.001, epochs = 4, nan_stop_at = 3, seed = 1 }, "div")
  check.eq(summary.status, "nan")
  check.eq(summary.epochs_run, 2)
  check.eq(summary.message, "non-finite gradient at epoch 3, batch 1")
  check.contains(read(run.dir .. "/log.txt"), "ERROR non-finite gradient at epoch 3, batch 1")
end)

test("the same id with another configuration is refused, nothing written", function()
  local root = tmpdir()
  train(root, { lr = 0.001, epochs = 3, seed = 1 }, "taken")
  local before = read(root .. "/exp/taken/metrics.csv")
  local ok, err = pcall(Run.new, { experiment = "exp", id = "taken", root = root,
                                   config = { lr = 0.002, epochs = 3, seed = 1 },
                                   progress = false })
  check.eq(ok, false)
  check.contains(err, "run folder " .. root .. "/exp/taken holds another configuration (identity ")
  check.contains(err, "); give another id")
  check.eq(read(root .. "/exp/taken/metrics.csv"), before)
end)

test("runs without an id: a new folder each, named by time and identity, never shared", function()
  local root = tmpdir()
  local cfg = { lr = 0.001, epochs = 1 }
  local a = Run.new{ experiment = "exp", root = root, config = cfg, progress = false }
  local b = Run.new{ experiment = "exp", root = root, config = cfg, progress = false }
  local c = Run.new{ experiment = "exp", root = root, config = { lr = 0.002, epochs = 1 },
                     progress = false }
  check.truthy(a.dir ~= b.dir, "two folders: " .. a.dir)
  check.truthy(a.id:match("^%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d%-(%x+)$") == a.identity:sub(1, 8),
               a.id)
  -- started in the same second they would share a name: the second gets -2
  if b.id:sub(1, 15) == a.id:sub(1, 15) then check.eq(b.id, a.id .. "-2") end
  check.eq(b.identity, a.identity)
  check.truthy(c.identity ~= a.identity, "another configuration, another identity")
  a:info("from a")
  b:info("from b")
  a:close() b:close() c:close()
  check.truthy(not read(a.dir .. "/log.txt"):find("from b", 1, true), "logs not interleaved")
end)

test("reuse = 'unfinished': a run given again resumes its interrupted folder, not a finished one", function()
  local root = tmpdir()
  local cfg = { lr = 0.001, epochs = 3 }
  local function new() return Run.new{ experiment = "exp", root = root, config = cfg,
                                       reuse = "unfinished", progress = false } end
  local a = new()
  a:epoch({ epoch = 1, train_loss = 0.5, val_acc = 0.6 })
  assert(siam.io.atomic_write(a.state_path, "training state"))
  a:close() -- killed before finish: rows and training state stay
  local b = new()
  check.eq(b.dir, a.dir, "the interrupted folder is resumed")
  check.eq(b.resume_from, b.state_path)
  check.eq(#b.rows, 1)
  -- while b holds it, a third run of the same configuration gets its own
  local c = new()
  check.truthy(c.dir ~= b.dir, "a folder in use is not shared")
  c:close()
  b:finish{}
  local d = new()
  check.truthy(d.dir ~= a.dir, "a finished run is not resumed: a new folder")
  d:close()
  local other = Run.new{ experiment = "exp", root = root, config = { lr = 0.002, epochs = 3 },
                         reuse = "unfinished", progress = false }
  check.truthy(other.dir ~= a.dir, "another configuration never resumes it")
  other:close()
end)

test("a folder in use by another run is refused while it is held", function()
  local root = tmpdir()
  local a = Run.new{ experiment = "exp", id = "held", root = root, progress = false }
  local ok, err = pcall(Run.new, { experiment = "exp", id = "held", root = root,
                                   progress = false })
  check.eq(ok, false)
  check.contains(err, root .. "/exp/held is in use by process ")
  a:close()
  local b = Run.new{ experiment = "exp", id = "held", root = root, progress = false }
  b:close()
end)

test("identity: configuration, data and checkpoint format; not paths or key order", function()
  local base = Run.identity({ lr = 0.005, batch = 16 }, {})
  check.truthy(base:match("^%x+$") and #base == 16, base)
  check.eq(Run.identity({ batch = 16, lr = 0.005 }, {}), base)
  check.truthy(Run.identity({ lr = 0.005, batch = 16, model = "small" }, {}) ~= base)
  check.truthy(Run.identity({ lr = 0.005, batch = 32 }, {}) ~= base)
  local d1 = { train = { fingerprint = "aa", source_hash = "11", root = "/x" } }
  local d2 = { train = { fingerprint = "aa", source_hash = "11", root = "/elsewhere" } }
  local d3 = { train = { fingerprint = "ab", source_hash = "11", root = "/x" } }
  local k1 = Run.identity({ lr = 1 }, Run.data_key(d1))
  check.eq(Run.identity({ lr = 1 }, Run.data_key(d2)), k1, "the same data elsewhere")
  check.truthy(Run.identity({ lr = 1 }, Run.data_key(d3)) ~= k1, "other pixels or pairs")
end)

test("running the same id again starts the folder over", function()
  local root = tmpdir()
  train(root, { lr = 0.001, epochs = 3, seed = 1 }, "again")
  local run = Run.new{ experiment = "exp", id = "again", root = root, progress = false,
                       config = { lr = 0.001, epochs = 3, seed = 1 } }
  local model = fake.model(1)
  fake.fit(model, nil, { lr = 0.001, epochs = 2, seed = 1 }, run:fit_options{})
  run:finish{}
  check.eq(#lines(read(run.dir .. "/metrics.csv")), 3, "two epochs, not five")
  check.eq(read(run.dir .. "/test.json"), nil, "the old test.json is gone")
  local events = 0
  for _, n in ipairs(siam.io.list(run.dir)) do if n:match("^events%.out") then events = events + 1 end end
  check.eq(events, 1)
end)

test("the ROC curve from probabilities and labels", function()
  -- probs 0.9(1) 0.8(0) 0.8(1) 0.3(0) 0.1(1): the tie at 0.8 moves in one step
  local fpr, tpr = Run.roc_curve({ 0.9, 0.8, 0.8, 0.3, 0.1 }, { 1, 0, 1, 0, 1 })
  check.eq(fpr, { 0, 0, 0.5, 1, 1 })
  check.eq(tpr, { 0, 1 / 3, 2 / 3, 2 / 3, 1 })
  check.eq(Run.roc_curve({ 0.5 }, { 1 }), nil, "one class only")
  local root = tmpdir()
  local run = Run.new{ experiment = "exp", id = "roc", root = root, progress = false }
  run:finish{ test = { accuracy = 0.6, auc = 0.5, probs = { 0.9, 0.8, 0.8, 0.3, 0.1 } },
              labels = { 1, 0, 1, 0, 1 } }
  local dat = read(run.dir .. "/plots/roc.dat")
  check.truthy(dat, "roc.dat written")
  check.contains(dat, "0.5")
end)

test("Run.new checks its options", function()
  check.error("bad argument #1 to 'new' (table expected, got nil)", Run.new)
  check.error("bad argument #1 to 'new' (unknown option 'epxeriment')", Run.new, { epxeriment = "x" })
  check.error("bad argument #1 to 'new' (experiment must be a name of letters, digits, '_', '.', '-')",
              Run.new, { experiment = "a/b" })
  check.error("bad argument #1 to 'new' (id must be a folder name, got ../x)", Run.new,
              { experiment = "a", id = "../x" })
  check.error("bad argument #1 to 'new' (mode must be 'max' or 'min')", Run.new,
              { experiment = "a", mode = "up" })
end)

-- TFRecords of a file: list of payload strings; checks the framing lengths.
local function records(data)
  local out, pos = {}, 1
  while pos <= #data do
    local len = string.unpack("<I8", data, pos)
    out[#out + 1] = data:sub(pos + 12, pos + 12 + len - 1)
    pos = pos + 12 + len + 4
  end
  check.eq(pos, #data + 1, "records fill the file exactly")
  return out
end

test("the event file written from Lua decodes with protoc", function()
  if not os.execute("protoc --version >/dev/null 2>&1") then
    skip("protoc not found (Debian: protobuf-compiler)")
  end
  local root = tmpdir()
  local cfg = { lr = 0.005, epochs = 2, seed = 7 }
  local run = train(root, cfg, "tb")
  local file
  for _, n in ipairs(siam.io.list(run.dir)) do if n:match("^events") then file = run.dir .. "/" .. n end end
  local recs = records(read(file))
  local proto = harness.dir .. "/../data"
  local function decode(payload)
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb")) f:write(payload) f:close()
    local p = io.popen("protoc --proto_path=" .. proto .. " --decode=siamtest.Event " .. proto ..
                       "/event.proto < " .. tmp .. " 2>&1")
    local out = p:read("a")
    p:close()
    os.remove(tmp)
    return out
  end
  check.contains(decode(recs[1]), 'file_version: "brain.Event:2"')
  local text = {}
  for i = 2, #recs do text[#text + 1] = decode(recs[i]) end
  local all = table.concat(text, "\n")
  local m1 = fake.metrics(cfg, 1)
  -- one scalar event per metric per epoch, plus one histogram per epoch
  check.contains(all, 'tag: "loss/train"')
  check.contains(all, 'tag: "acc/val"')
  check.contains(all, 'tag: "lr"')
  check.contains(all, 'tag: "weights/conv1.weight"')
  check.contains(all, 'tag: "norm/conv1.weight"')
  check.contains(all, 'tag: "grad_norm/conv1.weight"')
  check.contains(all, 'tag: "acc/test"')
  check.contains(all, 'tag: "pairs/sheet"')
  local found = false
  for block in all:gmatch("step: 1\n.-\n}") do
    if block:find('tag: "acc/val"', 1, true) then
      local v = tonumber(block:match("simple_value: ([%d%.e%-]+)"))
      check.near(v, m1.val_acc, 1e-6, "acc/val at step 1 (float32)")
      found = true
    end
  end
  check.truthy(found, "acc/val at step 1")
end)

test("Run.readable_name: a folder name less its identity digits, a start time as a date", function()
  check.eq(Run.readable_name("batch16-lr0.001-0a1b2c3d"), "batch16-lr0.001")
  check.eq(Run.readable_name("batch16-lr0.001-0a1b2c3d-2"), "batch16-lr0.001")
  check.eq(Run.readable_name("20261202-033000-0a1b2c3d"), "2026-12-02 03:30:00 UTC")
  check.eq(Run.readable_name("small"), "small")
  check.eq(Run.readable_name("lr-0.1"), "lr-0.1")
end)

test("cleanup", support.cleanup)
