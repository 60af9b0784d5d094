-- The seed's hyper-parameter search: batch {16, 32} x lr {0.001, 0.005} x
-- L2 {0, 1e-4, 5e-4} x epochs {15, 25, 50} x dropout {0, 0.2} = 72 runs of
-- Adam with StepLR(5, 0.95) and early stopping (patience 5 on val_acc), on a
-- 20% validation split of the training pairs. Runs are ranked by validation
-- accuracy; test accuracy is reported beside it (selection never sees it).
-- Each configuration gets a run folder results/<out>/<keys that vary>-<8
-- digits of its identity>/ (siam.gridrun, docs/logging.md); the identity
-- hashes every key below (defaults filled in) and the data's content, so a
-- changed model, subset, data, crop, patience or epochs is another run.
-- Finished ones are skipped when the grid runs again, failed ones run
-- again (and the grid exits 1 while one has failed), so Ctrl-C or a crash
-- loses only the epoch in progress. --shard i/n (or a Slurm job array)
-- runs a slice; scripts/merge_grid.lua merges them.
--
-- Choose a subset on the command line (a value or a comma list per key):
--   siamlua experiments/grid.lua batch=32 lr=0.005 epochs=2
--   siamlua experiments/grid.lua model=small subset=600 epochs=3 l2=0 dropout=0,0.2
--   siamlua experiments/grid.lua --shard 2/4 epochs=15
-- Output: results/grid/grid.csv, grid.md, plots/ and one folder per run
-- (out=NAME for another name).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local common = dofile(dir .. "/common.lua")
local gridrun = require "siam.gridrun"
local gargs = gridrun.parse_args(arg) -- takes --shard out
arg = setmetatable(gargs.rest, { __index = arg })

local keys = { "batch", "lr", "l2", "epochs", "dropout" }
local opts = common.args({ { "batch", "integer", min = 1, list = true },
                           { "lr", "number", min = 0, list = true },
                           { "l2", "number", min = 0, list = true },
                           { "epochs", "integer", min = 1, list = true },
                           { "dropout", "number", min = 0, max = 1, max_open = true, list = true },
                           { "out", "text" }, { "patience", "integer", min = 0 } },
                         { out = "grid", patience = 5 })

local spec = {
  { "batch", { 16, 32 } },
  { "lr", { 0.001, 0.005 } },
  { "l2", { 0, 1e-4, 5e-4 } },
  { "epochs", { 15, 25, 50 } },
  { "dropout", { 0, 0.2 } },
}
for _, entry in ipairs(spec) do
  local v = opts[entry[1]]
  if v ~= nil then entry[2] = type(v) == "table" and v or { v } end
end
local configs = siam.grid(spec)
-- The grid's folder, like results=, is checked before any data is loaded.
common.check_writable(common.results .. "/" .. opts.out, "out")
print(string.format("grid: %d configuration%s", #configs, #configs == 1 and "" or "s"))

local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }

for _, c in ipairs(configs) do c.seed = opts.seed end
-- The grid's own keys come from each configuration, not the options.
local shared = common.config(opts)
for _, k in ipairs(keys) do shared[k] = nil end
local result = gridrun.run{
  experiment = opts.out, root = common.results, configs = configs, params = keys,
  metric = "val_acc", config = shared, data = { train = tr, val = val, test = test },
  shard = gargs.shard,
  train = function(c, run)
    local model = common.model(opts, { dropout = c.dropout })
    local opt = siam.optim.adam { lr = c.lr, weight_decay = c.l2 }
    run:fit(model, opt, tr, {
      epochs = c.epochs, batch_size = c.batch, val = val, seed = opts.seed,
      schedule = siam.schedule.step { step_size = 5, gamma = 0.95 },
      stop = siam.stop.early { monitor = "val_acc", patience = opts.patience, restore_best = true },
    })
    local t = #run.rows > 0 and siam.evaluate(model, test) or nil
    model:close()
    opt:close()
    return { test = t, set = test }
  end,
}
if #result.failed > 0 then os.exit(1) end
