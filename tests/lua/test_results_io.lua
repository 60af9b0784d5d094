-- siam.io: the Lua face of the C result writers. Round trips, exact
-- outputs and the errors for bad arguments; the writers themselves are
-- tested in tests/test_{atomic_file,run_log,progress,shard,tfevents,plot,
-- image_sheet,results_table}.c.
local sio = siam.io

local support = dofile(harness.dir .. "/support.lua")
local tmpdir, read = support.tmpdir, support.read

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

test("mkdir_p and atomic_write", function()
  local d = tmpdir()
  check.eq(sio.mkdir_p(d .. "/a/b/c"), true)
  check.eq(sio.atomic_write(d .. "/a/b/c/x", "one\ntwo"), true)
  check.eq(read(d .. "/a/b/c/x"), "one\ntwo")
  local ok, err = sio.atomic_write(d .. "/missing/x", "y")
  check.eq(ok, nil)
  check.contains(err, d .. "/missing/x")
  local ok2, err2 = sio.mkdir_p(d .. "/a/b/c/x/y")
  check.eq(ok2, nil)
  check.contains(err2, "x")
  check.eq(sio.list(d .. "/a/b/c"), { "x" })
  check.eq(select(1, sio.list(d .. "/none")), nil)
  check.error("bad argument #2 to 'atomic_write' (string expected, got no value)",
              function() sio.atomic_write("p") end)
end)

test("linelog appends whole lines and truncates", function()
  local d = tmpdir()
  local l = sio.linelog(d .. "/m.csv")
  l:append("epoch,loss")
  l:append("1,0.5\n")
  check.eq(l:lines(), 2)
  check.eq(read(d .. "/m.csv"), "epoch,loss\n1,0.5\n")
  check.error_match("newline", l.append, l, "2,0.4\n3,0.3")
  check.eq(read(d .. "/m.csv"), "epoch,loss\n1,0.5\n", "unchanged after a refused line")
  l:close()
  local again = sio.linelog(d .. "/m.csv")
  check.eq(again:lines(), 2, "reopened keeps its lines")
  again:truncate(1)
  check.eq(read(d .. "/m.csv"), "epoch,loss\n")
  again:close()
  check.error("bad argument #1 to 'lines' (siam.LineLog is closed)", function() again.lines(again) end)
end)

test("runlog lines carry a UTC time and the level", function()
  local d = tmpdir()
  local log = sio.runlog(d .. "/log.txt", "info")
  log:write("debug", "hidden")
  log:write("warn", "careful\nsecond line")
  log:close()
  local text = read(d .. "/log.txt")
  check.truthy(text:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ WARN  careful\n    second line\n$"),
               text)
  local l2 = sio.runlog(d .. "/log2.txt")
  check.error("bad argument #1 to 'write' (invalid option 'loud')", function() l2:write("loud", "x") end)
end)

