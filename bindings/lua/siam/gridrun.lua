-- siam.gridrun: runs a grid of configurations so that it survives. Each
-- configuration is a run (siam.run) whose identity hashes its whole
-- configuration (the script's resolved options, `config`, with the grid's
-- keys over them), the identity of its data and the checkpoint format; its
-- folder is named by the keys that vary in the grid plus 8 digits of that
-- identity (lr0.005-batch16-1f3a9c2e). When a configuration ends, its
-- summary row (result.csv) and then a `done` marker are written
-- atomically; running the grid again skips a configuration whose folder
-- of the same identity has the marker, goes on with one that did not
-- finish, and runs again one that failed (`failed` marker). A different
-- configuration is always a different folder. Ctrl-C or a crash loses only
-- the epoch in progress. `--shard i/n` (or a Slurm job array) runs a
-- deterministic slice; gridrun.merge builds the full ranked table.
--
--   local gridrun = require "siam.gridrun"
--   local r = gridrun.run{experiment = "grid", configs = siam.grid{...},
--               params = {"batch", "lr"}, args = arg, config = script_opts,
--               data = {train = tr, val = val, test = test},
--               train = function(cfg, run) ... return {test = ev} end}
--   if #r.failed > 0 then os.exit(1) end
-- train(cfg, run) trains (run:fit) and returns {test = siam.evaluate(...),
-- set = test_set} (what run:finish takes), or calls run:finish itself.
local siam = require "siam"
local Run = require "siam.run"
local json = require "siam.json"
local html = require "siam.html"
local fs = require "siam.fs"
local join, exists, read_all = fs.join, fs.exists, fs.read

local sio = siam.io
local results = siam.results
local gridrun = {}

-- Calls the table method t[name](t, ...) and returns true, or nil and its
-- message as the C table gives it (called straight from pcall, no Lua
-- position is added).
local function try(t, name, ...)
  local ok, err = pcall(t[name], t, ...)
  if ok then return true end
  return nil, err
end

-- Writes t to path as CSV or Markdown ("write_csv", "write_markdown");
-- raises the table's message.
local function write(t, name, path)
  local ok, err = try(t, name, path)
  if not ok then error(err, 0) end
end

