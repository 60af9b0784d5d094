-- siam.fit: history, hooks and the state table, schedules and stopping
-- rules in C and in Lua, custom metrics, errors raised in hooks, option
-- errors, the checkpoint and resume options, and Ctrl-C (last: it leaves the flag set).
local F = dofile(harness.dir .. "/api_fixture.lua")
local train, testset = F.sets()
local tr, va = train:split { val = 0.25, seed = 1 }

test("training learns: the loss falls and the set is fitted", function()
  local m = F.model()
  local opt = siam.optim.adam { lr = 0.003 }
  local h = siam.fit(m, opt, tr, { epochs = 12, batch_size = 8, val = va, seed = 3 })
  check.eq(h.epochs, 12)
  check.eq(h.stopped, "completed")
  check.eq(#h.train_loss, 12)
  check.eq(#h.val_acc, 12)
  check.truthy(h.train_loss[12] < 0.8 * h.train_loss[1],
               string.format("loss %.4f -> %.4f", h.train_loss[1], h.train_loss[12]))
  check.truthy(h.train_acc[12] >= 0.75, "train accuracy " .. h.train_acc[12])
  check.eq(opt.steps, 12 * 8) -- 60 pairs in batches of 8: 8 steps per epoch
  check.truthy(type(h.seconds) == "number" and h.seconds >= 0, "seconds")
  -- no validation set: no val metrics
  local h2 = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 1, batch_size = 8 })
  check.eq(h2.val_acc, nil)
  check.eq(#h2.train_acc, 1)
end)

test("the same seeds give the same run", function()
  local function run()
    local h = siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr,
                       { epochs = 2, batch_size = 8, seed = 9 })
    return h.train_loss
  end
  check.eq(run(), run())
end)

test("hooks: calls, order and the state table", function()
  local log = {}
  local function note(what) return function(s) log[#log + 1] = what .. s.epoch end end
  local seen
  local h = siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, {
    epochs = 2, batch_size = 32, val = va,
    on_start = note("start"), on_epoch_start = note("es"), on_end = note("end"),
    on_batch_end = function(s)
      log[#log + 1] = string.format("b%d.%d/%d:%d", s.epoch, s.batch, s.batches, s.batch_size)
      check.truthy(s.loss > 0, "loss")
      check.eq(s.lr, 0.01)
    end,
    on_epoch_end = function(s)
      log[#log + 1] = "ee" .. s.epoch
      seen = s
      check.eq(#s.history.train_loss, s.epoch)
      check.eq(s.metrics.train_loss, s.history.train_loss[s.epoch])
      check.truthy(s.metrics.val_acc >= 0 and s.metrics.val_acc <= 1, "val_acc")
    end,
  })
  check.eq(log, { "start0", "es1", "b1.1/2:32", "b1.2/2:28", "ee1", "es2", "b2.1/2:32",
                  "b2.2/2:28", "ee2", "end2" })
  check.eq(seen.epochs, 2)
  check.truthy(seen.train == tr and seen.val == va, "sets in the state")
  check.eq(getmetatable(seen.model).__name, "siam.Model")
  check.eq(getmetatable(seen.optimizer).__name, "siam.Optimizer")
  check.eq(seen.history, h)
end)

test("h.config and state.config: every option fit resolved, defaults filled in", function()
  local seen
  local h = siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, {
    epochs = 1, val = va, stop = siam.stop.early { patience = 3 },
    on_start = function(s) seen = s.config end,
  })
  check.eq(seen, h.config)
  check.eq(h.config, {
    epochs = 1, batch_size = 32, seed = siam.config.seed, drop_last = false, mean = 0, std = 1,
    threshold = 0.5, val = true, augment = false, schedule = false, average = false,
    sample_pairs = false, checkpoint = false, resume = false, objective = "pair", triplet = false,
    stop = { monitor = "val_acc", mode = "max", patience = 3, min_delta = 0, restore_best = false },
  })
  local h2 = siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, {
    epochs = 1, batch_size = 16, augment = siam.data.augment { p_flip = 0.5 },
    schedule = function() return 0.01 end, stop = function() return false end,
  })
  check.eq(h2.config.schedule, "<Lua function>")
  check.eq(h2.config.stop, "<Lua function>")
  check.eq(h2.config.augment.p_flip, 0.5)
  check.eq(h2.config.augment.scale_min, 0.8)
  check.eq(h2.config.val, false)
end)

test("state.batches is the epoch's batch count from its first hook on", function()
  local at_start, at_batch = {}, {}
  siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, {
    epochs = 2, batch_size = 32,
    on_epoch_start = function(s) at_start[#at_start + 1] = s.batches end,
    on_batch_end = function(s) at_batch[s.epoch] = s.batches end,
  })
  check.eq(at_start, { 2, 2 }, "60 pairs in batches of 32")
  check.eq(at_batch, { 2, 2 })
  at_start = {}
  siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, {
    epochs = 1, batch_size = 7, drop_last = true,
    on_epoch_start = function(s) at_start[#at_start + 1] = s.batches end,
  })
  check.eq(at_start, { math.floor(#tr / 7) })
end)

test("state.stop ends training; a mid-epoch stop records nothing of that epoch", function()
  local h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 5, batch_size = 8,
    on_epoch_end = function(s) if s.epoch == 2 then s.stop = true end end })
  check.eq(h.epochs, 2)
  check.eq(h.stopped, "requested")
  local batches = 0
  h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 5, batch_size = 8,
    on_batch_end = function(s) batches = batches + 1; if s.batch == 3 then s.stop = true end end })
  check.eq(batches, 3)
  check.eq(h.epochs, 0)
  check.eq(h.train_loss, {})
  h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 5,
    on_start = function(s) s.stop = true end })
  check.eq(h.epochs, 0)
