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

common.keys = { "model", "subset", "seed", "lfw", "data", "crop", "cache", "results" }

-- Keys that say where things are or go, not what is computed: recorded
-- (the data's places in config.lua's data section), never part of a run's
-- identity.
common.place_keys = { lfw = true, cache = true, results = true, out = true, checkpoint = true,
                      resume = true, models = true, pairs = true, images = true }

-- The script's name (experiments/grid.lua -> "grid"): its run folders'
-- experiment.
common.script = (arg and arg[0] or "script"):match("([^/]+)%.lua$") or "script"

-- The script's arguments: `known` lists its own keys (common.keys are
-- added); `defaults` fills the keys not given.
function common.args(known, defaults)
  local all = {}
  for _, k in ipairs(known or {}) do all[#all + 1] = k end
  for _, k in ipairs(common.keys) do all[#all + 1] = k end
  common.known = all
  local ok, opts = pcall(siam.args, arg or {}, all)
  if not ok then
    -- a usage error: the message alone, no traceback
    io.stderr:write("siamlua: ", (tostring(opts):gsub("^[^:\n]+:%d+: ", "")), "\n")
    os.exit(1)
  end
  for k, v in pairs(defaults or {}) do
    if opts[k] == nil then opts[k] = v end
  end
  opts.model = opts.model or "paper"
  if opts.model ~= "paper" and opts.model ~= "small" then
    io.stderr:write("siamlua: model=", tostring(opts.model),
                    ": expected model=paper or model=small\n")
    os.exit(1)
  end
  if opts.data ~= nil and opts.data ~= "tiny" then
    io.stderr:write("siamlua: data=", tostring(opts.data), ": expected data=tiny or no data key\n")
    os.exit(1)
  end
  opts.seed = opts.seed or siam.config.seed
  if opts.crop ~= nil and (math.type(opts.crop) ~= "integer" or opts.crop < 0) then
    io.stderr:write("siamlua: crop=", tostring(opts.crop),
                    ": expected 0 (whole image) or a side in pixels\n")
    os.exit(1)
  end
  common.results = opts.results or "results"
  return opts
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