-- Appends the rows of the CSV file at path to t, or returns nil and a
-- message naming the file.
local function append_csv(t, path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "table: cannot read " .. err end
  local text = f:read("a")
  f:close()
  if not text then return nil, "table: read error reading " .. path end
  return try(t, "read_csv", text, path)
end

-- Columns of a grid table after rank, id and the hyper-parameters:
-- `epochs` is the configured count, `epochs_run` the epochs trained.
gridrun.RESULT_COLUMNS = { "seed", "status", "best_epoch", "epochs", "epochs_run",
                           "train_time", "val_loss", "val_acc", "test_loss", "test_acc", "auc",
                           "threshold", "message" }

-- The readable part of a folder name: name and value of each of `params`
-- in declared order, joined by '-' (batch16-lr0.001).
function gridrun.name_of(cfg, params)
  local parts = {}
  for _, p in ipairs(params) do
    local v = cfg[p]
    if v == nil then v = "nil" end
    parts[#parts + 1] = p .. (tostring(v):gsub("[^%w.%+]", "_"))
  end
  return table.concat(parts, "-")
end

-- The parameters whose value differs between configurations (all of them
-- when none does, so that a one-configuration grid still names its keys).
function gridrun.varying(configs, params)
  local out = {}
  for _, p in ipairs(params) do
    local first, differs = nil, false
    for k, cfg in ipairs(configs) do
      local v = tostring(cfg[p])
      if k == 1 then first = v elseif v ~= first then differs = true break end
    end
    if differs then out[#out + 1] = p end
  end
  if #out == 0 then return params end
  return out
end

-- The configuration a run is identified by: the script's resolved options
-- with the grid configuration's keys over them (its id and index, which
-- siam.grid adds, are names, not settings).
function gridrun.full_config(base, cfg)
  local out = {}
  for k, v in pairs(base or {}) do out[k] = v end
  for k, v in pairs(cfg) do
    if k ~= "id" and k ~= "index" then out[k] = v end
  end
  return out
end

-- A usage error: an error object whose __tostring is the message. siamlua's
-- message handler (as lua.c's) adds a traceback to string errors only, so
-- this one shows as one line: "siamlua: --shard '5/4': need 1 <= i <= n".
local Usage = { __tostring = function(e) return e.message end }
local function usage_error(msg)
  error(setmetatable({ message = msg }, Usage))
end

-- Reads --shard i/n out of an argument list (the script's `arg`), and
-- --retry-failed, which older command lines give (failed configurations
-- now always run again); other arguments are returned in `rest`. Without
-- --shard, a Slurm job array's variables decide; otherwise the shard is
-- 1/1.
function gridrun.parse_args(args)
  local out = { rest = {}, retry_failed = false }
  local i = 1
  while args and args[i] do
    local a = args[i]
    local v = a:match("^%-%-shard=(.*)$")
    if a == "--shard" then
      v = args[i + 1]
      if v == nil then usage_error("--shard needs a value i/n") end
      i = i + 1
    end
    if v then
      local s, err = sio.shard(v)
      if not s then usage_error(err) end
      out.shard = s
    elseif a == "--retry-failed" then
      out.retry_failed = true
    else
      out.rest[#out.rest + 1] = a
    end
    i = i + 1
  end
  if not out.shard then
    local s, err = sio.shard_from_env()
    if s == nil then usage_error("Slurm job array: " .. err) end
    out.shard = s or { index = 1, count = 1 }
    out.from_slurm = s and true or false
  end
  return out
end

-- "45 s", "12 min", "5 h 07 min", "1 d 3 h": a duration as a person
-- plans with it (nil: "unknown").
function gridrun.duration(s)
  if s == nil or s ~= s or s == math.huge then return "unknown" end
  s = math.max(0, math.floor(s + 0.5))
  if s < 90 then return string.format("%d s", s) end
  local m = math.floor(s / 60 + 0.5)
  if m < 60 then return string.format("%d min", m) end
  if m < 24 * 60 then return string.format("%d h %02d min", m // 60, m % 60) end
  local h = math.floor(s / 3600 + 0.5)
  return string.format("%d d %d h", h // 24, h % 24)
end

-- The epochs a configuration plans (its `epochs` key; 1 when it has none,
-- so that configurations count alike).
function gridrun.planned_epochs(cfg)
  local e = math.tointeger(cfg.epochs)
  return e and e > 0 and e or 1
end

-- Seconds still to go: the time per planned epoch of the configurations
-- finished so far (early stopping makes it shorter than an epoch), else
-- the first epoch's time, times the planned epochs left (p: elapsed,
-- planned_done, planned_left, first_epoch); nil before either is known.
function gridrun.estimate(p)
  if p.planned_done and p.planned_done > 0 then
    return p.elapsed / p.planned_done * p.planned_left
  end
  if p.first_epoch then return p.first_epoch * p.planned_left end
  return nil
end

local function cell(v)
  if v == nil then return nil end
  if type(v) == "number" or type(v) == "string" or type(v) == "boolean" then return v end
  return tostring(v)
end

-- The summary row of one configuration, in column order.
local function result_row(id, cfg, params, summary)
  local row, cols, seen = { id = id }, { "id" }, { id = true }
  local function col(k, v)
    if seen[k] then return end
    seen[k] = true
    row[k] = v
    cols[#cols + 1] = k
  end
  for _, p in ipairs(params) do col(p, cell(cfg[p])) end
  col("seed", cell(cfg.seed))
  for _, k in ipairs(gridrun.RESULT_COLUMNS) do col(k, cell(summary[k])) end
  return row, cols
end

-- Publishes a configuration's row and its marker: `done` for a finished
-- run, `failed` (retried by the next run of the grid) otherwise. The
-- marker comes last, so a folder with one always has its result.csv.
local function publish(run, row, cols, summary, failed)
  local t = results.new(cols)
  t:add(row)
  local ok, err = try(t, "write_csv", join(run.dir, "result.csv"))
  if not ok then error("grid: " .. run.dir .. ": result.csv not written: " .. tostring(err), 0) end
  os.remove(join(run.dir, failed and "done" or "failed"))
  ok, err = sio.atomic_write(join(run.dir, failed and "failed" or "done"),
                             json.encode(summary) .. "\n")
  if not ok then error("grid: " .. run.dir .. ": marker not written: " .. tostring(err), 0) end
end

-- Runs one configuration (entry: cfg, config, identity, name) in its
-- folder and publishes its result. Errors other than an interruption are
-- recorded as status "failed". Returns the row, or nil and a message when
-- another process holds the folder.
local function run_one(opts, entry)
  local ok_new, run = pcall(Run.new, { experiment = opts.experiment, name = entry.name,
                                       reuse = true, root = opts.root, config = entry.config,
                                       identity = entry.identity, data = opts.data_record,
                                       monitor = opts.monitor, mode = opts.monitor_mode,
                                       progress = opts.progress, plots = opts.plots,
                                       tensorboard = opts.tensorboard })
  if not ok_new then
    local msg = tostring(run)
    if msg:find("is in use by", 1, true) then return nil, msg end
    error(run, 0)
  end
  entry.id = run.id
  run.on_epoch = entry.on_epoch
  local ok, ret = xpcall(opts.train, debug.traceback, entry.cfg, run)
  local summary
  if ok and run.interrupted then
    -- fit stopped on Ctrl-C and returned: keep the folder unfinished so
    -- the next run of the grid trains this configuration again.
    run:warn("interrupted: this configuration will run again")
    run:close()
    error("interrupted!", 0)
  end
  if ok then
    if run.summary then
      summary = run.summary
    else
      ret = type(ret) == "table" and ret or {}
      local test = ret.test
      if test == nil and (ret.accuracy or ret.loss) then test = ret end
      summary = run:finish{ test = test, status = ret.status, sheet = ret.sheet, set = ret.set,
                            labels = ret.labels }
    end
  else
    local msg = tostring(ret)
    if msg:find("interrupted!", 1, true) then
      run:warn("interrupted: this configuration will run again")
      run:close()
      error(ret, 0)
    end
    local first = msg:match("^[^\n]*")
    run.log:write("error", msg)
    summary = run.summary or run:finish{ status = "failed", message = first }
    summary.status = "failed"
    summary.message = first
  end
  local row, cols = result_row(run.id, entry.cfg, opts.params, summary)
  publish(run, row, cols, summary, summary.status == "failed")
  return row
end

-- The state of a configuration's folder: "done", "failed" or nil (never
-- finished).
local function folder_state(dir)
  if not exists(join(dir, "result.csv")) then return nil end
  if exists(join(dir, "done")) then return "done" end
  if exists(join(dir, "failed")) then return "failed" end
  return nil
end
gridrun.folder_state = folder_state

-- Writes the configuration list (folder names, identities and
-- hyper-parameters, grid order) so a merge knows what the whole grid is and
-- what is missing.
local function write_manifest(dir, entries, params)
  local cols = { "id", "identity" }
  for _, p in ipairs(params) do cols[#cols + 1] = p end
  cols[#cols + 1] = "seed"
  local t = results.new(cols)
  for _, e in ipairs(entries) do
    local row = { id = e.id, identity = e.identity, seed = cell(e.cfg.seed) }
    for _, p in ipairs(params) do row[p] = cell(e.cfg[p]) end
    t:add(row)
  end
  write(t, "write_csv", join(dir, "configs.csv"))
end

local function load_rows(t)
  local rows = {}
  for i = 1, t:rows() do rows[i] = t:row(i) end
  return rows
end

-- The folder of a manifest entry: found by identity (its name may differ
-- from the one this invocation would give), else by the id written down.
local function entry_dir(exp_dir, e)
  local name = e.identity and e.identity ~= "" and Run.find(exp_dir, e.identity) or nil
  return join(exp_dir, name or e.id)
end

-- Builds a grid table from run folders: `entries` (grid order, each with
-- id and identity) limits it to those configurations. Returns the table,
-- the ids without a finished folder and the ids that failed.
local function collect(exp_dir, entries)
  local t = results.new()
  local missing, failed = {}, {}
  for _, e in ipairs(entries) do
    local dir = entry_dir(exp_dir, e)
    local state = folder_state(dir)
    if state then
      local ok, err = append_csv(t, join(dir, "result.csv"))
      if not ok then error(err, 0) end
      if state == "failed" then failed[#failed + 1] = e.id end
    else
      missing[#missing + 1] = e.id
    end
  end
  return t, missing, failed
end

local function is_log_scale(name, xs)
  if name:match("lr") or name:match("rate") or name:match("l2") or name:match("decay") then
    for _, x in ipairs(xs) do if x <= 0 then return false end end
    return true
  end
  return false
end

-- Grid plots: accuracy and train time per configuration (ranked), and for
-- each hyper-parameter that varies, accuracy against it with the others
-- held at the best configuration's values.
local function grid_plots(exp_dir, t, params, quiet)
  local run_like = setmetatable({ want_plots = true, plot_dir = join(exp_dir, "plots"),
                                  log = { write = function(_, level, msg)
                                    if not quiet and level ~= "info" then
                                      io.stderr:write("siamlua: ", msg, "\n")
                                    end
                                  end } }, { __index = Run })
  assert(sio.mkdir_p(run_like.plot_dir))
  local rows = load_rows(t)
  local nan = 0 / 0
  local labels, val, test, secs = {}, {}, {}, {}
  for i, r in ipairs(rows) do
    labels[i] = Run.readable_name(r.id)
    val[i] = tonumber(r.val_acc) or nan
    test[i] = tonumber(r.test_acc) or nan
    secs[i] = tonumber(r.train_time) or nan
  end
  local title = string.format("%s: %d configuration%s, best first", exp_dir:match("[^/]*$"),
                              #rows, #rows == 1 and "" or "s")
  if #rows > 0 then run_like:plot("grid", "grid", title, labels, val, test, secs) end
  local best = rows[1]
  if not best then return end
  for _, p in ipairs(params) do
    local pts = {}
    for _, r in ipairs(rows) do
      local same = true
      for _, q in ipairs(params) do
        if q ~= p and r[q] ~= best[q] then same = false break end
      end
      local x = tonumber(r[p])
      if same and x then pts[#pts + 1] = { x = x, val = tonumber(r.val_acc) or nan,
                                           test = tonumber(r.test_acc) or nan } end
    end
    if #pts >= 2 then
      table.sort(pts, function(a, b) return a.x < b.x end)
      local xs, vs, ts = {}, {}, {}
      for i, q in ipairs(pts) do xs[i], vs[i], ts[i] = q.x, q.val, q.test end
      run_like:plot("sweep", "sweep_" .. p:gsub("[^%w_]", "_"), "accuracy against " .. p, p,
                    xs, vs, ts, is_log_scale(p, xs))
    end
  end
end

-- index.html of the grid folder (siam.html); a failure is a warning.
local function grid_page(exp_dir, t, quiet)
  local ok, page, err = pcall(html.write_grid, exp_dir, t:columns(), load_rows(t), Run.readable_name)
  if (not ok or not page) and not quiet then
    io.stderr:write("siamlua: grid index.html not written: ", tostring(ok and err or page), "\n")
  end
end

local function save_table(t, dir, base)
  write(t, "write_csv", join(dir, base .. ".csv"))
  write(t, "write_markdown", join(dir, base .. ".md"))
end

-- Statuses that rank below every finished run.
local LAST = { "failed", "nan" }

local function rank(t, metric, order)
  t:sort(metric, order == "desc", "status", LAST)
end

-- The ranking order of opts (default "desc"), or an error naming `fname`.
local function check_order(order, fname)
  order = order or "desc"
  if order ~= "desc" and order ~= "asc" then
    error(string.format("bad argument #%d to '%s' (order must be \"desc\" or \"asc\", got %s)",
                        fname == "run" and 1 or 2, fname, tostring(order)), 3)
  end
  return order
end

-- gridrun.run(opts) -> {rows, ran, skipped, busy, failed, missing, shard, table}
-- opts: experiment, configs (list of tables), params (hyper-parameter
-- names, declared order), train (function(cfg, run)), config (the script's
-- resolved options, shared by every configuration and part of each one's
-- identity), data (name -> siam.PairSet, or Run.data_identity's table: the
-- data every configuration trains and is tested on), root ("results"),
-- metric ("val_acc"), order ("desc"), monitor/monitor_mode (best epoch),
-- args (the script's arg: --shard), shard ("i/n"), quiet, progress, plots,
-- tensorboard, clock (monotonic seconds; siam.io.clock). `failed` lists
-- the configurations of this shard that failed
-- (they run again next time; a script should then exit non-zero), `busy`
-- those another process was running.
function gridrun.run(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'run' (table expected)", 2) end
  if type(opts.configs) ~= "table" then error("bad argument #1 to 'run' (configs must be a list)", 2) end
  if type(opts.train) ~= "function" then error("bad argument #1 to 'run' (train must be a function)", 2) end
  if type(opts.experiment) ~= "string" then error("bad argument #1 to 'run' (experiment must be a string)", 2) end
  opts.root = opts.root or "results"
  opts.params = opts.params or {}
  local metric, order = opts.metric or "val_acc", check_order(opts.order, "run")
  local quiet = opts.quiet or (siam.config and siam.config.quiet)
  local a = gridrun.parse_args(opts.args)
  local shard = a.shard
  if opts.shard then
    local s, err = type(opts.shard) == "table" and opts.shard or sio.shard(opts.shard)
    if not s then error("bad argument #1 to 'run' (shard: " .. err .. ")", 2) end
    shard = s
  end
  -- The data's identity is computed once (fingerprints read every pixel).
  local data = opts.data or {}
  local sets = {}
  for k, v in pairs(data) do if type(v) == "userdata" then sets[k] = v end end
  opts.data_record = next(sets) and Run.data_identity(sets) or data
  local data_key = Run.data_key(opts.data_record)

  local exp_dir = join(opts.root, opts.experiment)
  assert(sio.mkdir_p(exp_dir))
  local naming = gridrun.varying(opts.configs, opts.params)
  local entries, seen = {}, {}
  for k, cfg in ipairs(opts.configs) do
    local config = gridrun.full_config(opts.config, cfg)
    local identity = Run.identity(config, data_key)
    if seen[identity] then
      error("grid: configurations " .. seen[identity] .. " and " .. k .. " are the same run", 2)
    end
    seen[identity] = k
    local name = gridrun.name_of(cfg, naming)
    entries[k] = { cfg = cfg, config = config, identity = identity, name = name,
                   id = Run.find(exp_dir, identity) or (name .. "-" .. identity:sub(1, 8)) }
  end
  write_manifest(exp_dir, entries, opts.params)

  local mine, todo, ran, skipped, busy = {}, {}, 0, 0, {}
  local planned_left = 0
  for k, e in ipairs(entries) do
    if sio.shard_owns(shard, k) then
      mine[#mine + 1] = e
      if folder_state(join(exp_dir, e.id)) == "done" then
        skipped = skipped + 1
      else
        e.index = k
        todo[#todo + 1] = e
        planned_left = planned_left + gridrun.planned_epochs(e.cfg)
      end
    end
  end
  -- What the grid is in for, on stderr with the per-epoch bar: the count
  -- now, the whole time once the first epoch has run, and before each
  -- configuration where it stands.
  local function say(fmt, ...)
    if not quiet then io.stderr:write(string.format(fmt, ...), "\n") end
  end
  say("grid: %d configuration%s to run, %d epochs at most%s%s", #todo, #todo == 1 and "" or "s",
      planned_left, shard.count > 1 and string.format(" (shard %d/%d of %d)", shard.index,
                                                       shard.count, #entries) or "",
      skipped > 0 and string.format("; %d already finished", skipped) or "")
  local clock = opts.clock or sio.clock
  local t0, planned_done, first_epoch, config_t0 = clock(), 0, nil, nil
  local function on_epoch()
    if first_epoch then return end
    first_epoch = clock() - config_t0
    say("grid: the first epoch took %s: the whole grid (%d epochs at most) about %s",
        gridrun.duration(first_epoch), planned_left, gridrun.duration(first_epoch * planned_left))
  end
  for i, e in ipairs(todo) do
    local elapsed = clock() - t0
    say("grid: configuration %d of %d, %s elapsed, %s remaining", i, #todo,
        gridrun.duration(elapsed),
        gridrun.duration(gridrun.estimate { elapsed = elapsed, planned_done = planned_done,
                                            planned_left = planned_left - planned_done,
                                            first_epoch = first_epoch }))
    if not quiet then
      print(string.format("== %s (%d/%d, shard %d/%d)", e.id, e.index, #entries, shard.index,
                          shard.count))
    end
    config_t0 = clock()
    e.on_epoch = on_epoch
    local row, why = run_one(opts, e)
    planned_done = planned_done + gridrun.planned_epochs(e.cfg)
    if row then
      ran = ran + 1
    else
      busy[#busy + 1] = e.id
      io.stderr:write("grid: ", e.id, " skipped: ", why, "\n")
    end
  end
  write_manifest(exp_dir, entries, opts.params) -- with the folder names new runs got
  if not quiet and skipped > 0 then
    print(string.format("grid: %d configuration(s) already finished, skipped", skipped))
  end

  local t, missing, failed = collect(exp_dir, mine)
  rank(t, metric, order)
  local base = shard.count == 1 and "grid"
               or string.format("grid.shard-%d-of-%d", shard.index, shard.count)
  save_table(t, exp_dir, base)
  if shard.count == 1 then
    grid_plots(exp_dir, t, opts.params, quiet)
    grid_page(exp_dir, t, quiet)
  end
  if not quiet then t:print() end
  if #failed > 0 then
    io.stderr:write(string.format("grid: %d configuration(s) failed: %s (see their log.txt; "
                                  .. "they run again when the grid runs again)\n", #failed,
                                  table.concat(failed, " ")))
  end
  return { rows = load_rows(t), ran = ran, skipped = skipped, busy = busy, failed = failed,
           shard = shard, missing = missing, table = t }
end

-- gridrun.merge(exp_dir [, {metric=, order=, quiet=}]) builds the full table
-- grid.csv / grid.md and the grid plots from every finished run folder
-- listed in exp_dir/configs.csv. Returns the result as gridrun.run does;
-- `missing` lists configurations that have not finished.
function gridrun.merge(exp_dir, opts)
  opts = opts or {}
  local order = check_order(opts.order, "merge")
  local ok, manifest = pcall(results.load, join(exp_dir, "configs.csv"))
  if not ok then return nil, manifest end
  local params = {}
  for _, c in ipairs(manifest:columns()) do
    if c ~= "id" and c ~= "seed" and c ~= "identity" then params[#params + 1] = c end
  end
  local entries = {}
  for i = 1, manifest:rows() do
    entries[i] = { id = manifest:get(i, "id"), identity = manifest:get(i, "identity") }
  end
  local t, missing, failed = collect(exp_dir, entries)
  rank(t, opts.metric or "val_acc", order)
  save_table(t, exp_dir, "grid")
  grid_plots(exp_dir, t, params, opts.quiet)
  grid_page(exp_dir, t, opts.quiet)
  if not opts.quiet then
    t:print()
    if #missing > 0 then
      print(string.format("merge: %d of %d configuration(s) not finished: %s", #missing, #entries,
                          table.concat(missing, " ")))
    end
  end
  return { rows = load_rows(t), missing = missing, failed = failed, table = t }
end

return gridrun