end)

test("a Lua stopping rule sees the metrics and stops after that epoch", function()
  local h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 6, batch_size = 16, val = va,
    stop = function(s) return s.epoch >= 3 and s.metrics.val_loss == s.metrics.val_loss end })
  check.eq(h.epochs, 3)
  check.eq(h.stopped, "requested")
end)

test("a Lua schedule sets the lr of each epoch", function()
  local opt = siam.optim.adam { lr = 0.01 }
  local h = siam.fit(F.model(), opt, tr, { epochs = 4, batch_size = 32,
    schedule = function(epoch, base) return base / epoch end })
  check.eq(h.lr, { 0.01, 0.005, 0.01 / 3, 0.0025 })
  check.error("schedule returned -1.0 for epoch 1 (a learning rate >= 0 expected)", function()
    siam.fit(F.model(), siam.optim.adam(), tr, { schedule = function() return -1.0 end })
  end)
  check.error("schedule returned nil for epoch 1 (a learning rate >= 0 expected)", function()
    siam.fit(F.model(), siam.optim.adam(), tr, { schedule = function() end })
  end)
end)

test("StepLR from siam.schedule.step starts from the optimizer's lr", function()
  local h = siam.fit(F.model(), siam.optim.adam { lr = 0.008 }, tr, { epochs = 5, batch_size = 32,
    schedule = siam.schedule.step { step_size = 2, gamma = 0.5 } })
  check.eq(h.lr, { 0.008, 0.008, 0.004, 0.004, 0.002 })
end)

