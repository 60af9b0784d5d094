-- Shared by the experiment scripts (require "common": siamlua puts the
-- script's folder on package.path): the keys every script takes, the data
-- (LFW when found, else the synthetic set, saying which) and the two model
-- configurations.
--
-- Every script takes key=value arguments, for example
--   siamlua experiments/seed_best.lua epochs=2 model=small subset=400
-- and lists them with --help (common.shared below, and each script's own).
--
-- Every script that trains writes a run folder results/<script>/<run-id>/
-- (common.run, siam.run: docs/logging.md) named by the time and 8 digits of
-- the run's identity, a hash of common.config (every key, defaults filled
-- in) and of the data's content.
local common = {}

-- The model= key with its default (a script meant for quick CPU runs
-- takes "small").
function common.model_key(default)
  return { choices = { "paper", "small" }, default = default,
           help = "paper: Koch et al.'s network at 105x105; small: a reduced one at 48x48 "
                  .. "for CPU runs" }
end

-- The crop= key; `default` says what a script does without it.
function common.crop_key(default)
  return { type = "integer", min = 0, max = 8192, expect = "0 (whole image) or a side in pixels",
           help = "cut each source image to its centred NxN square before resizing (0: the "
                  .. "whole image; default: " .. default .. ")" }
end

-- The keys every script takes, declared as siam.args declares them
-- (bindings/lua/siam/argspec.lua: a default gives the type, a list the
-- allowed values, a table without a default an optional key). Each value
-- given is checked before any data is loaded or anything trained.
common.shared = {
  model = common.model_key("paper"),
  subset = { type = "integer", min = 1, help = "train on N pairs of the training set" },
  seed = { siam.config.seed, min = 0, help = "the seed of the model, the shuffle and the splits "
                                              .. "(default: --seed's)" },
  lfw = { type = "text", help = "the LFW directory (default $LFW_DIR, else data/lfw)" },
  data = { choices = { "tiny" }, expect = "data=tiny or no data key",
           help = "tiny: a 24-person synthetic set, for smoke tests" },
  crop = common.crop_key("the whole image"),
  cache = { type = "text", help = "where the synthetic set and image caches go" },
  results = { "results", help = "where run folders and outputs go",
              check = function(dir) return common.unwritable(dir, "results") end },
}

-- Keys that say where things are or go, not what is computed: recorded
-- (the data's places in config.lua's data section), never part of a run's
-- identity.
common.place_keys = { lfw = true, cache = true, results = true, out = true, checkpoint = true,
                      resume = true, models = true, pairs = true, images = true }

-- The script's name (experiments/grid.lua -> "grid"): its run folders'
-- experiment.
common.script = (arg and arg[0] or "script"):match("([^/]+)%.lua$") or "script"

-- The script's spec for siam.args: its own keys (`own`, which win) and the
-- shared ones. The names are kept: common.config records every one.
function common.keys(own)
  local spec = {}
  for k, v in pairs(common.shared) do spec[k] = v end
  for k, v in pairs(own or {}) do spec[k] = v end
  local names = {}
  for k in pairs(spec) do names[#names + 1] = k end
  table.sort(names)
  common.known = names
  return spec
end

-- nil when `dir` can be created and written, else the usage message
-- (naming key=value, the value as given: `value`, else dir): a run would
-- otherwise fail at its first write, after loading and training (a file
-- in the way, no permission, a full disk).
function common.unwritable(dir, key, value)
  local made, err = siam.io.mkdir_p(dir)
  local probe = dir .. "/.siamlua-write-check"
  if made then made, err = siam.io.atomic_write(probe, "siamlua checks it can write here\n") end
  if not made then
    return key .. "=" .. siam.io.escape(value or dir) .. ": cannot write there: " .. tostring(err)
  end
  os.remove(probe)
  return nil
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

-- The script's resolved configuration: every key it knows (common.keys)
-- with its value, false where none was given and no default applies, less
-- the place keys; the model's architecture from the configuration table;
-- `extra` over it. What a run's identity hashes (with the data).
function common.config(opts, extra)
  local c = { script = common.script }
  for _, k in ipairs(common.known) do
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
  return Run.new { experiment = common.script, root = opts.results,
                   config = common.config(opts, extra), data = sets, reuse = "unfinished" }
end

-- "<results dir>/<name>" (results=, which siam.args checked is a folder
-- it can write); a name that is already an absolute path is used as it is
-- (its directory must exist).
function common.out(opts, name)
  if name:sub(1, 1) == "/" then return name end
  return opts.results .. "/" .. name
end

return common
