-- Faults from outside: a full disk (a small tmpfs, mounted here when this
-- process may; the cases skip, saying so, where it may not), kill -9 in
-- the middle of checkpoint, results and training writes, and Ctrl-C
-- (SIGINT) during training and during a grid. Each must say why it
-- failed, and lose or change nothing already written.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local F = cases.F
local train = cases.data().train
local tr, va = train:split { val = 0.25, seed = 1 }
local shq = cases.shq

-- A 1 MiB tmpfs at t.dir/full, filled but for `room` bytes; unmounted when
-- the case ends.
local function full_disk(t, room)
  local dir = t.dir .. "/full"
  cases.sh("mkdir -p " .. shq(dir))
  if not os.execute("mount -t tmpfs -o size=1m siamlua-test " .. shq(dir) .. " 2>/dev/null") then
    skip("no small file system: mounting a tmpfs needs root (CAP_SYS_ADMIN), as in CI")
  end
  t.finally[#t.finally + 1] = function()
    collectgarbage() -- a run folder's lock, still open, would keep the mount busy
    os.execute("umount " .. shq(dir))
  end
  t.vars.full = dir
  t.fill = function()
    os.execute(string.format("head -c %d /dev/zero > %s/room && cat /dev/zero > %s/fill "
                             .. "2>/dev/null; rm -f %s/room", room or 0, shq(dir), shq(dir), shq(dir)))
  end
  return dir
end

-- The files in dir other than the filler.
local function listing(dir)
  local names = {}
  for _, n in ipairs(siam.io.list(dir) or {}) do
    if n ~= "fill" then names[#names + 1] = n end
  end
  return names
end

local norms = cases.norms

-- The run every training case interrupts: 3 epochs at batch 8 with
-- validation, seed 3; `extra` adds options (checkpoint, hooks).
local function fit_options(extra)
  local o = { epochs = 3, batch_size = 8, val = va, seed = 3 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local uninterrupted
local function uninterrupted_norms()
  if not uninterrupted then
    local m = F.model()
    siam.fit(m, siam.optim.adam { lr = 0.003 }, tr, fit_options())
    uninterrupted = norms(m)
  end
  return uninterrupted
end

-- A child script in t.dir: the same data and run as this file, then `body`.
local function child_script(t, body)
  return cases.write(t.dir .. "/child.lua", [[
local F = dofile("tests/lua/api_fixture.lua")
local tr, va = (F.sets()):split { val = 0.25, seed = 1 }
local dir = arg[1]
local function touch(p) io.open(p, "w"):close() end
local function self_signal(sig) local p = io.popen("kill -" .. sig .. " $PPID") p:close() end
local function fit_options(extra)
  local o = { epochs = 3, batch_size = 8, val = va, seed = 3 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
]] .. body)
end

local child_env = "SIAM_TEST_CACHE=" .. shq(F.cache)

-- A child writing in a loop (`body`, which touches dir/ready after its
-- first write), and its end: SIGKILL 0.3 s after that, mid-write.
local function writing_loop(body)
  return function(t) return child_script(t, body) end
end

local function killed_when_ready(script, t)
  return cases.signal_child(t, { script, t.dir }, t.dir .. "/ready", "KILL", 0.3, child_env)
end

-- Resumes t.dir/run.ckpt to the end of the run: the model must be the one
-- the uninterrupted run gives, bit for bit.
local function resumes_exactly(t)
  local m = F.model()
  local h = siam.fit(m, siam.optim.adam { lr = 0.003 }, tr, fit_options { resume = t.dir .. "/run.ckpt" })
  check.eq(h.stopped, "completed")
  check.eq(#h.train_loss, 3)
  check.eq(norms(m), uninterrupted_norms(), "the resumed run is the uninterrupted one")
end

cases.run {
  -- a full disk
  {
    name = "disk full: a results table written over an old one",
    build = function(t)
      local dir = full_disk(t)
      local old = siam.results.new { "a" }
      old:add { a = 1 }
      old:write_csv(dir .. "/r.csv")
      t.vars.old = cases.read(dir .. "/r.csv")
      t.fill()
      local r = siam.results.new { "a", "b" }
      for i = 1, 3000 do r:add { a = i, b = "some text" } end
      return r
    end,
    call = function(r, t) return r:write_csv(t.vars.full .. "/r.csv") end,
    error = "table: writing {full}/r.csv failed: No space left on device",
    check = function(t)
      check.eq(cases.read(t.vars.full .. "/r.csv"), t.vars.old, "the old table is intact")
      check.eq(listing(t.vars.full), { "r.csv" }, "no temp file left")
    end,
  },
  {
    name = "disk full: a checkpoint saved over an old one",
    build = function(t)
      local dir = full_disk(t)
      local m = F.model()
      m.threshold = 0.25
      m:save(dir .. "/m.ckpt")
      t.fill()
      m.threshold = 0.75
      t.vars.size = #cases.read(dir .. "/m.ckpt")
      return m
    end,
    call = function(m, t) return m:save(t.vars.full .. "/m.ckpt") end,
    error = "checkpoint {full}/m.ckpt: write failed after {size} of {size} bytes: No space left on device",
    check = function(t)
      check.eq(siam.load(t.vars.full .. "/m.ckpt").threshold, 0.25, "the old checkpoint is intact")
      check.eq(listing(t.vars.full), { "m.ckpt" }, "no temp file left")
    end,
  },
  {
    name = "disk full: a small atomic write fails at its flush, saying why",
    build = function(t)
      full_disk(t)
      t.fill()
    end,
    call = function(_, t) return assert(siam.io.atomic_write(t.vars.full .. "/config.lua", "return {}\n")) end,
    error = "atomic write {full}/config.lua: flush of {full}/config.lua.tmp.XXXXXX failed: No space "
            .. "left on device",
    mask_temp = true,
    check = function(t) check.eq(listing(t.vars.full), {}, "nothing left behind") end,
  },
  {
    name = "disk full during training: epoch 2's checkpoint fails, epoch 1's is kept",
    build = function(t) return full_disk(t) end,
    call = function(dir, t)
      return pcall(siam.fit, F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_options {
        checkpoint = dir .. "/run.ckpt",
        on_epoch_start = function(s) if s.epoch == 2 then t.fill() end end,
      })
    end,
    check = function(t, _, ok, msg)
      check.eq(ok, false)
      local a, b = msg:match("^after epoch 2: checkpoint " .. t.vars.full:gsub("%p", "%%%0")
                             .. "/run%.ckpt: write failed after (%d+) of (%d+) bytes: No space left "
                             .. "on device$")
      check.truthy(a and a == b, msg)
      local m = siam.load(t.vars.full .. "/run.ckpt")
      check.eq(m.crop, 0)
      -- the kept file is epoch 1's: it resumes to the uninterrupted run
      os.remove(t.vars.full .. "/fill")
      cases.sh("cp " .. shq(t.vars.full .. "/run.ckpt") .. " " .. shq(t.dir .. "/run.ckpt"))
      resumes_exactly(t)
    end,
  },
  {
    name = "disk full: the image cache is not written, the data still loads",
    build = function(t)
      local set = cases.copy_set(t)
      set.cache = full_disk(t, 8192) .. "/cache"
      t.fill()
      return set
    end,
    call = function(set)
      return siam.data.load { pairs = set.train, images = set.images, size = 32, cache = set.cache }
    end,
    check = function(t, set, got)
      local note = got:info().cache
      check.truthy(note:find("^cache not written: cannot write cache " .. t.vars.full:gsub("%p", "%%%0")
                             .. "/cache/images%-%x+%.bin: No space left on device$"), note)
      check.eq(got:fingerprint(), siam.data.load { pairs = set.train, images = set.images, size = 32,
                                                   cache = false }:fingerprint())
      check.eq(listing(set.cache), {}, "no temp file left")
    end,
  },
  {
    name = "disk full: a run folder's log says why",
    build = function(t)
      local dir = full_disk(t, 4096 * 3)
      t.fill()
      return dir
    end,
    call = function(dir)
      local Run = require "siam.run"
      local run = Run.new { experiment = "x", root = dir .. "/results", config = { a = 1 },
                            id = "run", data = { train = tr } }
      run:fit(F.model(), siam.optim.adam(), tr, { epochs = 1, batch_size = 8 })
    end,
    error = "log {full}/results/x/run/log.txt: write failed: No space left on device",
  },
  {
    name = "disk full: a script's results= is refused before any work",
    build = function(t) full_disk(t) t.fill() end,
    child = function(_, t)
      return { "experiments/quickstart.lua", "data=tiny", "results=" .. t.vars.full .. "/results" },
             { env = "SIAMLUA_CACHE=" .. shq(t.dir .. "/cache") }
    end,
    timeout = 30, status = 1, stdout = "", mask_temp = true,
    stderr = "siamlua: results={full}/results: cannot write there: atomic write "
             .. "{full}/results/.siamlua-write-check: flush of "
             .. "{full}/results/.siamlua-write-check.tmp.XXXXXX failed: No space left on device\n",
    check = function(t) check.eq(siam.io.list(t.dir .. "/cache"), nil, "no data loaded") end,
  },
  -- kill -9
  {
    name = "kill -9 while checkpoints are written: the file is whole, old or new",
    build = writing_loop [[
local m = F.model()
for i = 1, 100000 do
  m.threshold = i % 2 == 0 and 0.25 or 0.75
  m:save(dir .. "/m.ckpt")
  if i == 1 then touch(dir .. "/ready") end
end
]],
    call = killed_when_ready,
    check = function(t, _, out, err, code)
      check.eq({ out, err, code }, { "", "", 137 }, "killed by SIGKILL")
      local path = t.dir .. "/m.ckpt"
      local th = siam.load(path).threshold
      check.truthy(th == 0.25 or th == 0.75, "threshold " .. th)
      -- the killed writer's temp file, if any, goes with the next save
      F.model():save(path)
      check.eq(listing(t.dir), { "child.err", "child.lua", "child.out", "child.rc", "m.ckpt", "ready" })
    end,
  },
  {
    name = "kill -9 while a results table is written: the file is whole, old or new",
    build = writing_loop [[
for i = 1, 100000 do
  local r = siam.results.new { "i", "text" }
  for k = 1, 500 + i % 2 do r:add { i = k, text = "row " .. k } end
  r:write_csv(dir .. "/r.csv")
  if i == 1 then touch(dir .. "/ready") end
end
]],
    call = killed_when_ready,
    check = function(t, _, _, _, code)
      check.eq(code, 137, "killed by SIGKILL")
      local r = siam.results.load(t.dir .. "/r.csv")
      check.truthy(#r == 500 or #r == 501, #r .. " rows")
      check.eq(r:get(#r, "text"), "row " .. #r)
    end,
  },
  {
    name = "kill -9 in the middle of an epoch: the last checkpoint resumes to the same model",
    build = function(t)
      return child_script(t, [[
siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_options {
  checkpoint = dir .. "/run.ckpt",
  on_batch_end = function(s)
    if s.epoch == 2 and s.batch == 3 then os.execute("kill -KILL " .. io.open("/proc/self/stat"):read("a"):match("%d+")) end
  end,
})
]])
    end,
    child = function(script, t) return { script, t.dir }, { env = child_env } end,
    timeout = 60, status = 137, stdout = "",
    check = function(t)
      check.eq(#siam.load(t.dir .. "/run.ckpt"):parameters(), 20)
      resumes_exactly(t)
    end,
  },
  -- Ctrl-C
  {
    name = "Ctrl-C during training: fit stops after the batch, the checkpoint resumes exactly",
    build = function(t)
      return child_script(t, [[
local h = siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_options {
  checkpoint = dir .. "/run.ckpt",
  on_batch_end = function(s) if s.epoch == 2 and s.batch == 2 then self_signal("INT") end end,
})
print(h.stopped, h.epochs, #h.train_loss)
]])
    end,
    child = function(script, t) return { script, t.dir }, { env = child_env } end,
    timeout = 60, status = 0, stdout = "interrupted\t1\t1\n", stderr = "",
    check = resumes_exactly,
  },
  {
    name = "Ctrl-C from outside at any moment of training",
    build = function(t)
      return child_script(t, [[
local h = siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, fit_options {
  epochs = 1000, checkpoint = dir .. "/run.ckpt",
  on_epoch_end = function(s) if s.epoch == 1 then touch(dir .. "/ready") end end,
})
print(h.stopped, h.epochs)
]])
    end,
    call = function(script, t)
      return cases.signal_child(t, { script, t.dir }, t.dir .. "/ready", "INT", 0.2, child_env)
    end,
    check = function(t, _, out, err, code)
      check.eq({ err, code }, { "", 0 })
      local epochs = tonumber(out:match("^interrupted\t(%d+)\n$"))
      check.truthy(epochs and epochs >= 1 and epochs < 1000, out)
      local m = siam.load(t.dir .. "/run.ckpt")
      check.eq(#m:parameters(), 20)
    end,
  },
  {
    name = "Ctrl-C during a grid: it stops, and the next run finishes every configuration once",
    build = function(t)
      return child_script(t, [[
local gridrun = require "siam.gridrun"
local configs = siam.grid { { "lr", { 0.001, 0.003, 0.01 } } }
for _, c in ipairs(configs) do c.seed = 3 end
local r = gridrun.run {
  experiment = "g", root = dir .. "/results", configs = configs, params = { "lr" },
  metric = "val_acc", config = { model = "tiny" }, data = { train = tr, val = va },
  train = function(c, run)
    local starts = io.open(dir .. "/starts", "a") starts:write(c.lr, "\n") starts:close()
    local interrupt = c.lr == 0.003 and not io.open(dir .. "/interrupted")
    run:fit(F.model(), siam.optim.adam { lr = c.lr }, tr, { epochs = 2, batch_size = 8, val = va,
      on_batch_end = function(s)
        if interrupt and s.epoch == 2 and s.batch == 1 then
          touch(dir .. "/interrupted")
          self_signal("INT")
        end
      end })
    return {}
  end,
}
print(#r.rows, #r.failed)
]])
    end,
    call = function(script, t)
      local _, err1, code1 = cases.support.run({ script, t.dir }, { env = child_env, timeout = 60 })
      local out2, err2, code2 = cases.support.run({ script, t.dir }, { env = child_env, timeout = 60 })
      return { code1, err1:find("interrupted!", 1, true) ~= nil }, { code2, err2, out2 }
    end,
    check = function(t, _, first, second)
      check.eq(first, { 1, true }, "the first run stops on the interruption")
      check.eq(second, { 0, "", "3\t0\n" }, "the second run finishes")
      local starts = {}
      for l in cases.read(t.dir .. "/starts"):gmatch("[^\n]+") do starts[#starts + 1] = l end
      check.eq(starts, { "0.001", "0.003", "0.003", "0.01" }, "each configuration finished once")
      local g = siam.results.load(t.dir .. "/results/g/grid.csv")
      check.eq(#g, 3)
      for i = 1, 3 do check.eq(g:get(i, "status"), "done") end
    end,
  },
}

test("cleanup", cases.cleanup)