test("cosine annealing from siam.schedule.cosine runs in C from the optimizer's lr", function()
  local h = siam.fit(F.model(), siam.optim.adam { lr = 0.008 }, tr, { epochs = 5, batch_size = 32,
    schedule = siam.schedule.cosine { t_max = 4 } })
  check.eq(#h.lr, 5)
  check.eq(h.lr[1], 0.008)
  check.near(h.lr[2], 0.004 * (1 + math.sqrt(0.5)), 1e-15)
  check.near(h.lr[3], 0.004, 1e-15)
  check.near(h.lr[4], 0.004 * (1 - math.sqrt(0.5)), 1e-15)
  check.near(h.lr[5], 0, 1e-15)
end)

-- A metric the hook records, fed to the plateau: with patience 1 and
-- cooldown 1 it halves the lr after epochs 4 and 8 (worked by hand with
-- ReduceLROnPlateau's rule; tests/test_plateau.c checks the rule itself
-- against PyTorch).
local PLATEAU_SCORES = { 1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.88 }
local PLATEAU_LRS = { 0.008, 0.008, 0.008, 0.008, 0.004, 0.004, 0.004, 0.004, 0.002, 0.002 }
local function plateau_opts(epochs, extra)
  local o = { epochs = epochs, batch_size = 32, verbose = false,
    on_epoch_end = function(s) s.metrics.score = PLATEAU_SCORES[s.epoch] end,
    schedule = siam.schedule.plateau { monitor = "score", patience = 1, factor = 0.5,
                                       cooldown = 1 } }
  for k, v in pairs(extra or {}) do o[k] = v end
  if o.schedule == false then o.schedule = nil end
  return o
end

test("ReduceLROnPlateau from siam.schedule.plateau follows the monitored metric", function()
  local opt = siam.optim.adam { lr = 0.008 }
  local h = siam.fit(F.model(), opt, tr, plateau_opts(10))
  check.eq(h.lr, PLATEAU_LRS)
  check.eq(opt.lr, 0.002)
  check.eq(h.config.schedule, { kind = "plateau", monitor = "score", mode = "min", factor = 0.5,
                                patience = 1, threshold = 1e-4, threshold_mode = "rel",
                                cooldown = 1, min_lr = 0, eps = 1e-8, base_lr = 0.008 })
  -- mode max, patience 0: epoch 1 improves on -inf, 0.9 and 0.95 do not beat 1.0
  local hm = siam.fit(F.model(), siam.optim.adam { lr = 0.008 }, tr, plateau_opts(4, {
    schedule = siam.schedule.plateau { monitor = "score", mode = "max", patience = 0 } }))
  check.eq(hm.lr, { 0.008, 0.008, 0.0008, 0.00008 })
  check.error("bad argument #4 to 'fit' (the plateau schedule monitors 'val_loss' but no 'val' "
              .. "set was given)",
              function() siam.fit(F.model(), siam.optim.adam(), tr, { schedule = siam.schedule.plateau {} }) end)
  check.error("plateau schedule: metric 'nothing' was not recorded in epoch 1", function()
    siam.fit(F.model(), siam.optim.adam(), tr,
             { verbose = false, schedule = siam.schedule.plateau { monitor = "nothing" } })
  end)
  -- the default monitor is val_loss, with a validation set
  local hv = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 1, val = va, verbose = false,
                                                          schedule = siam.schedule.plateau {} })
  check.eq(hv.config.schedule.monitor, "val_loss")
end)

test("a resumed plateau schedule continues its bad epochs and cooldown", function()
  local path = F.tmpfile(".ckpt")
  for _, stop_at in ipairs { 3, 4 } do -- one bad epoch counted; in cooldown
    siam.fit(F.model(), siam.optim.adam { lr = 0.008 }, tr, plateau_opts(stop_at, { checkpoint = path }))
    local opt = siam.optim.adam { lr = 0.5 } -- the file's lr is the one used
    local h = siam.fit(F.model(), opt, tr, plateau_opts(10, { resume = path }))
    check.eq(h.lr, PLATEAU_LRS, "resumed after epoch " .. stop_at)
  end
  -- a checkpoint written without a plateau (as every older file) starts one afresh:
  -- best is +inf again at epoch 4, so 0.96 improves and no reduction comes until epoch 8
  siam.fit(F.model(), siam.optim.adam { lr = 0.008 }, tr,
           plateau_opts(3, { checkpoint = path, schedule = false }))
  local h = siam.fit(F.model(), siam.optim.adam(), tr, plateau_opts(10, { resume = path }))
  check.eq(h.lr, { 0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.004, 0.004 })
  os.remove(path)
end)

test("early stopping on a custom metric; best epoch and restore", function()
  -- score rises for two epochs, then falls: with patience 2 the run stops
  -- after epoch 4 and the best epoch is 2
  local scores = { 0.5, 0.7, 0.6, 0.65, 0.9, 0.9 }
  local h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 6, batch_size = 32,
    on_epoch_end = function(s) s.metrics.score = scores[s.epoch] end,
    stop = siam.stop.early { monitor = "score", mode = "max", patience = 2, restore_best = true } })
  check.eq(h.epochs, 4)
  check.eq(h.stopped, "early")
  check.eq(h.best_epoch, 2)
  check.eq(h.best, 0.7)
  check.eq(h.score, { 0.5, 0.7, 0.6, 0.65 })
  check.error("bad argument #4 to 'fit' (early stopping monitors 'val_acc' but no 'val' set was given)",
              function() siam.fit(F.model(), siam.optim.adam(), tr, { stop = siam.stop.early() }) end)
  check.error("early stopping: metric 'nothing' was not recorded in epoch 1", function()
    siam.fit(F.model(), siam.optim.adam(), tr, { stop = siam.stop.early { monitor = "nothing" } })
  end)
