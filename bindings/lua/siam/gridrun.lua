-- siam.gridrun: runs a grid of configurations so that it survives. Each
-- configuration gets a run folder (siam.run); when it ends, its summary row
-- (result.csv) and then a `done` marker are written atomically, and a
-- configuration whose folder has the marker is skipped when the grid runs
-- again. Ctrl-C or a crash therefore loses only the configuration in
-- progress. `--shard i/n` (or a Slurm job array) runs a deterministic slice;
-- gridrun.merge builds the full ranked table from the run folders.
--
--   local gridrun = require "siam.gridrun"
--   gridrun.run{experiment = "grid", configs = siam.grid{...},
--               params = {"batch", "lr"}, args = arg,
--               train = function(cfg, run) ... return {test = ev} end}
-- train(cfg, run) trains (run:fit) and returns {test = siam.evaluate(...),
-- set = test_set} (what run:finish takes), or calls run:finish itself.
local siam = require "siam"
local Run = require "siam.run"
local json = require "siam.json"

local sio = siam.io
local gridrun = {}

local function join(...) return table.concat({ ... }, "/") end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Columns of a grid table after rank, id and the hyper-parameters.
gridrun.RESULT_COLUMNS = { "seed", "status", "best_epoch", "epochs", "train_time",
                           "val_loss", "val_acc", "test_loss", "test_acc", "auc", "threshold",
                           "message" }