test("progress prints one plain line per epoch on stderr when stderr is not a terminal", function()
  local support = dofile(harness.dir .. "/support.lua")
  support.interpreter = harness.interpreter
  local out, err = support.run({ "-e", [[local p = siam.io.progress(); io.write(p:mode(), "\n");
    p:epoch_begin(2, 5, 4); p:step(4, 0.25); p:epoch_end("val_acc=0.8")]] })
  check.eq(out, "lines\n", "stdout keeps the script's own output only")
  check.truthy(err:match("^epoch 2/5: 4 batches in 00:00 %([%d.]+ it/s%) loss=0%.2500 val_acc=0%.8\n$"), err)
  local quiet = sh(harness.interpreter .. [[ --quiet -e 'local p = siam.io.progress(); io.write(p:mode(), "\n");
    p:epoch_begin(1, 1, 1); p:step(1, 0.5); p:epoch_end()' | cat]])
  check.eq(quiet, "quiet\n")
  check.error("bad argument #2 to 'epoch_begin' (epochs must be >= epoch)",
              function() sio.progress("quiet"):epoch_begin(3, 2, 1) end)
end)

test("run-folder helpers: hash, mkdir, lock; siam.build says what this build is", function()
  local h = sio.hash("abc")
  check.truthy(h:match("^%x+$") and #h == 16, h)
  check.eq(sio.hash("abc"), h)
  check.truthy(sio.hash("abd") ~= h and sio.hash("") ~= h, "another string, another hash")
  local d = tmpdir()
  check.eq(sio.mkdir(d .. "/r"), "created")
  check.eq(sio.mkdir(d .. "/r"), "exists")
  local none, msg = sio.mkdir(d .. "/x/y")
  check.eq(none, nil)
  check.eq(msg, d .. "/x/y: cannot create: No such file or directory")
  local lock = assert(sio.lock(d .. "/r"))
  local busy, why, pid = sio.lock(d .. "/r")
  check.eq(busy, nil)
  check.truthy(why:find(d .. "/r is in use by process ", 1, true), why)
  check.truthy(math.type(pid) == "integer" and pid > 0, "holder pid")
  lock:release()
  local again <close> = assert(sio.lock(d .. "/r"))
  local b = siam.build
  check.eq(b.version, siam.version)
  check.truthy(math.type(b.checkpoint_format) == "integer", "checkpoint_format")
  check.truthy(type(b.cpu) == "string" and #b.cpu > 0, "cpu")
  check.truthy(b.blas:find("OpenBLAS", 1, true), b.blas)
  local git = io.popen("git rev-parse --short=12 HEAD 2>/dev/null")
  local head = git:read("l")
  git:close()
  if head then check.eq(b.commit:sub(1, 12), head) end
end)

test("shards: parse, Slurm variables, ownership", function()
  check.eq(sio.shard("3/4"), { index = 3, count = 4 })
  local ok, err = sio.shard("5/4")
  check.eq(ok, nil)
  check.contains(err, "5/4")
  check.eq(sio.shard_owns({ index = 2, count = 3 }, 2), true)
  check.eq(sio.shard_owns({ index = 2, count = 3 }, 5), true)
  check.eq(sio.shard_owns({ index = 2, count = 3 }, 3), false)
  check.error("bad argument #1 to 'shard_owns' (shard must have integer index and count with 1 <= index <= count)",
              function() sio.shard_owns({ index = 4, count = 3 }, 1) end)
  local out = sh("SLURM_ARRAY_TASK_ID=30 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=10 SLURM_ARRAY_TASK_COUNT=8 " ..
                 harness.interpreter .. [[ -e 'local s = siam.io.shard_from_env(); print(s.index, s.count)']])
  check.eq(out, "4\t8\n")
end)

test("image sheet: size from the layout, PNG written", function()
  local d = tmpdir()
  local face = string.rep("\200", 6 * 5)
  sio.image_sheet(d .. "/s.png", {
    { label = "TP", pairs = { { a = face, b = face, prob = 0.9 }, false } },
    { label = "FN", pairs = { false, { a = face, b = face, prob = 0.1 } } },
  }, 6, 5)
  local png = read(d .. "/s.png")
  check.eq(png:sub(1, 8), "\137PNG\r\n\26\n")
  local w, h = string.unpack(">I4>I4", png, 17)
  check.truthy(w > 2 * 2 * 5 and h > 2 * 6, string.format("%dx%d", w, h))
  check.error("bad argument #2 to 'image_sheet' (row 1 cell 1: b must be a string of 30 bytes)",
              sio.image_sheet, d .. "/t.png", { { label = "x", pairs = { { a = face, b = "short" } } } }, 6, 5)
  check.error("bad argument #2 to 'image_sheet' (row 2 has 2 cells, row 1 has 1)",
              sio.image_sheet, d .. "/t.png", { { pairs = { false } }, { pairs = { false, false } } }, 6, 5)
end)

test("sheet_pick orders pairs by distance from the threshold", function()
  local rows = sio.sheet_pick({ 0.9, 0.6, 0.2, 0.45, 0.7, 0.1 }, { 1, 1, 0, 1, 0, 0 }, 0.5, 2)
  check.eq(#rows, 8)
  check.eq(rows[1], { label = "TP most sure", indices = { 1, 2 } })
  check.eq(rows[2], { label = "TP least sure", indices = { 2, 1 } })
  check.eq(rows[3], { label = "FP most sure", indices = { 5 } })
  check.eq(rows[5], { label = "TN most sure", indices = { 6, 3 } })
  check.eq(rows[7], { label = "FN most sure", indices = { 4 } })
  check.error("bad argument #2 (list of 6 numbers expected, got 1)", sio.sheet_pick,
              { 0.9, 0.6, 0.2, 0.45, 0.7, 0.1 }, { 1 }, 0.5, 2)
end)

test("without gnuplot every plot leaves data and script, and the notice comes once", function()
  local d = tmpdir()
  local out = sh("PATH=/nonexistent " .. harness.interpreter .. [[ -e '
    local p = assert(siam.io.plotter("]] .. harness.dir .. [[/../../scripts/plots"))
    print(p:has_gnuplot())
    print(p:confusion("]] .. d .. [[", "c", "t", {tp=1, fp=2, tn=3, fn=4}))
    local q = assert(siam.io.plotter("]] .. harness.dir .. [[/../../scripts/plots"))
    print(q:roc("]] .. d .. [[", "r", "t", {0, 1}, {0, 1}, 0.5))']])
  local _, notices = out:gsub("gnuplot not found on PATH", "")
  check.eq(notices, 2, "once on stderr, once as the return value: " .. out)
  check.contains(out, "false\n")
  check.truthy(out:find("\nskipped\n$"), out)
  check.truthy(read(d .. "/c.dat") and read(d .. "/c.gp") and read(d .. "/r.gp"))
  check.eq(read(d .. "/c.png"), nil)
end)

test("plot arguments are checked", function()
  local p = assert(sio.plotter(harness.dir .. "/../../scripts/plots"))
  check.error("bad argument #5 to 'confusion' (fn must be a count >= 0, got -1)",
              p.confusion, p, "/tmp", "c", "t", { tp = 1, fp = 1, tn = 1, fn = -1 })
  check.error("bad argument #6 (list of 2 numbers expected, got 3)",
              p.roc, p, "/tmp", "r", "t", { 0, 1 }, { 0, 0.5, 1 }, 0.5)
  local ok, err = sio.plotter("/nonexistent/plots")
  check.eq(ok, nil)
  check.contains(err, "/nonexistent/plots")
end)

test("cleanup", support.cleanup)
