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
  local t = siam.io.table()
  assert(t:load_csv(path))
  local rows = {}
  for i = 1, t:rows() do rows[i] = t:row(i) end
  return rows, t
end

local ALL = {
  "batch16_lr0.001_epochs2", "batch16_lr0.001_epochs3", "batch16_lr0.005_epochs2",
  "batch16_lr0.005_epochs3", "batch32_lr0.001_epochs2", "batch32_lr0.001_epochs3",
  "batch32_lr0.005_epochs2", "batch32_lr0.005_epochs3",
}

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

local function ids_of(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = r.id end
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
  check.eq(rows[1].id, "batch16_lr0.005_epochs3")
  check.eq(rows[1].val_acc, "0.579")
  check.eq(rows[1].best_epoch, "3")
  check.eq(rows[1].test_acc, "0.559")
  check.contains(read(root .. "/tiny/grid.md"), "| 1 | batch16_lr0.005_epochs3 | 16 | 0.005 | 3 | 7 | done |")
  check.truthy(read(root .. "/tiny/plots/grid.dat"), "grid plot data")
  check.truthy(read(root .. "/tiny/plots/sweep_lr.dat"), "lr sweep data")
  check.eq(#lines(read(root .. "/starts.log")), 8)
  local ok2, _, _, out2 = grid(root)
  check.truthy(ok2, "second run")
  check.contains(out2, "grid: 8 configuration(s) already finished, skipped")
  check.eq(#lines(read(root .. "/starts.log")), 8, "nothing trained again")
  check.eq(#load(root .. "/tiny/grid.csv"), 8)
end)

test("a failing configuration is recorded as failed and retried only on request", function()
  local root = tmpdir()
  local ok = grid(root, "", "FAIL_ID=batch32_lr0.001_epochs3")
  check.truthy(ok, "the grid goes on after a failure")
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(#rows, 8)
  check.eq(rows[8].id, "batch32_lr0.001_epochs3", "failed rows rank last")
  check.eq(rows[8].status, "failed")
  check.contains(rows[8].message, "boom in batch32_lr0.001_epochs3")
  grid(root)
  check.eq(#lines(read(root .. "/starts.log")), 8, "failed run not retried by default")
  grid(root, "--retry-failed")
  local starts = lines(read(root .. "/starts.log"))
  check.eq(#starts, 9)
  check.eq(starts[9], "batch32_lr0.001_epochs3")
  rows = load(root .. "/tiny/grid.csv")
  for _, r in ipairs(rows) do check.eq(r.status, "done", r.id) end
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
  check.eq(read(root .. "/tiny/" .. victim .. "/done"), nil, "no marker for the killed one")
  check.truthy(read(root .. "/tiny/" .. ALL[2] .. "/done"), "finished ones kept")
  -- what the killed run left is whole: complete lines, epoch 1 and 2
  check.eq(#lines(read(root .. "/tiny/" .. victim .. "/metrics.csv")), 3)
  local ok2, _, _, out = grid(root, "", "KILL_AT=3")
  check.truthy(ok2, "resumed: " .. tostring(out))
  check.contains(out, "grid: 2 configuration(s) already finished, skipped")
  local starts = lines(read(root .. "/starts.log"))
  check.eq(starts, { ALL[1], ALL[2], ALL[3], ALL[3], ALL[4], ALL[5], ALL[6], ALL[7], ALL[8] })
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(sorted(ids_of(rows)), ALL, "every configuration exactly once")
  for _, r in ipairs(rows) do check.eq(r.status, "done", r.id) end
  local m = lines(read(root .. "/tiny/" .. victim .. "/metrics.csv"))
  check.eq(#m, 3, "the rerun's two epochs only")
  check.contains(read(root .. "/tiny/" .. victim .. "/log.txt"),
                 "WARN  previous attempt did not finish; starting this run again")
end)

test("an interrupted configuration stops the grid and runs again next time", function()
  local root = tmpdir()
  local ok, _, code, out = grid(root, "", "INTERRUPT_ID=" .. ALL[2])
  check.eq({ ok, code }, { nil, 1 }, "the grid stops")
  check.contains(out, "interrupted!")
  check.eq(lines(read(root .. "/starts.log")), { ALL[1], ALL[2] })
  check.eq(read(root .. "/tiny/" .. ALL[2] .. "/done"), nil)
  check.contains(read(root .. "/tiny/" .. ALL[2] .. "/log.txt"), "WARN  interrupted: this configuration will run again")
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
  check.contains(out, "merge: 5 of 8 configuration(s) not finished: " ..
                 table.concat({ ALL[1], ALL[3], ALL[4], ALL[6], ALL[7] }, " "))
  check.truthy(grid(root, "--shard=1/3"), "shard 1/3")
  check.truthy(grid(root, "--shard 3/3"), "shard 3/3")
  check.eq(#lines(read(root .. "/starts.log")), 8)
  local ok2, _, _, out2 = merge(root)
  check.truthy(ok2, "merge: " .. tostring(out2))
  local rows = load(root .. "/tiny/grid.csv")
  check.eq(sorted(ids_of(rows)), ALL)
  check.eq(rows[1].id, "batch16_lr0.005_epochs3")
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
  local ok, _, code, out = grid(root, "--shard 4/3")
  check.eq({ ok, code }, { nil, 1 })
  check.contains(out, "--shard: ")
  check.eq(read(root .. "/starts.log"), nil)
end)

test("cleanup", support.cleanup)
