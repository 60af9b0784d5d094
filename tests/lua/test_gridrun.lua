-- siam.gridrun: a grid that survives. Each case runs tests/lua/grid_tiny.lua
-- (eight configurations, fake training) as its own siamlua process, so that
-- a SIGKILL really ends a process, then inspects the folders and tables.
local support = dofile(harness.dir .. "/support.lua")
local tmpdir, read = support.tmpdir, support.read

local function lines(s)
  local out = {}
  for l in (s or ""):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local script = harness.dir .. "/grid_tiny.lua"

-- Runs the tiny grid; returns ok, how, code (as os.execute) and the output.
local function grid(root, args, env)
  local cmd = (env or "") .. " " .. harness.interpreter .. " " .. script .. " " .. root .. " " ..
              (args or "") .. " >" .. root .. "/out.txt 2>&1"
  local ok, how, code = os.execute(cmd)
  return ok, how, code, read(root .. "/out.txt")
end

local function merge(root)
  local ok, how, code = os.execute(harness.interpreter .. " " .. harness.dir ..
    "/../../scripts/merge_grid.lua " .. root .. "/tiny >" .. root .. "/merge.txt 2>&1")
  return ok, how, code, read(root .. "/merge.txt")
end

local function load(path)
  local t = siam.results.load(path)
  local rows = {}
  for i = 1, t:rows() do rows[i] = t:row(i) end
  return rows, t
end

-- Folder names without their 8 identity digits.
local ALL = {
  "batch16-lr0.001-epochs2", "batch16-lr0.001-epochs3", "batch16-lr0.005-epochs2",
  "batch16-lr0.005-epochs3", "batch32-lr0.001-epochs2", "batch32-lr0.001-epochs3",
  "batch32-lr0.005-epochs2", "batch32-lr0.005-epochs3",
}

local function name(id) return id:match("^(.*)%-%x%x%x%x%x%x%x%x$") end

-- The folder of a configuration, by its name.
local function folder(root, n)
  for _, f in ipairs(siam.io.list(root .. "/tiny")) do
    if name(f) == n then return root .. "/tiny/" .. f end
  end
  return nil
end

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

