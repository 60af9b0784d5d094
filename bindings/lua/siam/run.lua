-- siam.run: the folder of one training run, results/<experiment>/<run-id>/,
-- filled through siam.fit's hooks: config.lua, metrics.csv/.jsonl (one row
-- per epoch, replaced atomically), log.txt, best.ckpt, train.ckpt (the
-- training state while it runs, so that an interrupted run resumes),
-- test.json, plots/, index.html (siam.html), TensorBoard events, and the
-- progress bar. The C
-- writers are siam.io; this file decides what goes where and when. See
-- docs/logging.md.
--
--   local Run = require "siam.run"
--   local run = Run.new{experiment = "seed_best", config = cfg}
--   run:fit(model, opt, train, {epochs = 25, val = val})   -- siam.fit + hooks
--   run:finish{test = siam.evaluate(model, test)}
-- or, keeping the call to siam.fit in the script:
--   siam.fit(model, opt, train, run:fit_options{epochs = 25, val = val})
local siam = require "siam"
local json = require "siam.json"
local html = require "siam.html"
local fs = require "siam.fs"
local join, exists = fs.join, fs.exists

local sio = siam.io
local Run = {}
Run.__index = Run

-- Column order of metrics.csv; keys not listed follow in sorted order.
local FIRST_COLUMNS = { "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time" }