end)

-- The issue's reproduction: Adam at lr 1e30 on the small 48x48 model. The
-- probabilities stay finite (ReLU, max-pool and the BCE clamps hide the NaN),
-- so only the gradient check sees it.
local function small48(seed)
  return siam.model { size = 48, channels = { 16, 32, 32, 64 }, kernels = { 7, 5, 3, 3 },
                      fc = 128, init = "pytorch", seed = seed or 1, device = "cpu" }
end
local set48 = siam.data.synthetic { identities = 24, images = 4, train_pairs = 40,
                                    test_pairs = 20, size = 48, cache = F.cache }

local function norms(m)
  local r = {}
  for _, p in ipairs(m:parameters()) do r[p.name] = p.norm end
  return r
end

test("a diverging run stops with stopped = 'nan', says where, and keeps finite weights", function()
  local m = small48()
  local ended
  local h = siam.fit(m, siam.optim.adam { lr = 1e30 }, set48, { epochs = 2, batch_size = 8,
    on_end = function(s) ended = s.history.stopped end })
  check.eq(h.stopped, "nan")
  check.eq(ended, "nan")
  check.truthy(h.nan:find("^non%-finite gradient at epoch 1, batch 2 %(%d+ of 50113 values; "
                          .. "first in conv1%.weight%)$"), h.nan)
  -- the lost epoch is not recorded
  check.eq(h.epochs, 0)
  check.eq(h.train_loss, {})
  for name, n in pairs(norms(m)) do
    check.truthy(n == n and n < math.huge, name .. " norm " .. n)
  end
end)

test("a NaN stop with early stopping and restore_best restores the best finite epoch", function()
  local tr48, va48 = set48:split { val = 0.25, seed = 1 }
  local m = small48()
  local seen = {}
  local h = siam.fit(m, siam.optim.adam { lr = 1e-3 }, tr48, { epochs = 6, batch_size = 8,
    val = va48, schedule = function(e, base) return e >= 3 and 1e30 or base end,
    stop = siam.stop.early { monitor = "val_loss", patience = 5, restore_best = true },
    on_epoch_end = function(s) seen[s.epoch] = norms(s.model) end })
  check.eq(h.stopped, "nan")
  check.truthy(h.nan:find("^non%-finite gradient at epoch 3, batch %d+ "), h.nan)
  check.eq(h.epochs, 2)
  check.eq(#h.val_loss, 2)
  check.truthy(h.best_epoch == 1 or h.best_epoch == 2, "best epoch " .. tostring(h.best_epoch))
  check.eq(norms(m), seen[h.best_epoch])
end)

test("fit says on stderr why training stopped, unless quiet", function()
  local support = dofile(harness.dir .. "/support.lua")
  support.interpreter = harness.interpreter
  local script = string.format([[
    local tr = siam.data.synthetic { identities = 24, images = 4, train_pairs = 40,
                                     test_pairs = 20, size = 48, cache = %q, quiet = true }
    local m = siam.model { size = 48, channels = { 16, 32, 32, 64 }, kernels = { 7, 5, 3, 3 },
                           fc = 128, init = "pytorch", seed = 1, device = "cpu" }
    local h = siam.fit(m, siam.optim.adam { lr = 1e30 }, tr, { epochs = 1, batch_size = 8,
                                                               verbose = false })
    print(h.stopped)]], F.cache)
  local out, err, code = support.run { "--threads", "1", "-e", script }
  check.eq(code, 0, err)
  check.eq(out, "nan\n")
  check.truthy(err:find("^fit: training stopped: non%-finite gradient at epoch 1, batch 2 %("),
               err)
  out, err = support.run { "--threads", "1", "--quiet", "-e", script }
  check.eq(out, "nan\n")
  check.eq(err, "")
end)

test("early stopping on a metric that is NaN in every epoch says it chose no best epoch", function()
  local h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 6, batch_size = 32,
    on_epoch_end = function(s) s.metrics.score = 0 / 0 end,
    stop = siam.stop.early { monitor = "score", mode = "max", patience = 3, restore_best = true } })
  check.eq(h.stopped, "early")
  check.eq(h.epochs, 3)
  check.eq(h.best_epoch, nil)
  check.eq(h.stop_message, "early stopping: 'score' was NaN in every epoch (epochs 1-3), so no "
                           .. "best epoch was chosen and the last weights are kept")
  -- -inf in max mode never improves either; one finite epoch is enough
  h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 2, batch_size = 32,
    on_epoch_end = function(s) s.metrics.score = s.epoch == 1 and 0 / 0 or -math.huge end,
    stop = siam.stop.early { monitor = "score", mode = "max", patience = 3 } })
  check.eq(h.stopped, "completed")
  check.eq(h.stop_message, "early stopping: 'score' was NaN or -inf in every epoch (epochs 1-2), "
                           .. "so no best epoch was chosen and the last weights are kept")
  h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 2, batch_size = 32,
    on_epoch_end = function(s) s.metrics.score = s.epoch == 1 and 0 / 0 or 0.5 end,
    stop = siam.stop.early { monitor = "score", mode = "max", patience = 3 } })
  check.eq(h.best_epoch, 2)
  check.eq(h.stop_message, nil)