local function ids_of(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = name(r.id) end
  return out
end

test("a grid writes one ranked row per configuration; a second run skips them all", function()
  local root = tmpdir()
  local ok, _, _, out = grid(root)
  check.truthy(ok, "grid ran: " .. tostring(out))
  local rows, t = load(root .. "/tiny/grid.csv")
  check.eq(#rows, 8)
  check.eq(sorted(ids_of(rows)), ALL)
  local cols = t:columns()
  check.eq({ table.unpack(cols, 1, 7) }, { "rank", "id", "batch", "lr", "epochs", "seed", "status" })
  for i, r in ipairs(rows) do
    check.eq(r.rank, tostring(i))
    check.eq(r.status, "done")
    if i > 1 then check.truthy(tonumber(r.val_acc) <= tonumber(rows[i - 1].val_acc), "sorted") end
  end
  -- val_acc = 0.5 + 0.03*epochs + lr - 0.001*batch: the best is batch 16, lr 0.005, 3 epochs
  check.eq(name(rows[1].id), "batch16-lr0.005-epochs3")
  check.eq(rows[1].val_acc, "0.579")
  check.eq(rows[1].best_epoch, "3")
  check.eq(rows[1].epochs, "3")
  check.eq(rows[1].epochs_run, "3")
  check.eq(rows[1].test_acc, "0.559")
  check.contains(read(root .. "/tiny/grid.md"), "| 1 | " .. rows[1].id .. " | 16 | 0.005 | 3 | 7 | done |")
  -- the folder's config.lua names the whole configuration and its identity
  local saved = dofile(root .. "/tiny/" .. rows[1].id .. "/config.lua")
  check.eq(saved.config, { batch = 16, lr = 0.005, epochs = 3, seed = 7, model = "fake" })
  check.eq(saved.identity:sub(1, 8), rows[1].id:sub(-8))
  -- the grid plot names each configuration readably (no identity digits), best first
  local dat = lines(read(root .. "/tiny/plots/grid.dat"))
  check.eq(#dat, 9)
  check.eq(dat[2]:match('^1 "([^"]*)"'), "batch16-lr0.005-epochs3")
  check.contains(read(root .. "/tiny/plots/grid.gp"), "plottitle = 'tiny: 8 configurations, best first'")
  check.truthy(read(root .. "/tiny/plots/sweep_lr.dat"), "lr sweep data")
  check.eq(#lines(read(root .. "/starts.log")), 8)
  -- what the grid is in for: the count first, the whole time after the
  -- first epoch, where it stands before each configuration
  local first = out:match("^[^\n]*")
  check.eq(first, "grid: 8 configurations to run, 20 epochs at most")
  local _, estimates = out:gsub("\ngrid: the first epoch took %d+ s: the whole grid %(20 epochs at "
                                .. "most%) about %d+ s\n", "")
  check.eq(estimates, 1, out)
  for i = 1, 8 do
    check.truthy(out:find("\ngrid: configuration " .. i .. " of 8, %d+ s elapsed, [%w ]+ "
                          .. "remaining\n== batch"), "progress line " .. i .. "\n" .. out)
  end
  check.contains(out, "grid: configuration 1 of 8, 0 s elapsed, unknown remaining\n")
  local ok2, _, _, out2 = grid(root)
  check.truthy(ok2, "second run")
  check.eq(out2:match("^[^\n]*"), "grid: 0 configurations to run, 0 epochs at most; "
                                   .. "8 already finished")
  check.contains(out2, "grid: 8 configuration(s) already finished, skipped")
  check.eq(#lines(read(root .. "/starts.log")), 8, "nothing trained again")
  check.eq(#load(root .. "/tiny/grid.csv"), 8)
end)

test("the grid's estimate: time per planned epoch, else the first epoch's; durations", function()
  local gridrun = require "siam.gridrun"
  check.eq(gridrun.estimate { elapsed = 5, planned_done = 0, planned_left = 20 }, nil)
  -- 72 configurations of 30 epochs on average: 2160 epochs of 40 s
  check.eq(gridrun.estimate { elapsed = 50, planned_done = 0, planned_left = 2160,
                              first_epoch = 40 }, 86400)
  -- 3 configurations (45 planned epochs) took 900 s: 20 s a planned epoch
  check.eq(gridrun.estimate { elapsed = 900, planned_done = 45, planned_left = 30,
                              first_epoch = 40 }, 600)
  check.eq(gridrun.planned_epochs { epochs = 25 }, 25)
  check.eq(gridrun.planned_epochs { lr = 0.1 }, 1)
  check.eq(gridrun.duration(nil), "unknown")
  check.eq(gridrun.duration(0.4), "0 s")
  check.eq(gridrun.duration(89), "89 s")
  check.eq(gridrun.duration(90), "2 min")
  check.eq(gridrun.duration(3599), "1 h 00 min")
  check.eq(gridrun.duration(3500), "58 min")
  check.eq(gridrun.duration(3600 + 7 * 60), "1 h 07 min")
  check.eq(gridrun.duration(86400 + 3 * 3600 + 100), "1 d 3 h")
end)

test("a failing configuration is recorded as failed, the grid exits 1, the next run retries it", function()
  local root = tmpdir()
  local ok, _, code, out = grid(root, "", "FAIL_ID=batch32-lr0.001-epochs3")
  check.eq({ ok, code }, { nil, 1 }, "the grid goes on after a failure, then exits 1")
  check.contains(out, "grid: 1 configuration(s) failed: batch32-lr0.001-epochs3-")
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(#rows, 8)
  check.eq(name(rows[8].id), "batch32-lr0.001-epochs3", "failed rows rank last")
  check.eq(rows[8].status, "failed")
  check.contains(rows[8].message, "boom in batch32-lr0.001-epochs3")
  local dir = folder(root, "batch32-lr0.001-epochs3")
  check.eq(read(dir .. "/done"), nil, "a failed configuration is not finished")
  check.truthy(read(dir .. "/failed"), "it has the failed marker")
  local ok2, _, code2 = grid(root)
  check.eq({ ok2, code2 }, { true, 0 })
  local starts = lines(read(root .. "/starts.log"))
  check.eq(#starts, 9, "the failed one ran again, nothing else")
  check.eq(starts[9], "batch32-lr0.001-epochs3")
  rows = load(root .. "/tiny/grid.csv")
  for _, r in ipairs(rows) do check.eq(r.status, "done", r.id) end
  check.eq(read(dir .. "/failed"), nil, "the marker went with the failure")
end)

test("a changed option outside the grid or other data is another run, never a skipped one", function()
  local root = tmpdir()
  check.truthy(grid(root), "first")
  local ok, _, _, out = grid(root, "", "MODEL=other")
  check.truthy(ok, "second")
  check.truthy(not out:find("already finished", 1, true), "nothing skipped: " .. out)
  check.eq(#lines(read(root .. "/starts.log")), 16)
  check.truthy(grid(root, "", "DATA=fedcba9876543210"), "third")
  check.eq(#lines(read(root .. "/starts.log")), 24)
  local ok4, _, _, out4 = grid(root, "", "MODEL=other")
  check.truthy(ok4)
  check.contains(out4, "grid: 8 configuration(s) already finished, skipped")
  check.eq(#lines(read(root .. "/starts.log")), 24, "the same configuration again is skipped")
  -- three folders per name, one per identity
  local count = 0
  for _, f in ipairs(siam.io.list(root .. "/tiny")) do
    if name(f) == ALL[1] then count = count + 1 end
  end
  check.eq(count, 3)
  -- the table of the last invocation shows its own configurations only
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(#rows, 8)
  for _, r in ipairs(rows) do
    check.eq(dofile(root .. "/tiny/" .. r.id .. "/config.lua").config.model, "other")
  end
end)

test("a diverged configuration is finished with status nan and ranks last", function()
  local root = tmpdir()
  check.truthy(grid(root, "", "DIVERGE_ID=batch16-lr0.005-epochs3"))
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(name(rows[8].id), "batch16-lr0.005-epochs3")
  check.eq(rows[8].status, "nan")
  check.eq(rows[8].message, "non-finite gradient at epoch 2, batch 1")
  check.eq(rows[8].epochs, "3")
  check.eq(rows[8].epochs_run, "1")
  check.truthy(grid(root, "", "DIVERGE_ID=batch16-lr0.005-epochs3"))
  check.eq(#lines(read(root .. "/starts.log")), 8, "nan is a result: not run again")
end)

test("a grid killed with SIGKILL mid-configuration resumes with every configuration once", function()
  local root = tmpdir()
  local ok, how, code = grid(root, "", "KILL_AT=3")
  -- os.execute runs a shell, which reports its child's SIGKILL as 128 + 9
  check.truthy(not ok and (code == 9 and how == "signal" or code == 137), "killed by SIGKILL: " ..
               tostring(how) .. " " .. tostring(code))
  check.truthy(read(root .. "/killed"), "the kill happened")
  local victim = ALL[3]
  check.eq(lines(read(root .. "/starts.log")), { ALL[1], ALL[2], ALL[3] })
  check.eq(read(folder(root, victim) .. "/done"), nil, "no marker for the killed one")
  check.truthy(read(folder(root, ALL[2]) .. "/done"), "finished ones kept")
  -- what the killed run left is whole: complete lines, epoch 1 and 2
  check.eq(#lines(read(folder(root, victim) .. "/metrics.csv")), 3)
  local ok2, _, _, out = grid(root, "", "KILL_AT=3")
  check.truthy(ok2, "resumed: " .. tostring(out))
  check.contains(out, "grid: 2 configuration(s) already finished, skipped")
  local starts = lines(read(root .. "/starts.log"))
  check.eq(starts, { ALL[1], ALL[2], ALL[3], ALL[3], ALL[4], ALL[5], ALL[6], ALL[7], ALL[8] })
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(sorted(ids_of(rows)), ALL, "every configuration exactly once")
  for _, r in ipairs(rows) do check.eq(r.status, "done", r.id) end
  local m = lines(read(folder(root, victim) .. "/metrics.csv"))
  check.eq(#m, 3, "the rerun's two epochs only")
  check.contains(read(folder(root, victim) .. "/log.txt"),
                 "WARN  previous attempt did not finish; starting this run again")
end)

test("an interrupted configuration stops the grid and runs again next time", function()
  local root = tmpdir()
  local ok, _, code, out = grid(root, "", "INTERRUPT_ID=" .. ALL[2])
  check.eq({ ok, code }, { nil, 1 }, "the grid stops")
  check.contains(out, "interrupted!")
  check.eq(lines(read(root .. "/starts.log")), { ALL[1], ALL[2] })
  check.eq(read(folder(root, ALL[2]) .. "/done"), nil)
  check.contains(read(folder(root, ALL[2]) .. "/log.txt"), "WARN  interrupted: this configuration will run again")
  check.truthy(grid(root, "", "INTERRUPT_ID=" .. ALL[2]), "second run")
  local starts = lines(read(root .. "/starts.log"))
  check.eq(#starts, 9)
  check.eq(starts[3], ALL[2])
  check.eq(sorted(ids_of(load(root .. "/tiny/grid.csv"))), ALL)
end)

test("shards run round-robin slices and merge into the full table", function()
  local root = tmpdir()
  check.truthy(grid(root, "--shard 2/3"), "shard 2/3")
  check.eq(lines(read(root .. "/starts.log")), { ALL[2], ALL[5], ALL[8] })
  local part = load(root .. "/tiny/grid.shard-2-of-3.csv")
  check.eq(sorted(ids_of(part)), { ALL[2], ALL[5], ALL[8] })
  local ok, _, code, out = merge(root)
  check.eq({ ok, code }, { nil, 1 }, "merge of an unfinished grid fails")
  local missing = out:match("merge: 5 of 8 configuration%(s%) not finished: ([^\n]*)")
  check.truthy(missing, out)
  local names = {}
  for w in missing:gmatch("%S+") do names[#names + 1] = name(w) end
  check.eq(names, { ALL[1], ALL[3], ALL[4], ALL[6], ALL[7] })
  check.truthy(grid(root, "--shard=1/3"), "shard 1/3")
  check.truthy(grid(root, "--shard 3/3"), "shard 3/3")
  check.eq(#lines(read(root .. "/starts.log")), 8)
  local ok2, _, _, out2 = merge(root)
  check.truthy(ok2, "merge: " .. tostring(out2))
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(sorted(ids_of(rows)), ALL)
  check.eq(name(rows[1].id), "batch16-lr0.005-epochs3")
  check.truthy(read(root .. "/tiny/plots/sweep_batch.dat"), "merge draws the grid plots")
end)

test("a Slurm job array's variables pick the shard", function()
  local root = tmpdir()
  check.truthy(grid(root, "", "SLURM_ARRAY_TASK_ID=11 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=2"))
  check.eq(lines(read(root .. "/starts.log")), { ALL[2], ALL[4], ALL[6], ALL[8] })
  check.truthy(read(root .. "/tiny/grid.shard-2-of-2.csv"))
end)

test("bad --shard values are refused before anything runs", function()
  local root = tmpdir()
  -- One line each (a usage error, no traceback), naming the value.
  for args, msg in pairs {
    ["--shard 4/3"] = "--shard '4/3': need 1 <= i <= n",
    ["--shard=x"] = "--shard 'x': expected i/n, e.g. 1/4",
    ["--shard"] = "--shard needs a value i/n",
  } do
    local ok, _, code, out = grid(root, args)
    check.eq({ ok, code }, { nil, 1 }, args)
    check.truthy(out:find(": " .. msg:gsub("%p", "%%%0") .. "\n$"), args .. ": " .. out)
    check.eq(select(2, out:gsub("\n", "")), 1, args .. ": one line")
  end
  check.eq(read(root .. "/starts.log"), nil)
end)

test("a bad ranking order is refused before anything runs or is read", function()
  local gridrun = require "siam.gridrun"
  local root = tmpdir()
  local trained = false
  check.error('bad argument #1 to \'run\' (order must be "desc" or "asc", got up)', gridrun.run,
              { experiment = "x", root = root, configs = { { a = 1 } }, params = { "a" },
                order = "up", train = function() trained = true end })
  check.eq(trained, false)
  check.eq(siam.io.list(root), {})
  check.error('bad argument #2 to \'merge\' (order must be "desc" or "asc", got 1)', gridrun.merge,
              root .. "/x", { order = 1 })
end)

test("cleanup", support.cleanup)
