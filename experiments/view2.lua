-- LFW View 2, the standard protocol: for each of the ten folds of pairs.txt,
-- train on the nine others (best.lua's configuration, best_recipe.lua): by default on eight,
-- validating on the fold after the test fold (cyclically; validation=split carves it out
-- of the nine by split=, as before issue 19), and
-- test on it at the validation threshold; report the mean accuracy and its
-- standard error (LFW README: sigma / sqrt(10), sigma with n - 1).
--   siamlua experiments/view2.lua lfw=../shared/lfw        (pairs.txt there)
--   siamlua experiments/view2.lua pairs=FILE images=DIR model=small epochs=2 folds=1,2
-- Keys (--help lists them): folds, pairs, images, out, best_recipe.lua's
-- (the defaults are best.lua's) and common.lua's (crop: best.lua's 140 for
-- LFW unless given). Details and costs: docs/view2.md. Each fold writes a run folder
-- results/view2/<time>-<identity>/ (the fold is part of its configuration).
local common = require "common"
local recipe = require "best_recipe"
local view2 = require "siam.view2"
local json = require "siam.json"

local function fail(msg)
  io.stderr:write("view2: ", msg, "\n")
  os.exit(1)
end

local opts = siam.args(arg, common.keys(recipe.with(common, {
  folds = { type = "text", help = "the folds to test, e.g. folds=1,2 (default: all ten)" },
  pairs = { type = "text", help = "a pairs.txt-format file (default: pairs.txt in the LFW "
                                  .. "directory)" },
  images = { type = "text", help = "the image directory (default: the LFW directory's)" },
  out = { "view2", help = "results/<out>.csv and results/<out>.json" },
  validation = { { "fold", "split" },
                 help = "fold: validate on the fold after the test fold (cyclically) and train "
                        .. "on the other eight, nothing dropped; split: carve validation out of "
                        .. "the nine training folds by split= (split=people: the behaviour "
                        .. "before issue 19)" },
})), "LFW View 2: ten-fold cross-validation with best.lua's training, mean accuracy and its "
    .. "standard error.")
if opts.data ~= nil then
  fail("data=" .. tostring(opts.data) .. ": the synthetic set has no View 2 file; give lfw=DIR "
       .. "or pairs=FILE")
end
local ok, folds = pcall(view2.folds, opts.folds)
if not ok then fail((tostring(folds):gsub("^[^:\n]+:%d+: ", ""))) end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The LFW directory by siam.data.find's rules (lfw=, else $LFW_DIR, else
-- ./data/lfw) and how it was chosen.
local function lfw_dir()
  if opts.lfw then return opts.lfw, "lfw=" end
  local env = os.getenv("LFW_DIR")
  if env and env ~= "" then return env, "$LFW_DIR" end
  return "data/lfw", "the default: no lfw= given, $LFW_DIR unset"
end

local root, how = lfw_dir()
local pairs_file = opts.pairs
if pairs_file == nil then
  pairs_file = root .. "/pairs.txt"
  if not exists(pairs_file) then
    fail(string.format(
      "no pairs.txt in %s (%s); View 2 needs LFW's pairs.txt (10 folds of 300 matched "
      .. "and 300 mismatched pairs).\n"
      .. "  Put LFW's pairs.txt (http://vis-www.cs.umass.edu/lfw/pairs.txt) into %s, next to "
      .. "pairsDevTrain.txt; or run scripts/get-lfw.sh DIR, which downloads LFW with pairs.txt "
      .. "into DIR (default data/lfw); or give pairs=FILE images=DIR.", root, how, root))
  end
elseif not exists(pairs_file) then
  fail("pairs=" .. pairs_file .. ": no such file")
end

local size = common.size(opts)
local load = { pairs = pairs_file, images = opts.images, size = size,
               crop = opts.crop or recipe.crop, cache = opts.cache,
               all_of_people = recipe.load(opts).all_of_people }
if load.images == nil then load.root = root end
local loaded, set = pcall(siam.data.load, load)
if not loaded then
  local msg = tostring(set):gsub("^[^:\n]+:%d+: ", "")
  if msg:find(": crop %d+ is larger than") and opts.crop == nil then
    msg = msg .. string.format("\n  (view2.lua cuts LFW's 250x250 images to their centred "
                               .. "%dx%d by default; give crop=0 for whole images)", load.crop,
                               load.crop)
  end
  fail(msg .. (load.root and ("\n  (images looked for in the LFW directory " .. root
                              .. "; give images=DIR for another place)") or ""))
end
local checked, cerr = pcall(view2.check, set)
if not checked then fail((tostring(cerr):gsub("^[^:\n]+:%d+: ", ""))) end
print(string.format("data: View 2 pairs %s: %d pairs in %d folds, %dx%d images (crop %d); "
                    .. "folds %s", pairs_file, #set, set:folds(), size, size, load.crop,
                    table.concat(folds, ",")))

local columns = { "fold", "train", "val", "val_fold", "test", "epochs", "best_epoch", "threshold",
                  "val_accuracy", "accuracy", "auc", "eer", "seconds" }
local table_rows = siam.results.new(columns)
-- Written after every fold, so that an interrupted run keeps the folds done.
local csv = common.out(opts, opts.out .. ".csv")
local runs = {}
local result = view2.run(set, {
  folds = folds, validation = opts.validation,
  split = function(rest) return recipe.split(rest, opts) end,
  train = function(k, tr, val, test_k, info)
    local how
    if info.val_fold then
      how = string.format(" (fold %d)", info.val_fold)
    elseif recipe.disjoint(opts) then
      how = string.format(" (split=%s; %d pairs dropped)", opts.split, info.dropped)
    else
      how = " (stratified)"
    end
    print(string.format("\nfold %d: training on %d pairs, validation %d%s", k, #tr, #val, how))
    -- The fold is part of the run's configuration; which folds this
    -- invocation runs is not.
    local run = common.run(opts, { train = tr, val = val, test = test_k },
                           { fold = k, folds = false })
    runs[k] = run
    local model, h = recipe.train(common, opts, tr, val, k == folds[1], nil,
                                  function(...) return run:fit(...) end)
    if h.stopped == "interrupted" then
      fail("interrupted in fold " .. k .. (#table_rows > 0 and ("; " .. csv .. " holds the folds "
                                                               .. "finished before it") or ""))
    end
    return model, { epochs = h.epochs, best_epoch = h.best_epoch or "", seconds = h.seconds,
                    stopped = h.stopped }
  end,
  on_fold = function(row, t, test)
    runs[row.fold]:finish { test = t, set = test }
    print(string.format("fold %d: run folder %s", row.fold, runs[row.fold].dir))
    if row.shared_people > 0 then
      print(string.format("warning: fold %d shares %d people with the training folds (LFW's "
                          .. "folds share none)", row.fold, row.shared_people))
    end
    print(string.format("fold %d: test accuracy %.4f at threshold %.4f (validation %.4f), "
                        .. "AUC %.4f, %d epochs (%s), %.0f s", row.fold, row.accuracy,
                        row.threshold, row.val_accuracy, row.auc or 0 / 0, row.epochs,
                        row.stopped, row.seconds))
    local r = {}
    for _, c in ipairs(columns) do r[c] = row[c] end
    table_rows:add(r)
    table_rows:write_csv(csv)
  end,
})

print()
table_rows:print()
local js = common.out(opts, opts.out .. ".json")
local accs = {}
for i, row in ipairs(result.rows) do accs[i] = row.accuracy end
local f = assert(io.open(js, "w"))
local config = {}
for k in pairs(recipe.keys) do config[k] = opts[k] end
f:write(json.encode {
  pairs = pairs_file, folds = result.folds, accuracies = accs, mean = result.mean,
  se = result.se, sd = result.sd, model = opts.model, seed = opts.seed, config = config,
  rows = result.rows,
}, "\n")
f:close()
print("results written to " .. csv .. " and " .. js)
print("view2: " .. view2.line(result))