end)

test("an error in a hook is raised by fit, unchanged", function()
  check.error("boom", function()
    siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 2,
      on_batch_end = function(s) if s.batch == 2 then error("boom", 0) end end })
  end)
  local ok, e = pcall(siam.fit, F.model(), siam.optim.adam(), tr,
                      { on_end = function() error({ code = 7 }) end })
  check.eq(ok, false)
  check.eq(e, { code = 7 })
end)

test("argument and option errors", function()
  local m, o = F.model(), siam.optim.adam()
  check.error("bad argument #1 to 'fit' (siam.Model expected, got no value)", function() siam.fit() end)
  check.error("bad argument #2 to 'fit' (siam.Optimizer expected, got siam.Model)",
              function() siam.fit(m, m, tr) end)
  check.error("bad argument #3 to 'fit' (siam.PairSet expected, got table)",
              function() siam.fit(m, o, {}) end)
  check.error("bad argument #4 to 'fit' (table expected, got number)",
              function() siam.fit(m, o, tr, 5) end)
  check.error("bad argument #4 to 'fit' (unknown option 'epoch'; did you mean 'epochs'?)",
              function() siam.fit(m, o, tr, { epoch = 2 }) end)
  check.error("bad argument #4 to 'fit' (option 'epochs' must be in [1, 1000000], got 0)",
              function() siam.fit(m, o, tr, { epochs = 0 }) end)
  check.error("bad argument #4 to 'fit' (option 'on_end' must be a function, got string)",
              function() siam.fit(m, o, tr, { on_end = "x" }) end)
  check.error("bad argument #4 to 'fit' (option 'val' must be a siam.PairSet, got table)",
              function() siam.fit(m, o, tr, { val = {} }) end)
  check.error("bad argument #4 to 'fit' (option 'schedule' must be a siam.Schedule or a function, got number)",
              function() siam.fit(m, o, tr, { schedule = 0.1 }) end)
  check.error("bad argument #4 to 'fit' (option 'stop' must be a siam.EarlyStop or a function, got boolean)",
              function() siam.fit(m, o, tr, { stop = true }) end)
  check.error("bad argument #4 to 'fit' (drop_last with 60 pairs and batch_size 64 leaves no batch)",
              function() siam.fit(m, o, tr, { batch_size = 64, drop_last = true }) end)
  check.error("bad argument #4 to 'fit' (unknown augment option 'rotate')",
              function() siam.fit(m, o, tr, { augment = { rotate = 3 } }) end)
  local big = F.model { size = 40 }
  check.error("bad argument #3 to 'fit' (the pair set's images are 32x32, the model takes 40x40)",
              function() siam.fit(big, o, tr) end)
end)

