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
-- Choose a subset on the command line (a value or a comma list per key;
-- --help lists every key):
--   siamlua experiments/grid.lua batch=32 lr=0.005 epochs=2
--   siamlua experiments/grid.lua model=small subset=600 epochs=3 l2=0 dropout=0,0.2
--   siamlua experiments/grid.lua --shard 2/4 epochs=15
-- Output: results/grid/grid.csv, grid.md, plots/ and one folder per run
-- (out=NAME for another name).
local common = require "common"
local gridrun = require "siam.gridrun"
local parsed, gargs = pcall(gridrun.parse_args, arg) -- takes --shard out
if not parsed then
  io.stderr:write("siamlua: ", tostring(gargs), "\n")
  os.exit(1)
end
gargs.rest[0] = arg[0]

-- The grid's keys, in the order its configurations vary (the last fastest).
local keys = { "batch", "lr", "l2", "epochs", "dropout" }
local opts = siam.args(gargs.rest, common.keys {
  batch = { default = { 16, 32 }, list = true, min = 1, help = "batch sizes" },
  lr = { default = { 0.001, 0.005 }, list = true, type = "number", min = 0,
         help = "Adam learning rates" },
  l2 = { default = { 0, 1e-4, 5e-4 }, list = true, min = 0, help = "L2 weight decays" },
  epochs = { default = { 15, 25, 50 }, list = true, min = 1,
             help = "most epochs (early stopping may end a run sooner)" },
  dropout = { default = { 0, 0.2 }, list = true, min = 0, below = 1, help = "dropout rates" },
  patience = { 5, min = 0, help = "early stopping's patience on val_acc" },
  -- The grid's folder, like results=, is checked before any data is loaded.
  out = { "grid", help = "the grid's folder in results=",
          check = function(out, o)
            return common.unwritable(o.results, "results")
                   or common.unwritable(o.results .. "/" .. out, "out", out)
          end },
}, { about = "The seed's hyper-parameter search: every combination of the list keys, ranked by "
             .. "validation accuracy.",
     usage = "[--shard i/n] [key=value ...]" })

local spec = {}
for i, k in ipairs(keys) do spec[i] = { k, opts[k] } end
local configs = siam.grid(spec)
print(string.format("grid: %d configuration%s", #configs, #configs == 1 and "" or "s"))

local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }

for _, c in ipairs(configs) do c.seed = opts.seed end
-- The grid's own keys come from each configuration, not the options.
local shared = common.config(opts)
for _, k in ipairs(keys) do shared[k] = nil end
local result = gridrun.run{
  experiment = opts.out, root = opts.results, configs = configs, params = keys,
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
