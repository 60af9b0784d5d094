-- siam.run with the real siam.fit and siam.evaluate: a few epochs of the
-- reduced model on the tiny synthetic set (tests/lua/api_fixture.lua), and
-- the run folder it leaves.
local F = dofile(harness.dir .. "/api_fixture.lua")
local Run = require "siam.run"
local train, testset = F.sets()
local tr, va = train:split { val = 0.25, seed = 1 }

local read = dofile(harness.dir .. "/support.lua").read

local function lines(s)
  local out = {}
  for l in (s or ""):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local root = os.tmpname()
os.remove(root)

test("run:fit trains through siam.fit and fills the run folder", function()
  local m = F.model()
  local opt = siam.optim.adam { lr = 0.003 }
  local run = Run.new{ experiment = "fit", id = "small", root = root, config = F.small }
  local h = run:fit(m, opt, tr, { epochs = 3, batch_size = 8, val = va, seed = 3 })
  check.eq(h.stopped, "completed")
  local ev = siam.evaluate(m, testset)
  local summary = run:finish{ test = ev, set = testset }
  local csv = lines(read(run.dir .. "/metrics.csv"))
  check.eq(#csv, 4, "header + 3 epochs")
  check.eq(csv[1], "epoch,train_loss,train_acc,val_loss,val_acc,lr,time")
  -- the rows are fit's own history, to the 6 digits written
  for e = 1, 3 do
    local c = {}
    for x in (csv[e + 1] .. ","):gmatch("([^,]*),") do c[#c + 1] = x end
    check.eq(tonumber(c[1]), e)
    check.near(tonumber(c[2]), h.train_loss[e], 1e-5 * math.max(1, h.train_loss[e]))
    check.near(tonumber(c[5]), h.val_acc[e], 1e-5)
  end
  local best = 1
  for e = 2, 3 do if h.val_acc[e] > h.val_acc[best] then best = e end end
  check.eq(summary.best_epoch, best)
  check.near(summary.val_acc, h.val_acc[best], 1e-12)
  check.near(summary.test_acc, ev.accuracy, 1e-12)
  check.eq(summary.status, "done")
  -- the training plot: titled by experiment and name, the loss named, the best epoch marked
  local gp = read(run.dir .. "/plots/training.gp")
  check.contains(gp, "plottitle = 'fit: small'\nlosslabel = 'binary cross-entropy loss'\n"
                     .. "xlo = 1\nxhi = 3\nxstep = 1\nbest = " .. best .. "\n")
  -- config.lua: fit's options with its defaults, the model and optimizer
  local saved = dofile(run.dir .. "/config.lua")
  check.eq(saved.resolved.fit.batch_size, 8)
  check.eq(saved.resolved.fit.drop_last, false)
  check.eq(saved.resolved.fit.threshold, 0.5)
  check.eq(saved.resolved.fit.checkpoint, run.dir .. "/train.ckpt")
  check.eq(saved.resolved.model.config, m.config)
  check.eq(saved.resolved.optimizer.kind, "adam")
  check.truthy(#read(run.dir .. "/best.ckpt") > 1000, "best.ckpt from model:save")
  check.contains(read(run.dir .. "/test.json"), string.format('"tp":%d', ev.confusion.tp))
  check.truthy(read(run.dir .. "/plots/roc.dat"), "ROC from the probabilities and the set's labels")
  -- The sheet of the test set: 8 rows of 32-pixel faces (+24 text, 8
  -- margin); a 160-pixel label column, then 3 cells of 8 margin + 94 (the
  -- probability text with its margins, wider than 2 faces + 2 gap = 66);
  -- the same bytes as siam.io.sheet draws from the set and probabilities,
  -- whose cells test_sheet.lua and test_pairset_sheet.c check pixel by pixel.
  local png = read(run.dir .. "/plots/sheet.png")
  check.eq(png:sub(1, 8), "\137PNG\r\n\26\n")
  local w, h = string.unpack(">I4>I4", png, 17)
  check.eq(h, 8 + 24 + 8 + 8 * (32 + 24 + 8), "a title line, then the rows")
  check.truthy(w >= 160 + 3 * (94 + 8), "as wide as the cells, or the title when wider")
  local again = root .. "/again.png"
  local rows, h2, w2 = siam.io.sheet(testset, ev.probs, again,
    { threshold = ev.threshold, title = run:title() })
  check.eq({ h2, w2 }, { h, w })
  check.truthy(read(again) == png, "sheet.png is the test set's sheet at the evaluation's threshold")
  check.eq(rows, siam.io.sheet_pick(ev.probs, Run.labels_of(testset), ev.threshold, 3))
  local events
  for _, n in ipairs(siam.io.list(run.dir)) do
    if n:match("^events") then events = read(run.dir .. "/" .. n) end
  end
  -- (plain find: the event file is binary, not for an error message)
  check.truthy(events:find("weights/conv1.weight", 1, true), "histogram of a real parameter")
  check.truthy(events:find("grad_norm/fc.weight", 1, true), "gradient norm of a real parameter")
  check.truthy(events:find("pairs/sheet", 1, true), "the sheet as a TensorBoard image")
  m:close()
  opt:close()
end)

test("an interrupted run resumes from its training state: the rows and model of one that never stopped", function()
  local function fit_opts(extra)
    local o = { epochs = 4, batch_size = 8, val = va, seed = 3, augment = true }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end
  local ref = Run.new{ experiment = "resume", id = "ref", root = root, config = F.small }
  local mref = F.model()
  local href = ref:fit(mref, siam.optim.adam { lr = 0.003 }, tr, fit_opts())
  local ref_summary = ref:finish{}
  check.eq(read(ref.dir .. "/train.ckpt"), nil, "a finished run drops its training state")
  -- Cut at the end of epoch 3: the run has recorded its row, fit has not
  -- written the state after it, so the state on disk is epoch 2's.
  local run = Run.new{ experiment = "resume", id = "cut", root = root, config = F.small }
  check.error_match("cut here", function()
    run:fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_opts {
      on_epoch_end = function(st) if st.epoch == 3 then error("cut here") end end })
  end)
  run:close()
  check.eq(#lines(read(run.dir .. "/metrics.csv")), 4, "header + 3 rows")
  check.truthy(read(run.dir .. "/train.ckpt"), "the training state is on disk")
  local again = Run.new{ experiment = "resume", id = "cut", root = root, config = F.small }
  check.contains(read(again.dir .. "/log.txt"), "previous attempt did not finish; resuming after epoch 3")
  local m = F.model { seed = 5 }
  local starts = {}
  local h = again:fit(m, siam.optim.adam { lr = 0.003 }, tr, fit_opts {
    on_epoch_start = function(st) starts[#starts + 1] = st.epoch end })
  check.eq(starts, { 3, 4 })
  check.eq(h.train_loss, href.train_loss)
  check.eq(h.val_acc, href.val_acc)
  check.eq(m:forward(testset), mref:forward(testset))
  local summary = again:finish{}
  check.eq(summary.best_epoch, ref_summary.best_epoch)
  check.eq(summary.epochs, 4)
  local a, b = lines(read(again.dir .. "/metrics.csv")), lines(read(ref.dir .. "/metrics.csv"))
  check.eq(#a, 5, "header + 4 rows, epoch 3 once")
  for i = 1, 5 do
    -- every column but the last (time)
    check.eq((a[i]:gsub(",[^,]*$", "")), (b[i]:gsub(",[^,]*$", "")))
  end
  check.eq(#lines(read(again.dir .. "/metrics.jsonl")), 4)
  check.eq(read(again.dir .. "/train.ckpt"), nil)
  -- the clock goes on from the earlier attempt's rows
  local t2 = tonumber(a[3]:match(",([^,]*)$"))
  local t4 = tonumber(a[5]:match(",([^,]*)$"))
  check.truthy(t4 >= t2, string.format("time %s then %s", t2, t4))
  -- resume = false starts over
  local cut2 = Run.new{ experiment = "resume", id = "cut2", root = root, config = F.small }
  pcall(cut2.fit, cut2, F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_opts {
    on_epoch_end = function(st) if st.epoch == 2 then error("cut here") end end })
  cut2:close()
  local fresh = Run.new{ experiment = "resume", id = "cut2", root = root, config = F.small,
                         resume = false }
  check.contains(read(fresh.dir .. "/log.txt"), "starting this run again")
  check.eq(read(fresh.dir .. "/train.ckpt"), nil)
  check.eq(#lines(read(fresh.dir .. "/metrics.csv")), 0)
  fresh:close()
end)

test("cleanup", function()
  os.execute("rm -rf '" .. root .. "'")
  F.cleanup()
end)
