-- Shared by the experiment scripts (loaded with dofile, next to them):
-- command-line arguments, the data (LFW when found, else the synthetic set,
-- saying which) and the two model configurations.
--
-- Every script takes key=value arguments, for example
--   siamlua experiments/seed_best.lua epochs=2 model=small subset=400
-- Common keys: model=paper|small (paper: Koch et al.'s network at 105x105,
-- the seed's; small: a reduced network at 48x48 for quick CPU runs),
-- subset=N (train on N pairs of the training set), seed=N, lfw=DIR,
-- data=tiny (a 24-person synthetic set, for smoke tests), crop=N (cut each
-- source image to its centred NxN square before resizing; 0, the default,
-- keeps the whole image), cache=DIR (where the synthetic set and image caches
-- go), results=DIR (default results).
--
-- Every script that trains writes a run folder results/<script>/<run-id>/
-- (common.run, siam.run: docs/logging.md) named by the time and 8 digits of
-- the run's identity, a hash of common.config (every key, defaults filled
-- in) and of the data's content.
local common = {}

-- Every key a script takes is declared once, as {name, kind, ...}, and
-- common.args checks each value given against it before any data is
-- loaded or anything trained:
--   "integer" or "number" (finite), with min and max (max_open = true: the
--     value must stay below max);
--   "choice" with choices = {...} (compared as text: threshold=0.5 is "0.5");
--   "text": any value, kept as text (paths, names);
--   list = true: a comma list of such values is allowed (grid.lua's keys);
--   expect = "...": what the message says is expected, instead of the
--     text made from the declaration.
common.keys = {
  { "model", "choice", choices = { "paper", "small" } },
  { "subset", "integer", min = 1 },
  { "seed", "integer", min = 0 },
  { "lfw", "text" },
  { "data", "choice", choices = { "tiny" }, expect = "data=tiny or no data key" },
  { "crop", "integer", min = 0, max = 8192, expect = "0 (whole image) or a side in pixels" },
  { "cache", "text" },
  { "results", "text" },
}

-- Keys that say where things are or go, not what is computed: recorded
-- (the data's places in config.lua's data section), never part of a run's
-- identity.
common.place_keys = { lfw = true, cache = true, results = true, out = true, checkpoint = true,
                      resume = true, models = true, pairs = true, images = true }

-- The script's name (experiments/grid.lua -> "grid"): its run folders'
-- experiment.
common.script = (arg and arg[0] or "script"):match("([^/]+)%.lua$") or "script"

-- A usage error: the message alone on stderr, no traceback, status 1.
local function usage(msg)
  io.stderr:write("siamlua: ", msg, "\n")
  os.exit(1)
end

-- What a declaration accepts, in words ("an integer >= 1", "one of a, b").
local function expected(d)
  if d.expect then return d.expect end
  if d[2] == "choice" then
    if #d.choices == 2 then
      return d[1] .. "=" .. d.choices[1] .. " or " .. d[1] .. "=" .. d.choices[2]
    end
    return "one of " .. table.concat(d.choices, ", ")
  end
  local what = d[2] == "integer" and "an integer" or "a number"
  if d.min and d.max then
    return string.format("%s in [%s, %s%s", what, d.min, d.max, d.max_open and ")" or "]")
  elseif d.min then
    return string.format("%s >= %s", what, d.min)
  end
  return what
end

-- The value checked against its declaration: nil and the expectation when
-- it does not fit.
local function check_value(d, v)
  local kind = d[2]
  if kind == "text" then return tostring(v) end
  if kind == "choice" then
    for _, c in ipairs(d.choices) do
      if tostring(v) == c then return v end
    end
    return nil
  end
  if math.type(v) == nil or v ~= v or v == math.huge or v == -math.huge then return nil end
  if kind == "integer" and math.type(v) ~= "integer" then return nil end
  if (d.min and v < d.min) or (d.max and (v > d.max or (d.max_open and v == d.max))) then
    return nil
  end
  return v
end

-- "key=value" as the user wrote it (the last word giving the key), escaped
-- (siam.io.escape).
local function shown(key, v)
  for i = #(arg or {}), 1, -1 do
    local k, text = tostring(arg[i]):match("^([^=]+)=(.*)$")
    if k == key then return key .. "=" .. siam.io.escape(text) end
  end
  return key .. "=" .. siam.io.escape(tostring(v))
end

-- The script's arguments: `own` declares its keys (common.keys are
-- added); `defaults` fills the keys not given. Every value given is
-- checked, and results= must be a directory this process can write, all
-- before the script does any work.
function common.args(own, defaults)
  local decls, names = {}, {}
  for _, d in ipairs(own or {}) do decls[#decls + 1] = d end
  for _, d in ipairs(common.keys) do decls[#decls + 1] = d end
  for i, d in ipairs(decls) do names[i] = d[1] end
  common.known = names
  local ok, opts = pcall(siam.args, arg or {}, names)
  if not ok then usage((tostring(opts):gsub("^[^:\n]+:%d+: ", ""))) end
  for _, d in ipairs(decls) do
    local v = opts[d[1]]
    if v ~= nil then
      local values = type(v) == "table" and v or { v }
      if type(v) == "table" and not d.list and d[2] ~= "text" then
        usage(shown(d[1], v) .. ": expected one value, " .. expected(d))
      end
      local checked = {}
      for i, x in ipairs(values) do
        checked[i] = check_value(d, x)
        if checked[i] == nil then
          usage(shown(d[1], v) .. ": expected " .. expected(d)
                .. (type(v) == "table" and " for each value" or ""))
        end
      end
      if d[2] ~= "text" or type(v) ~= "table" then
        opts[d[1]] = type(v) == "table" and checked or checked[1]
      end
    end
  end
  for k, v in pairs(defaults or {}) do
    if opts[k] == nil then opts[k] = v end
  end
  opts.model = opts.model or "paper"
  opts.seed = opts.seed or siam.config.seed
  common.results = opts.results or "results"
  common.check_writable(common.results, "results")
  return opts
end

-- Refuses, before any work, a results directory that cannot be created or
-- written (a file in the way, no permission, a full disk): a run would
-- otherwise fail at its first write, after loading and training.
function common.check_writable(dir, key)
  local made, err = siam.io.mkdir_p(dir)
  local probe = dir .. "/.siamlua-write-check"
  if made then made, err = siam.io.atomic_write(probe, "siamlua checks it can write here\n") end
  if not made then
    usage(shown(key, dir) .. ": cannot write there: " .. tostring(err))
  end
  os.remove(probe)
end

local configs = {
  paper = { size = 105 },
  small = { size = 48, channels = { 16, 32, 32, 64 }, kernels = { 7, 5, 3, 3 }, fc = 128,
            init = "pytorch" },
}

-- The image side the configuration takes.
function common.size(opts)
  return configs[opts.model].size
end

-- A model of the chosen configuration; extra options (dropout, seed) win.
function common.model(opts, extra)
  local o = { seed = opts.seed }
  for k, v in pairs(configs[opts.model]) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return siam.model(o)
end

-- LFW View 1 (train, test) when found, else the synthetic set; find prints
-- which on stderr. With subset=N the training set is cut to N pairs
-- (stratified, seeded). load.all_of_people = true also puts every other
-- image of the pairs' people in the banks (for sample_pairs); load.crop is
-- the script's own default crop for LFW (crop= wins; the synthetic set is
-- cropped only when crop= asks for it). opts.crop is set to the crop used.
function common.data(opts, load)
  local train, test, info
  local all = load and load.all_of_people or false
  if opts.data == "tiny" then
    train, test, info = siam.data.synthetic { identities = 24, images = 4, train_pairs = 40,
                                              test_pairs = 20, size = common.size(opts),
                                              crop = opts.crop, cache = opts.cache,
                                              quiet = false, all_of_people = all }
  else
    train, test, info = siam.data.find { path = opts.lfw, size = common.size(opts),
                                         crop = opts.crop or (load and load.crop),
                                         cache = opts.cache, quiet = false,
                                         all_of_people = all }
  end
  opts.crop = train:info().crop
  if opts.subset and opts.subset < #train then
    train = train:take(opts.subset, opts.seed)
  end
  print(string.format("data: %s, %d training pairs, %d test pairs, %dx%d images%s",
                      info.synthetic and "synthetic set" or "LFW", #train, #test,
                      common.size(opts), common.size(opts),
                      opts.crop > 0 and string.format(" (centre %dx%d of each source)",
                                                      opts.crop, opts.crop) or ""))
  return train, test, info
end

-- The script's resolved configuration: every key it knows (common.args)
-- with its value, false where none was given and no default applies, less
-- the place keys; the model's architecture from the configuration table;
-- `extra` over it. What a run's identity hashes (with the data).
function common.config(opts, extra)
  local c = { script = common.script }
  for _, k in ipairs(common.known or common.keys) do
    if not common.place_keys[k] then
      local v = opts[k]
      if v == nil then v = false end
      c[k] = v
    end
  end
  local arch = {}
  for k, v in pairs(configs[opts.model] or {}) do arch[k] = v end
  c.architecture = arch
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- A run folder for this script (siam.run): results/<script>/<time>-<8
-- digits of the identity>/, identified by common.config(opts, extra) and
-- the content of `sets` (name -> siam.PairSet). An earlier run of the same
-- identity that was interrupted (it left its training state) is resumed
-- instead of started again.
function common.run(opts, sets, extra)
  local Run = require "siam.run"
  return Run.new { experiment = common.script, root = common.results,
                   config = common.config(opts, extra), data = sets, reuse = "unfinished" }
end

-- "<results dir>/<name>" with the directory created; a name that is already
-- an absolute path is used as it is (its directory must exist).
function common.out(name)
  if name:sub(1, 1) == "/" then return name end
  local dir = common.results or "results"
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  return dir .. "/" .. name
end

return common