-- A Lua literal for a configuration value: sorted keys, numbers that read
-- back exactly, so config.lua reloads to the same table.
local function serialize(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "0/0" end
    if v == math.huge then return "math.huge" end
    if v == -math.huge then return "-math.huge" end
    local short = string.format("%.15g", v)
    if tonumber(short) == v then return short end
    return string.format("%.17g", v)
  end
  if t == "boolean" or t == "nil" then return tostring(v) end
  if t ~= "table" then return string.format("%q", tostring(v)) end
  local keys = {}
  for k, x in pairs(v) do
    local tx = type(x)
    if tx ~= "function" and tx ~= "userdata" and tx ~= "thread" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  local inner = indent .. "  "
  local parts = {}
  for _, k in ipairs(keys) do
    local key
    if type(k) == "string" and k:match("^[%a_][%w_]*$") then key = k
    else key = "[" .. serialize(k) .. "]" end
    parts[#parts + 1] = inner .. key .. " = " .. serialize(v[k], inner)
  end
  if #parts == 0 then return "{}" end
  return "{\n" .. table.concat(parts, ",\n") .. ",\n" .. indent .. "}"
end
Run.serialize = serialize

-- Where the gnuplot templates are: $SIAM_PLOTS, ./scripts/plots, or
-- scripts/plots next to the siamlua binary.
local function template_dir()
  local env = os.getenv("SIAM_PLOTS")
  if env and env ~= "" then return env end
  if exists("scripts/plots/training.gp") then return "scripts/plots" end
  local i = 0
  while arg and arg[i - 1] do i = i - 1 end
  local exe = arg and arg[i]
  local dir = exe and exe:match("^(.*)/[^/]*$")
  if dir and exists(join(dir, "scripts/plots/training.gp")) then return join(dir, "scripts/plots") end
  return nil
end

-- A copy of v fit for config.lua: plain values as they are, objects
-- (schedules, stopping rules, optimizers) by their description, functions
-- as "<Lua function>", so the record says what ran even where it cannot
-- be reloaded.
local function describe(v, seen)
  local t = type(v)
  if t == "function" then return "<Lua function>" end
  if t == "userdata" or t == "thread" then return tostring(v) end
  if t ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" or math.type(k) == "integer" then out[k] = describe(x, seen) end
  end
  seen[v] = nil
  return out
end
Run.describe = describe

-- The identity of a run: a hash of its whole configuration, the identity of
-- its data and the checkpoint format. The same identity is the same run
-- (a grid skips or resumes it); anything else is another run.
function Run.identity(config, data)
  local format = siam.build and siam.build.checkpoint_format or 0
  return sio.hash("siamlua run identity 1\n"
                  .. serialize{ config = config or {}, data = data or {}, checkpoint_format = format })
end

-- What identifies each of `sets` (name -> siam.PairSet): its content
-- fingerprint (image size, crop, names, pixels, pairs) and its pairs file's
-- hash when it came from one; where it lies and its counts go with it, for
-- the reader of config.lua.
function Run.data_identity(sets)
  local out = {}
  for name, set in pairs(sets or {}) do
    local info = set:info()
    local d = { fingerprint = set:fingerprint(), pairs = info.pairs, matched = info.matched,
                size = info.height, crop = info.crop, images = info.images,
                source = info.source, root = info.root }
    local file = info.source:match("^(.-)#") or info.source
    if file ~= "" then d.source_hash = sio.file_hash(file) end
    out[name] = d
  end
  return out
end

-- The part of a data identity that names the run: content, not places
-- (the same LFW copied elsewhere is the same data).
local function data_key(data)
  local key = {}
  for name, d in pairs(data or {}) do
    key[name] = { fingerprint = d.fingerprint, source_hash = d.source_hash }
  end
  return key
end
Run.data_key = data_key

-- What produced the run: siamlua's version and commit, the backend and
-- processor path, the command line.
local function produced_by()
  local b = siam.build or {}
  local words = {}
  local i = 0
  while arg and arg[i - 1] do i = i - 1 end
  while arg and arg[i] do words[#words + 1] = arg[i] i = i + 1 end
  local cfg = siam.config or {}
  return { siamlua = b.version or siam.version, commit = b.commit, compiler = b.compiler,
           checkpoint_format = b.checkpoint_format, backends = b.backends,
           device = cfg.device, threads = cfg.threads, conv = cfg.conv or "auto",
           blas = b.blas, blas_core = b.blas_core, cpu = b.cpu, cpu_features = b.cpu_features,
           build_features = b.build_features, command = table.concat(words, " "),
           started = os.date("!%Y-%m-%dT%H:%M:%SZ") }
end

-- The identity recorded in a run folder's config.lua, or nil.
local function folder_identity(dir)
  local chunk = loadfile(join(dir, "config.lua"), "t", {})
  if not chunk then return nil end
  local ok, t = pcall(chunk)
  if ok and type(t) == "table" and type(t.identity) == "string" then return t.identity end
  return nil
end
Run.folder_identity = folder_identity

-- The folder of an earlier attempt of the run `identity` under exp_dir:
-- the one whose name ends in -<first 8 digits> (or that and -N) and whose
-- config.lua holds that identity; `accept(dir)`, when given, must also
-- hold.
function Run.find(exp_dir, identity, accept)
  local names = sio.list(exp_dir)
  if not names then return nil end
  local tail = "-" .. identity:sub(1, 8)
  for _, name in ipairs(names) do
    local at = name:find(tail, 1, true)
    local rest = at and name:sub(at + #tail)
    if rest and (rest == "" or rest:match("^%-%d+$"))
       and folder_identity(join(exp_dir, name)) == identity
       and (not accept or accept(join(exp_dir, name))) then
      return name
    end
  end
  return nil
end

-- A folder name not yet taken under exp_dir: base, else base-2, base-3...
-- created here (so two runs never get the same one).
local function claim(exp_dir, base)
  for k = 1, 1000 do
    local name = k == 1 and base or (base .. "-" .. k)
    local state, err = sio.mkdir(join(exp_dir, name))
    if state == "created" then return name end
    if not state then error(err, 3) end
  end
  error("no free folder name for " .. join(exp_dir, base), 3)
end

local NAME_PATTERN = "^[%w_.%-=,+]+$"

-- The readable part of a run folder's name, for titles and tables: the
-- name without the 8 digits of its identity (and the -N a collision
-- added); a UTC-time name (20261202-033000) as a date.
function Run.readable_name(id)
  local base = id:match("^(.*)%-%x%x%x%x%x%x%x%x%-%d+$") or id:match("^(.*)%-%x%x%x%x%x%x%x%x$")
               or id
  local y, mo, d, h, mi, sec = base:match("^(%d%d%d%d)(%d%d)(%d%d)%-(%d%d)(%d%d)(%d%d)$")
  if y then return string.format("%s-%s-%s %s:%s:%s UTC", y, mo, d, h, mi, sec) end
  return base
end

-- The run's title on its plots and page: experiment and readable name.
function Run:title()
  return self.experiment .. ": " .. Run.readable_name(self.id)
end

-- Run.new{experiment=, config={}, data={train=set, ...}, name=, id=, reuse=,
--         root="results", monitor="val_acc", mode="max", tensorboard=true,
--         plots=true, progress=true, checkpoint=true, histograms=true,
--         resume=true}
-- The folder: `id` as given; else, with reuse = true, an earlier folder of
-- the same identity when there is one (a grid); with reuse = "unfinished",
-- one that holds a training state to resume and no other process is
-- writing (an interrupted script run, given again); else a new one named
-- <name or UTC time>-<8 digits of the identity>, -2, -3... on collision.
function Run.new(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'new' (table expected, got " .. type(opts) .. ")", 2)
  end
  local known = { experiment = 1, id = 1, root = 1, config = 1, monitor = 1, mode = 1,
                  tensorboard = 1, plots = 1, progress = 1, checkpoint = 1, histograms = 1,
                  resume = 1, data = 1, name = 1, reuse = 1, identity = 1 }
  for k in pairs(opts) do
    if not known[k] then error("bad argument #1 to 'new' (unknown option '" .. tostring(k) .. "')", 2) end
  end
  if type(opts.experiment) ~= "string" or not opts.experiment:match("^[%w_.%-]+$") then
    error("bad argument #1 to 'new' (experiment must be a name of letters, digits, '_', '.', '-')", 2)
  end
  for _, key in ipairs{ "id", "name" } do
    local v = opts[key]
    if v ~= nil and (type(v) ~= "string" or not v:match(NAME_PATTERN) or v:match("^%.")) then
      error("bad argument #1 to 'new' (" .. key .. " must be a folder name, got " .. tostring(v) .. ")", 2)
    end
  end
  local mode = opts.mode or "max"
  if mode ~= "max" and mode ~= "min" then
    error("bad argument #1 to 'new' (mode must be 'max' or 'min')", 2)
  end
  local config = opts.config or {}
  local data = opts.data or {}
  if type(data) ~= "table" then error("bad argument #1 to 'new' (data must be a table)", 2) end
  -- data: pair sets (identified here) or an identity table already made
  local sets = {}
  for k, v in pairs(data) do
    if type(v) == "userdata" then sets[k] = v end
  end
  if next(sets) then data = Run.data_identity(sets) end
  local identity = opts.identity or Run.identity(config, data_key(data))
  local root = opts.root or "results"
  local exp_dir = join(root, opts.experiment)
  assert(sio.mkdir_p(exp_dir))
  local id, held = opts.id, nil
  if id then
    local here = folder_identity(join(exp_dir, id))
    if here and here ~= identity then
      error(string.format("run folder %s holds another configuration (identity %s, this run's "
                          .. "is %s); give another id", join(exp_dir, id), here, identity), 2)
    end
    assert(sio.mkdir_p(join(exp_dir, id)))
  else
    if opts.reuse == "unfinished" then
      id = Run.find(exp_dir, identity, function(dir)
        if not exists(join(dir, "train.ckpt")) then return false end
        held = sio.lock(dir) -- kept: no other process may take it in between
        return held ~= nil
      end)
    elseif opts.reuse then
      id = Run.find(exp_dir, identity)
    end
    if not id then
      id = claim(exp_dir, (opts.name or os.date("!%Y%m%d-%H%M%S")) .. "-" .. identity:sub(1, 8))
    end
  end
  local self = setmetatable({
    experiment = opts.experiment, id = id, root = root, identity = identity,
    config = config, data = data, monitor = opts.monitor or "val_acc", mode = mode,
    rows = {}, columns = nil, best = nil, status = nil, notes = {},
    want_tb = opts.tensorboard ~= false, want_plots = opts.plots ~= false,
    want_progress = opts.progress ~= false, want_ckpt = opts.checkpoint ~= false,
    want_hist = opts.histograms ~= false, want_resume = opts.resume ~= false,
  }, Run)
  self.dir = join(exp_dir, id)
  -- One process at a time writes a folder; the kernel drops the lock if
  -- this one dies.
  local lock, lerr = held, nil
  if not lock then lock, lerr = sio.lock(self.dir) end
  if not lock then error(lerr, 2) end
  self.lock = lock
  self.plot_dir = join(self.dir, "plots")
  assert(sio.mkdir_p(self.plot_dir))
  self.log = assert(sio.runlog(join(self.dir, "log.txt"), "info"))
  self.state_path = join(self.dir, "train.ckpt")
  self.csv = assert(sio.linelog(join(self.dir, "metrics.csv")))
  self.jsonl = assert(sio.linelog(join(self.dir, "metrics.jsonl")))
  self.t0 = sio.clock()
  os.remove(join(self.dir, "test.json"))
  if self.csv:lines() > 0 and self.want_ckpt and self.want_resume and exists(self.state_path) then
    -- An interrupted attempt that left its training state: fit goes on
    -- from its last finished epoch, and its rows, best.ckpt and event
    -- files stay.
    self:load_rows()
    self.resume_from = self.state_path
    self:warn(string.format("previous attempt did not finish; resuming after epoch %d",
                            #self.rows))
  else
    -- Without it the folder starts over: its rows and files belong to a
    -- run that did not finish.
    if self.csv:lines() > 0 then
      self:warn("previous attempt did not finish; starting this run again")
    end
    for _, name in ipairs(assert(sio.list(self.dir))) do
      if name:match("^events%.out%.tfevents%.") or name == "best.ckpt" or name == "train.ckpt" then
        os.remove(join(self.dir, name))
      end
    end
    self.csv:truncate(0)
    self.jsonl:truncate(0)
  end
  self.produced_by = produced_by()
  self:write_config()
  if self.want_tb then
    local w, err = sio.tfevents(self.dir)
    if w then self.tb = w else self:warn("no TensorBoard events: " .. err) end
  end
  self:info(string.format("run %s/%s in %s (identity %s)", self.experiment, self.id, self.dir,
                          identity))
  return self
end

-- config.lua: the identity, the configuration, the data, what produced
-- the run and, once training starts, what fit, the model and the
-- optimizer resolved (`resolved`). Rewritten whole, atomically.
function Run:write_config()
  local t = { identity = self.identity, experiment = self.experiment, config = self.config,
              data = self.data, produced_by = self.produced_by, resolved = self.resolved }
  assert(sio.atomic_write(join(self.dir, "config.lua"), "return " .. serialize(t) .. "\n"))
end

function Run:write_log(level, msg) self.log:write(level, msg) end
function Run:info(msg) self.log:write("info", msg) end
function Run:warn(msg) self.log:write("warn", msg) end
function Run:error(msg) self.log:write("error", msg) end
function Run:debug(msg) self.log:write("debug", msg) end

function Run:plotter()
  if self._plotter == nil then
    local dir = template_dir()
    local p, err
    if dir then p, err = sio.plotter(dir) else err = "scripts/plots not found (set SIAM_PLOTS)" end
    if not p then self:warn("no plots: " .. err) end
    self._plotter = p or false
  end
  return self._plotter or nil
end

-- Draws one plot and logs the outcome; gnuplot's absence is noted once.
function Run:plot(kind, ...)
  if not self.want_plots then return nil end
  local p = self:plotter()
  if not p then return nil end
  local ok, status, notice = pcall(p[kind], p, self.plot_dir, ...)
  if not ok then
    self:warn("plot " .. kind .. " failed: " .. tostring(status))
    return nil
  end
  if notice then self:warn(notice) end
  return status
end

local function tag_for(key)
  local split, what = key:match("^(%a+)_(loss)$")
  if not split then split, what = key:match("^(%a+)_(acc)$") end
  if split then return what .. "/" .. split end
  return key
end

local function better(mode, a, b)
  if b == nil then return true end
  if mode == "max" then return a > b end
  return a < b
end

-- Makes row the best when its monitored metric beats the best so far
-- (the earlier row wins ties); true when it did.
function Run:consider(row)
  local v = row[self.monitor]
  if type(v) == "number" and v == v and better(self.mode, v, self.best and self.best.value) then
    self.best = { epoch = row.epoch, value = v, row = row }
    return true
  end
  return false
end

-- The best of the rows so far by the monitored metric.
function Run:find_best()
  self.best = nil
  for _, row in ipairs(self.rows) do self:consider(row) end
end

local function cell_value(cell)
  if cell == "" then return nil end
  local v = tonumber(cell)
  if v then return v end
  if cell:match("^%-?nan") then return 0 / 0 end
  if cell == "inf" then return math.huge end
  if cell == "-inf" then return -math.huge end
  return nil
end

-- The rows of an earlier attempt, read back from metrics.csv (numbers to
-- the 6 digits written there), the best of them, and the clock continued
-- from the last one's time.
function Run:load_rows()
  local text = self.csv:text()
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local cols = {}
  for c in ((lines[1] or "") .. ","):gmatch("([^,]*),") do cols[#cols + 1] = c end
  self.columns = #cols > 0 and cols or nil
  for i = 2, #lines do
    local row, k = {}, 0
    for cell in (lines[i] .. ","):gmatch("([^,]*),") do
      k = k + 1
      if cols[k] then row[cols[k]] = cell_value(cell) end
    end
    row.epoch = math.tointeger(row.epoch)
    if row.epoch then self.rows[#self.rows + 1] = row end
  end
  self:find_best()
  local last = self.rows[#self.rows]
  self.time_offset = last and type(last.time) == "number" and last.time or 0
  self.t0 = self.t0 - self.time_offset
end

-- Records one finished epoch: row is a table of numbers with at least
-- `epoch`. Called by the on_epoch_end hook, or directly by a custom loop.
function Run:epoch(row, model)
  assert(type(row) == "table" and math.type(row.epoch) == "integer",
         "epoch row must have an integer 'epoch'")
  row.time = row.time or (sio.clock() - self.t0)
  -- A resumed run repeats the epochs an interrupted attempt recorded after
  -- its last training-state checkpoint: their rows give way.
  if #self.rows > 0 and self.rows[#self.rows].epoch >= row.epoch then
    while #self.rows > 0 and self.rows[#self.rows].epoch >= row.epoch do
      self.rows[#self.rows] = nil
    end
    self.csv:truncate(self.columns and #self.rows + 1 or 0)
    self.jsonl:truncate(#self.rows)
    self:find_best()
  end
  if not self.columns then
    local seen, cols = {}, {}
    for _, k in ipairs(FIRST_COLUMNS) do
      if row[k] ~= nil then cols[#cols + 1] = k seen[k] = true end
    end
    local rest = {}
    for k, v in pairs(row) do
      if not seen[k] and type(v) == "number" then rest[#rest + 1] = k end
    end
    table.sort(rest)
    for _, k in ipairs(rest) do cols[#cols + 1] = k end
    self.columns = cols
    self.csv:append(table.concat(cols, ","))
  end
  local cells = {}
  for i, k in ipairs(self.columns) do
    local v = row[k]
    if v == nil then cells[i] = ""
    elseif math.type(v) == "integer" then cells[i] = tostring(v)
    else cells[i] = string.format("%.6g", v) end
  end
  self.csv:append(table.concat(cells, ","))
  self.jsonl:append(json.encode(row))
  self.rows[#self.rows + 1] = row
  if self.tb then
    for k, v in pairs(row) do
      if k ~= "epoch" and k ~= "time" and type(v) == "number" then
        self.tb:scalar(tag_for(k), row.epoch, v)
      end
    end
    if self.want_hist and model then self:histograms(model, row.epoch) end
  end
  if self:consider(row) and self.want_ckpt and model then self:checkpoint(model) end
  local parts = {}
  for _, k in ipairs(self.columns) do
    if k ~= "epoch" and k ~= "time" and row[k] ~= nil then
      parts[#parts + 1] = string.format("%s=%.4g", k, row[k])
    end
  end
  self:info(string.format("epoch %d: %s", row.epoch, table.concat(parts, " ")))
  -- Redrawn during training at most every PLOT_INTERVAL seconds (gnuplot
  -- costs tens of milliseconds; tiny epochs would spend most time there),
  -- and always at the end (finish).
  if self.want_plots and sio.clock() - (self.plotted_at or -math.huge) >= Run.PLOT_INTERVAL then
    self:plot_training()
  end
end

Run.PLOT_INTERVAL = 10

function Run:plot_training()
  if #self.rows == 0 then return end
  self.plotted_at = sio.clock()
  self:plot("training", "training", self:title(), self.rows,
            { best_epoch = self.best and self.best.epoch })
end

-- The model's parameters as {name, tensor, norm, grad_norm} when it has a
-- parameters() method: siam.Model's gives {name, norm, grad_norm, ...} per
-- parameter and m:parameter(name) the values; a list of tensors or a
-- name -> tensor table also works. Nothing otherwise.
local function parameters(model)
  if type(model) ~= "userdata" and type(model) ~= "table" then return {} end
  local ok, f = pcall(function() return model.parameters end)
  if not ok or type(f) ~= "function" then return {} end
  local ok2, params = pcall(f, model)
  if not ok2 or type(params) ~= "table" then return {} end
  local out = {}
  for k, t in pairs(params) do
    local p = { name = type(k) == "string" and k or ("p" .. tostring(k)), tensor = t }
    if type(t) == "table" and t.name then
      p = { name = t.name, norm = t.norm, grad_norm = t.grad_norm, tensor = t.tensor }
      if p.tensor == nil and type(model.parameter) == "function" then
        p.fetch = function() return model:parameter(t.name) end
      end
    end
    out[#out + 1] = p
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

-- Per parameter: a histogram of its values and, when known, the norms of
-- the values and of the last gradient as scalars.
function Run:histograms(model, step)
  for _, p in ipairs(parameters(model)) do
    if type(p.norm) == "number" then self.tb:scalar("norm/" .. p.name, step, p.norm) end
    if type(p.grad_norm) == "number" then self.tb:scalar("grad_norm/" .. p.name, step, p.grad_norm) end
    local ok, err = pcall(function()
      local values = p.tensor or (p.fetch and p.fetch())
      if values ~= nil then self.tb:histogram("weights/" .. p.name, step, values) end
    end)
    if not ok then
      self:warn("no weight histograms: " .. tostring(err))
      self.want_hist = false
      return
    end
  end
end

-- Saves the best model so far to best.ckpt (the model's save writes
-- atomically, host/checkpoint.h).
function Run:checkpoint(model)
  local ok, f = pcall(function() return model.save end)
  if not ok or type(f) ~= "function" then
    self:warn("model has no save method: no best.ckpt")
    self.want_ckpt = false
    return
  end
  local ok2, err = pcall(f, model, join(self.dir, "best.ckpt"))
  if not ok2 then self:warn("best.ckpt not written: " .. tostring(err)) end
end

-- The numbers of one epoch out of a fit state: state.metrics may be the
-- latest row, a list of rows, or a table of lists (metric -> per-epoch
-- values); loose fields (state.lr, state.val_acc, ...) fill the gaps.
local function epoch_row(state)
  local row = {}
  local m = state.metrics
  if type(m) == "table" then
    local src = m
    if #m > 0 and type(m[#m]) == "table" then src = m[#m] end
    for k, v in pairs(src) do
      if type(k) == "string" then
        if type(v) == "number" then row[k] = v
        elseif type(v) == "table" and type(v[#v]) == "number" then row[k] = v[#v] end
      end
    end
  end
  for _, k in ipairs{ "train_loss", "train_acc", "val_loss", "val_acc", "lr" } do
    if row[k] == nil and type(state[k]) == "number" then row[k] = state[k] end
  end
  if row.train_loss == nil and type(state.loss) == "number" then row.train_loss = state.loss end
  if type(state.seconds) == "number" then row.time = state.seconds end
  row.epoch = math.tointeger(state.epoch)
  return row
end
Run.epoch_row = epoch_row

local HOOKS = { "on_start", "on_epoch_start", "on_batch_end", "on_epoch_end", "on_end" }

-- The hooks for siam.fit, in the torchnet style: a table with on_start,
-- on_epoch_start, on_batch_end, on_epoch_end and on_end. `user` (optional)
-- holds the caller's own hooks, called after the run's with the same state.
function Run:hooks(user)
  user = user or {}
  local run = self
  local quiet = siam.config and siam.config.quiet
  if run.want_progress and not quiet and not run.progress then run.progress = sio.progress() end
  local function chain(name, f)
    return function(state)
      f(state)
      if user[name] then return user[name](state) end
    end
  end
  return {
    on_start = chain("on_start", function(state)
      run.epochs_planned = math.tointeger(state.epochs) or run.epochs_planned
      -- every option fit resolved, defaults filled in, before any epoch
      if type(state.config) == "table" and run.resolved then
        run.resolved.fit = describe(state.config)
        run:write_config()
      end
      run:info(string.format("training: %s epochs", tostring(state.epochs or "?")))
    end),
    on_epoch_start = chain("on_epoch_start", function(state)
      if run.progress then
        local e = math.tointeger(state.epoch) or (#run.rows + 1)
        local n = math.tointeger(state.epochs) or e
        run.progress:epoch_begin(e, math.max(n, e), math.tointeger(state.batches) or 0)
      end
    end),
    on_batch_end = chain("on_batch_end", function(state)
      if run.progress and type(state.loss) == "number" then run.progress:step(1, state.loss) end
    end),
    on_epoch_end = chain("on_epoch_end", function(state)
      local row = epoch_row(state)
      row.epoch = row.epoch or (#run.rows + 1)
      -- fit's clock restarts when it resumes; the run's goes on
      if row.time and run.time_offset then row.time = row.time + run.time_offset end
      if run.progress then
        local extra = {}
        for _, k in ipairs{ "val_loss", "val_acc" } do
          if row[k] then extra[#extra + 1] = string.format("%s=%.4g", k, row[k]) end
        end
        run.progress:epoch_end(table.concat(extra, " "))
      end
      run:epoch(row, state.model)
      if run.on_epoch then run.on_epoch(row) end -- e.g. a grid's estimate after its first epoch
    end),
    on_end = chain("on_end", function(state)
      if state.stopped_early or state.early_stopped then run.status = "early-stopped" end
      run:info(string.format("training ended after %d epochs (%.1f s)", #run.rows,
                             sio.clock() - run.t0))
      if run.progress then run.progress:close() run.progress = nil end
    end),
  }
end

-- siam.fit's options with the run's hooks added: the caller's own on_*
-- functions in `opts` still run, after the run's. fit's own per-epoch line
-- is turned off (verbose = false) unless asked for, since the run prints
-- its progress.
function Run:fit_options(opts)
  opts = opts or {}
  local out, user = {}, {}
  for k, v in pairs(opts) do out[k] = v end
  for _, h in ipairs(HOOKS) do user[h] = opts[h] end
  for h, f in pairs(self:hooks(user)) do out[h] = f end
  if out.verbose == nil then out.verbose = false end
  -- The training state after every epoch, and an earlier attempt's state
  -- to go on from.
  if self.want_ckpt and self.want_resume and out.checkpoint == nil then
    out.checkpoint = self.state_path
  end
  if self.resume_from and out.resume == nil then out.resume = self.resume_from end
  return out
end

-- What the model and optimizer say of themselves, for config.lua.
local function self_description(obj, fields)
  local out = {}
  if obj == nil then return nil end
  for _, k in ipairs(fields) do
    local ok, v = pcall(function() return obj[k] end)
    if ok and v ~= nil and type(v) ~= "function" then out[k] = describe(v) end
  end
  out.description = tostring(obj)
  return out
end

-- Trains through siam.fit (or self.fit_function, for tests) with the run's
-- hooks and returns fit's history. config.lua gains what was resolved:
-- fit's options (as given, then from fit's state.config in on_start with
-- every default filled in), the model's configuration and the optimizer.
-- What fit says about how it stopped sets the status: "early"/"requested"
-- -> early-stopped; "nan" (a non-finite loss, gradient or weight) -> nan,
-- with fit's message (where it happened) in the summary and log.txt;
-- "interrupted" (Ctrl-C) -> run.interrupted, so that a grid does not count
-- the run as finished.
function Run:fit(model, optimizer, train, opts)
  local fit = self.fit_function or siam.fit
  local fopts = self:fit_options(opts)
  self.resolved = {
    fit = describe(opts or {}),
    model = self_description(model, { "config", "init", "seed", "threshold", "tta", "device",
                                      "numel", "batch" }),
    optimizer = self_description(optimizer, { "kind", "lr" }),
  }
  self:write_config()
  local h = fit(model, optimizer, train, fopts)
  local stopped = type(h) == "table" and h.stopped
  if stopped == "early" or stopped == "requested" then
    self.status = "early-stopped"
  elseif stopped == "nan" then
    self.status = "nan"
    self.message = h.nan or "training diverged (non-finite values)"
    self:error(self.message)
  elseif stopped == "interrupted" then
    self.status = "interrupted"
    self.interrupted = true
    self:warn("interrupted (Ctrl-C) after " .. #self.rows .. " epochs")
  end
  return h
end

-- The ROC points of an evaluation: ev.roc = {fpr={...}, tpr={...}} or a
-- list of {fpr, tpr} pairs.
local function roc_points(roc)
  if type(roc) ~= "table" then return nil end
  if type(roc.fpr) == "table" and type(roc.tpr) == "table" then return roc.fpr, roc.tpr end
  if type(roc[1]) == "table" then
    local f, t = {}, {}
    for i, p in ipairs(roc) do f[i] = p[1] or p.fpr; t[i] = p[2] or p.tpr end
    return f, t
  end
  return nil
end

-- The ROC curve of probabilities against 0/1 labels: thresholds from high
-- to low, one point per distinct probability (ties move together), from
-- (0, 0) to (1, 1) (Fawcett 2006, "An introduction to ROC analysis", alg. 1).
local function roc_curve(probs, labels)
  local n = #probs
  if n == 0 or #labels ~= n then return nil end
  local order = {}
  for i = 1, n do order[i] = i end
  table.sort(order, function(a, b)
    if probs[a] ~= probs[b] then return probs[a] > probs[b] end
    return a < b
  end)
  local pos, neg = 0, 0
  for i = 1, n do if labels[i] >= 0.5 then pos = pos + 1 else neg = neg + 1 end end
  if pos == 0 or neg == 0 then return nil end
  local fpr, tpr = { 0 }, { 0 }
  local tp, fp = 0, 0
  for k, i in ipairs(order) do
    if labels[i] >= 0.5 then tp = tp + 1 else fp = fp + 1 end
    local nxt = order[k + 1]
    if not nxt or probs[nxt] ~= probs[i] then
      fpr[#fpr + 1], tpr[#tpr + 1] = fp / neg, tp / pos
    end
  end
  return fpr, tpr
end
Run.roc_curve = roc_curve

-- The 0/1 labels of a siam.PairSet, in pair order (set:pair(i).label).
function Run.labels_of(set)
  local labels = {}
  for i = 1, #set do labels[i] = set:pair(i).label end
  return labels
end

local function confusion_counts(ev)
  local c = ev.confusion or ev
  if type(c) ~= "table" then return nil end
  if c.tp and c.fp and c.tn and c.fn then return { tp = c.tp, fp = c.fp, tn = c.tn, fn = c.fn } end
  -- {{tn, fp}, {fn, tp}}: rows are the truth (different, same).
  if type(c[1]) == "table" and type(c[2]) == "table" then
    return { tn = c[1][1], fp = c[1][2], fn = c[2][1], tp = c[2][2] }
  end
  return nil
end

-- Ends the run: writes test.json and the test plots, picks the status and
-- returns the run's summary (one row of a grid table).
-- opts: test = an evaluation table (siam.evaluate's: loss, accuracy, auc,
-- threshold, confusion, probs; or roc = {fpr=, tpr=}), labels = the test
-- pairs' 0/1 labels or set = the test siam.PairSet (with test.probs they
-- give the ROC curve), status =
-- override ("failed", ...), sheet = rows for siam.io.image_sheet (faces of
-- the best and worst pairs, given by hand; without it the sheet is drawn
-- from set and test.probs), sheet_per_kind = pairs per sheet row (3),
-- message.
function Run:finish(opts)
  opts = opts or {}
  local ev = opts.test
  self:plot_training()
  local planned = self.epochs_planned
  if planned == nil and math.type(self.config.epochs) == "integer" then planned = self.config.epochs end
  local summary = {
    status = opts.status or self.status or "done",
    epochs = planned,
    epochs_run = #self.rows,
    best_epoch = self.best and self.best.epoch or (#self.rows > 0 and self.rows[#self.rows].epoch or nil),
    train_time = sio.clock() - self.t0,
    message = opts.message or self.message,
  }
  local best = self.best and self.best.row or self.rows[#self.rows] or {}
  summary.val_loss, summary.val_acc = best.val_loss, best.val_acc
  for _, r in ipairs(self.rows) do
    for _, k in ipairs{ "train_loss", "val_loss" } do
      if type(r[k]) == "number" and r[k] ~= r[k] and summary.status ~= "failed" then
        summary.status = "nan"
        summary.message = summary.message
                          or string.format("%s is NaN at epoch %d", k, r.epoch)
      end
    end
  end
  if type(ev) == "table" then
    assert(sio.atomic_write(join(self.dir, "test.json"), json.encode(ev) .. "\n"))
    summary.test_loss = ev.loss
    summary.test_acc = ev.accuracy or ev.acc
    summary.auc = ev.auc
    summary.threshold = ev.threshold
    local c = confusion_counts(ev)
    if c then self:plot("confusion", "confusion", self:title() .. ", test confusion", c) end
    local fpr, tpr = roc_points(ev.roc)
    local labels = opts.labels or ev.labels
    if not labels and opts.set then labels = Run.labels_of(opts.set) end
    if not fpr and type(ev.probs) == "table" and type(labels) == "table" then
      fpr, tpr = roc_curve(ev.probs, labels)
    end
    if fpr and ev.auc then self:plot("roc", "roc", self:title() .. ", test ROC", fpr, tpr, ev.auc) end
    if self.tb then
      local step = summary.best_epoch or 0
      for k, v in pairs{ loss = ev.loss, acc = summary.test_acc, auc = ev.auc } do
        if type(v) == "number" then self.tb:scalar(k .. "/test", step, v) end
      end
    end
    self:info(string.format("test: loss=%s acc=%s auc=%s threshold=%s", tostring(ev.loss),
                            tostring(summary.test_acc), tostring(ev.auc), tostring(ev.threshold)))
  end
  self:write_sheet(opts, type(ev) == "table" and ev or nil, summary.best_epoch or 0)
  local ok, page, err = pcall(html.write_run, self, summary)
  if not ok or not page then self:warn("index.html not written: " .. tostring(ok and err or page)) end
  if opts.message then self:write_log(summary.status == "failed" and "error" or "info", opts.message) end
  self:info(string.format("run %s: %s", summary.status, self.dir))
  -- A finished run is not resumed: its training state only takes space.
  os.remove(self.state_path)
  self:close()
  self.summary = summary
  return summary
end

-- Writes plots/sheet.png: opts.sheet's rows when given, else the most and
-- least confident TP/FP/TN/FN pairs of the test set (opts.set with ev.probs
-- at ev.threshold, faces composed in C), and adds it to TensorBoard. A
-- failure is a warning: the run's numbers matter more than its picture.
function Run:write_sheet(opts, ev, step)
  local path = join(self.plot_dir, "sheet.png")
  local ok, err
  if opts.sheet then
    ok, err = pcall(sio.image_sheet, path, opts.sheet, opts.sheet_height or 105,
                    opts.sheet_width or 105, self:title() .. (ev and type(ev.threshold) == "number"
                    and string.format(", threshold %.3f", ev.threshold) or ""))
  elseif opts.set and ev and type(ev.probs) == "table" then
    ok, err = pcall(sio.sheet, opts.set, ev.probs, path,
                    { threshold = ev.threshold or 0.5, per_kind = opts.sheet_per_kind or 3,
                      title = self:title() })
  else
    return
  end
  if not ok then
    self:warn("sheet.png not written: " .. tostring(err))
    return
  end
  local f = self.tb and io.open(path, "rb")
  if f then
    local png = f:read("a")
    f:close()
    local w, h = string.unpack(">I4>I4", png, 17) -- the PNG IHDR chunk
    self.tb:image("pairs/sheet", step, png, h, w, 1)
  end
end

function Run:close()
  if self.progress then self.progress:close() self.progress = nil end
  if self.tb then self.tb:close() self.tb = nil end
  self.csv:close()
  self.jsonl:close()
  self.log:close()
  if self.lock then self.lock:release() self.lock = nil end
end

return Run