test("augmentation and dropout train too", function()
  local h = siam.fit(F.model { dropout = 0.3 }, siam.optim.adam(), tr,
                     { epochs = 2, batch_size = 16, augment = true })
  check.eq(h.epochs, 2)
  check.truthy(h.train_loss[2] == h.train_loss[2], "finite loss")
end)

test("checkpoint option writes a model siam.load reads, with its threshold and crop", function()
  local path = F.tmpfile(".ckpt")
  local m = F.model { seed = 3 }
  m.tta = "flip"
  local h = siam.fit(m, siam.optim.adam(), tr, { epochs = 2, batch_size = 16, checkpoint = path,
                                                 val = va, threshold = "val" })
  check.eq(io.open(path .. ".meta"), nil)
  local m2 = siam.load(path)
  check.eq(m2:forward(testset), m:forward(testset))
  check.truthy(h.threshold ~= 0.5, "a threshold chosen on validation")
  check.eq(m2.threshold, h.threshold)
  check.eq(m2.threshold, m.threshold)
  check.eq(m2.crop, tr:info().crop)
  check.eq(m2.tta, "flip")
  check.eq(m2.init, "pytorch")
  check.eq(m2.seed, 3)
  os.remove(path)
end)

test("resume: a run stopped after 2 epochs and resumed to 4 equals the 4-epoch run", function()
  local path = F.tmpfile(".ckpt")
  local function opts(epochs, extra)
    local o = { epochs = epochs, batch_size = 8, val = va, seed = 4, augment = true,
                threshold = "val", verbose = false,
                stop = siam.stop.early { monitor = "val_loss", patience = 10, restore_best = true } }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end
  local full = F.model()
  local hf = siam.fit(full, siam.optim.adam { lr = 0.003 }, tr, opts(4))
  local hp = siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, opts(2, { checkpoint = path }))
  check.eq(hp.epochs, 2)
  -- another initialisation and learning rate: the file's weights and lr are the ones used
  local m = F.model { seed = 99 }
  local starts = {}
  local hr = siam.fit(m, siam.optim.adam { lr = 0.1 }, tr, opts(4, {
    resume = path, on_epoch_start = function(s) starts[#starts + 1] = s.epoch end }))
  check.eq(starts, { 3, 4 })
  check.eq(hr.epochs, 4)
  check.eq(hr.train_loss, hf.train_loss)
  check.eq(hr.val_loss, hf.val_loss)
  check.eq(hr.val_threshold, hf.val_threshold)
  check.eq(hr.best_epoch, hf.best_epoch)
  check.eq(m.threshold, full.threshold)
  check.eq(m:forward(testset), full:forward(testset))
  -- errors: no such file, a model-only file, another optimizer, another architecture
  check.error_match("checkpoint /no/such%.ckpt: cannot open",
                    function() siam.fit(F.model(), siam.optim.adam(), tr, { resume = "/no/such.ckpt" }) end)
  check.error_match("checkpoint .*: optimizer mismatch: adam in the file, sgd given", function()
    siam.fit(F.model(), siam.optim.sgd { lr = 0.01 }, tr, opts(4, { resume = path }))
  end)
  check.error_match("checkpoint .*: architecture mismatch", function()
    siam.fit(F.model { fc = 16 }, siam.optim.adam(), tr, opts(4, { resume = path }))
  end)
  m:save(path)
  check.error_match("checkpoint .*: the file has no optimizer state", function()
    siam.fit(F.model(), siam.optim.adam(), tr, opts(4, { resume = path }))
  end)
  os.remove(path)
end)

test("resume refuses another batch size, training set or validation set", function()
  local path = F.tmpfile(".ckpt")
  local o = { epochs = 1, batch_size = 8, val = va, seed = 4, checkpoint = path }
  siam.fit(F.model(), siam.optim.adam(), tr, o)
  local function resume(set, extra)
    local r = { epochs = 2, batch_size = 8, val = va, seed = 4, resume = path }
    for k, v in pairs(extra) do r[k] = v end
    if extra.val == false then r.val = nil end
    local m = F.model { seed = 9 }
    local before = m:forward(testset)
    local ok, e = pcall(siam.fit, m, siam.optim.adam(), set, r)
    check.eq(ok, false)
    check.eq(m:forward(testset), before) -- nothing loaded
    return e
  end
  check.eq(resume(tr, { batch_size = 16 }), "checkpoint " .. path .. ": resume: the checkpoint "
           .. "was trained with batch size 8, this run asks for 16")
  local fp = function(set) return set:fingerprint() end
  local sub = tr:take(40)
  check.eq(resume(sub, {}), string.format("checkpoint %s: resume: the checkpoint's training set "
           .. "(%d pairs, fingerprint %s) is not this run's (%d pairs, fingerprint %s)", path,
           #tr, fp(tr), #sub, fp(sub)))
  check.eq(resume(tr, { val = false }), string.format("checkpoint %s: resume: the checkpoint's "
           .. "validation set (%d pairs, fingerprint %s) is not this run's (none)", path, #va,
           fp(va)))
  local h = siam.fit(F.model(), siam.optim.adam(), tr,
                     { epochs = 2, batch_size = 8, val = va, seed = 4, resume = path })
  check.eq(h.epochs, 2)
  os.remove(path)
end)

test("resume refuses a checkpoint whose weights hold NaN", function()
  local path = F.tmpfile(".ckpt")
  local m = F.model()
  siam.fit(m, siam.optim.adam(), tr, { epochs = 1, batch_size = 8, checkpoint = path })
  -- Adam's two moments follow the parameters and the 72 BN statistics
  local size = #F.read(path)
  local params = size - 8 - (3 * m.numel + 72) * 4
  F.patch_sealed(path, params + 112 * 4, string.pack("<f", 0 / 0))
  local want = "checkpoint " .. path .. ": parameter conv2.weight holds 1 non-finite value "
               .. "(NaN/Inf): the run that wrote it diverged"
  check.error(want, function()
    siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 2, batch_size = 8, resume = path })
  end)
  check.error(want, function() return siam.load(path) end)
  os.remove(path)
end)

test("hooks cannot pull the model, optimizer or sets from under fit", function()
  local sub = tr:take(16)
  local m, o = F.model(), siam.optim.adam()
  check.error("siam.Model: cannot close the model fit is training", function()
    siam.fit(m, o, tr, { on_batch_end = function(s) s.model:close() end })
  end)
  check.error("siam.Optimizer: cannot close the optimizer fit is using", function()
    siam.fit(m, o, tr, { on_epoch_start = function(s) s.optimizer:close() end })
  end)
  check.error_match("a batch of 40 is larger than the 32 the model was built for, and fit is "
                    .. "training it", function()
    siam.fit(m, o, tr, { on_epoch_end = function(s)
      for a, b in tr:batches { size = 40 } do s.model:forward(a, b) end
    end })
  end)
  check.error("fit: this model is already being trained (fit called from a hook)", function()
    siam.fit(m, o, tr, { on_start = function(s) siam.fit(s.model, siam.optim.adam(), tr) end })
  end)
  -- closing the caller's set is harmless: fit trains on its own copy
  local h = siam.fit(m, o, sub, { epochs = 2, batch_size = 8,
                                  on_batch_end = function(s) s.train:close() end })
  check.eq(h.epochs, 2)
  -- after fit, the model and optimizer can be closed
  m:close()
  o:close()
end)

test("Ctrl-C stops after the current batch; fit returns; a later fit refuses", function()
  local batches, ended = 0, nil
  local h = siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 3, batch_size = 8,
    on_end = function(s) ended = s.history.stopped end,
    on_batch_end = function(s)
      batches = batches + 1
      if batches == 3 then
        local p = io.popen("kill -INT $PPID")
        p:close()
      end
    end })
  check.eq(h.stopped, "interrupted")
  check.eq(ended, "interrupted") -- on_end still runs, to close files and the like
  check.eq(h.epochs, 0)
  check.truthy(batches == 3 or batches == 4, "stopped at batch " .. batches)
  check.error("interrupted!", function()
    siam.fit(F.model(), siam.optim.adam(), tr, { epochs = 1 })
  end)
end)

test("cleanup", F.cleanup)