-- A stable folder name from the hyper-parameters, in declared order:
-- batch16_lr0.001 (used when a configuration carries no id).
function gridrun.id_of(cfg, params)
  local parts = {}
  for _, p in ipairs(params) do
    local v = cfg[p]
    if v == nil then v = "nil" end
    parts[#parts + 1] = p .. tostring(v):gsub("[^%w.%-+]", "-")
  end
  return table.concat(parts, "_")
end

-- Reads --shard i/n and --retry-failed out of an argument list (the
-- script's `arg`); other arguments are returned in `rest`. Without --shard,
-- a Slurm job array's variables decide; otherwise the shard is 1/1.
function gridrun.parse_args(args)
  local out = { rest = {}, retry_failed = false }
  local i = 1
  while args and args[i] do
    local a = args[i]
    local v = a:match("^%-%-shard=(.*)$")
    if a == "--shard" then
      v = args[i + 1]
      if v == nil then error("--shard needs a value i/n", 0) end
      i = i + 1
    end
    if v then
      local s, err = sio.shard(v)
      if not s then error("--shard: " .. err, 0) end
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
    if s == nil then error("Slurm job array: " .. err, 0) end
    out.shard = s or { index = 1, count = 1 }
    out.from_slurm = s and true or false
  end
  return out
end

local function cell(v)
  if v == nil then return nil end
  if type(v) == "number" or type(v) == "string" or type(v) == "boolean" then return v end
  return tostring(v)
end

-- The summary row of one configuration, in column order.
local function result_row(id, cfg, params, summary)
  local row, cols = { id = id }, { "id" }
  for _, p in ipairs(params) do row[p] = cell(cfg[p]) cols[#cols + 1] = p end
  row.seed = cell(cfg.seed)
  for _, k in ipairs(gridrun.RESULT_COLUMNS) do
    if row[k] == nil then row[k] = cell(summary[k]) end
    cols[#cols + 1] = k
  end
  return row, cols
end

-- Runs one configuration in its folder and publishes its result. Errors
-- other than an interruption are recorded as status "failed".
local function run_one(opts, cfg, id)
  local run = Run.new{ experiment = opts.experiment, id = id, root = opts.root, config = cfg,
                       monitor = opts.monitor, mode = opts.monitor_mode,
                       progress = opts.progress, plots = opts.plots,
                       tensorboard = opts.tensorboard }
  local ok, ret = xpcall(opts.train, debug.traceback, cfg, run)
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
  local row, cols = result_row(id, cfg, opts.params, summary)
  local t = sio.table()
  t:add(row, cols)
  assert(t:save(join(run.dir, "result.csv"), "csv"))
  -- The marker comes last: a folder with it always has its result.csv.
  assert(sio.atomic_write(join(run.dir, "done"), json.encode(summary) .. "\n"))
  return row
end

-- The state of a configuration's folder: "done", "failed" (done, but with
-- status failed) or nil (never finished).
local function folder_state(dir)
  local marker = read_all(join(dir, "done"))
  if not marker or not exists(join(dir, "result.csv")) then return nil end
  if marker:find('"status":"failed"', 1, true) then return "failed" end
  return "done"
end

-- Writes the configuration list (ids and hyper-parameters, grid order) so a
-- merge knows what the whole grid is and what is missing.
local function write_manifest(dir, configs, ids, params)
  local t = sio.table()
  local cols = { "id" }
  for _, p in ipairs(params) do cols[#cols + 1] = p end
  cols[#cols + 1] = "seed"
  for k, cfg in ipairs(configs) do
    local row = { id = ids[k], seed = cell(cfg.seed) }
    for _, p in ipairs(params) do row[p] = cell(cfg[p]) end
    t:add(row, cols)
  end
  assert(t:save(join(dir, "configs.csv"), "csv"))
end

local function load_rows(t)
  local rows = {}
  for i = 1, t:rows() do rows[i] = t:row(i) end
  return rows
end

-- Builds, sorts and writes a grid table from run folders. `ids` (grid
-- order) limits it to those configurations. Returns the table and the ids
-- without a finished folder.
local function collect(exp_dir, ids)
  local t = sio.table()
  local missing = {}
  for _, id in ipairs(ids) do
    local dir = join(exp_dir, id)
    if folder_state(dir) then
      local ok, err = t:load_csv(join(dir, "result.csv"))
      if not ok then error(err, 0) end
    else
      missing[#missing + 1] = id
    end
  end
  return t, missing
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
    labels[i] = r.id
    val[i] = tonumber(r.val_acc) or nan
    test[i] = tonumber(r.test_acc) or nan
    secs[i] = tonumber(r.train_time) or nan
  end
  if #rows > 0 then run_like:plot("grid", "grid", "grid", labels, val, test, secs) end
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

local function save_table(t, dir, base)
  assert(t:save(join(dir, base .. ".csv"), "csv"))
  assert(t:save(join(dir, base .. ".md"), "markdown"))
end

-- gridrun.run(opts) -> {rows = {...}, ran = n, skipped = n, shard = s}
-- opts: experiment, configs (list of tables), params (hyper-parameter
-- names, declared order), train (function(cfg, run)), root ("results"),
-- metric ("val_acc"), order ("desc"), monitor/monitor_mode (best epoch),
-- args (the script's arg: --shard, --retry-failed), shard ("i/n"),
-- retry_failed, quiet, progress, plots, tensorboard.
function gridrun.run(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'run' (table expected)", 2) end
  if type(opts.configs) ~= "table" then error("bad argument #1 to 'run' (configs must be a list)", 2) end
  if type(opts.train) ~= "function" then error("bad argument #1 to 'run' (train must be a function)", 2) end
  if type(opts.experiment) ~= "string" then error("bad argument #1 to 'run' (experiment must be a string)", 2) end
  opts.root = opts.root or "results"
  opts.params = opts.params or {}
  local metric, order = opts.metric or "val_acc", opts.order or "desc"
  local quiet = opts.quiet or (siam.config and siam.config.quiet)
  local a = gridrun.parse_args(opts.args)
  local shard = a.shard
  if opts.shard then
    local s, err = type(opts.shard) == "table" and opts.shard or sio.shard(opts.shard)
    if not s then error("bad argument #1 to 'run' (shard: " .. err .. ")", 2) end
    shard = s
  end
  local retry = opts.retry_failed or a.retry_failed

  local exp_dir = join(opts.root, opts.experiment)
  assert(sio.mkdir_p(exp_dir))
  local ids, seen = {}, {}
  for k, cfg in ipairs(opts.configs) do
    local id = cfg.id or gridrun.id_of(cfg, opts.params)
    if seen[id] then error("grid: two configurations share the id '" .. id .. "'", 2) end
    seen[id] = true
    ids[k] = id
  end
  write_manifest(exp_dir, opts.configs, ids, opts.params)

  local mine, ran, skipped = {}, 0, 0
  for k, cfg in ipairs(opts.configs) do
    if sio.shard_owns(shard, k) then
      local id = ids[k]
      mine[#mine + 1] = id
      local state = folder_state(join(exp_dir, id))
      if state == "done" or (state == "failed" and not retry) then
        skipped = skipped + 1
      else
        if not quiet then
          print(string.format("== %s (%d/%d, shard %d/%d)", id, k, #opts.configs,
                              shard.index, shard.count))
        end
        run_one(opts, cfg, id)
        ran = ran + 1
      end
    end
  end
  if not quiet and skipped > 0 then
    print(string.format("grid: %d configuration(s) already finished, skipped", skipped))
  end

  local t, missing = collect(exp_dir, mine)
  t:sort(metric, order)
  local base = shard.count == 1 and "grid"
               or string.format("grid.shard-%d-of-%d", shard.index, shard.count)
  save_table(t, exp_dir, base)
  if shard.count == 1 then grid_plots(exp_dir, t, opts.params, quiet) end
  if not quiet then io.write(t:format("text")) end
  return { rows = load_rows(t), ran = ran, skipped = skipped, shard = shard, missing = missing,
           table = t }
end

-- gridrun.merge(exp_dir [, {metric=, order=, quiet=}]) builds the full table
-- grid.csv / grid.md and the grid plots from every finished run folder
-- listed in exp_dir/configs.csv. Returns the result as gridrun.run does;
-- `missing` lists configurations that have not finished.
function gridrun.merge(exp_dir, opts)
  opts = opts or {}
  local manifest = sio.table()
  local ok, err = manifest:load_csv(join(exp_dir, "configs.csv"))
  if not ok then return nil, err end
  local params = {}
  for _, c in ipairs(manifest:columns()) do
    if c ~= "id" and c ~= "seed" then params[#params + 1] = c end
  end
  local ids = {}
  for i = 1, manifest:rows() do ids[i] = manifest:get(i, "id") end
  local t, missing = collect(exp_dir, ids)
  t:sort(opts.metric or "val_acc", opts.order or "desc")
  save_table(t, exp_dir, "grid")
  grid_plots(exp_dir, t, params, opts.quiet)
  if not opts.quiet then
    io.write(t:format("text"))
    if #missing > 0 then
      print(string.format("merge: %d of %d configuration(s) not finished: %s", #missing, #ids,
                          table.concat(missing, " ")))
    end
  end
  return { rows = load_rows(t), missing = missing, table = t }
end

return gridrun
