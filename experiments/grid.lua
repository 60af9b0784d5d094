-- The seed's hyper-parameter search: batch {16, 32} x lr {0.001, 0.005} x
-- L2 {0, 1e-4, 5e-4} x epochs {15, 25, 50} x dropout {0, 0.2} = 72 runs of
-- Adam with StepLR(5, 0.95) and early stopping (patience 5 on val_acc), on a
-- 20% validation split of the training pairs. Runs are ranked by validation
-- accuracy; test accuracy is reported beside it (selection never sees it).
-- The table is rewritten after every run, so an interrupted search keeps
-- what it finished (Ctrl-C stops the current run after its batch).
--
-- Choose a subset on the command line (a value or a comma list per key):
--   siamlua experiments/grid.lua batch=32 lr=0.005 epochs=2
--   siamlua experiments/grid.lua model=small subset=600 epochs=3 l2=0 dropout=0,0.2
-- Output: results/grid.csv and results/grid.md (out=NAME for another name).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local common = dofile(dir .. "/common.lua")

local keys = { "batch", "lr", "l2", "epochs", "dropout" }
local opts = common.args({ "batch", "lr", "l2", "epochs", "dropout", "out", "patience" },
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
print(string.format("grid: %d configuration%s", #configs, #configs == 1 and "" or "s"))

local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }

local columns = { "id" }
for _, k in ipairs(keys) do columns[#columns + 1] = k end
for _, k in ipairs { "val_acc", "test_acc", "val_loss", "test_loss", "train_loss", "auc",
                     "epochs_run", "stopped", "seconds" } do
  columns[#columns + 1] = k
end
local results = siam.results.new(columns)
local csv, md = common.out(opts.out .. ".csv"), common.out(opts.out .. ".md")

local function save()
  results:sort("val_acc", true)
  results:write_csv(csv)
  results:write_markdown(md)
end

for _, c in ipairs(configs) do
  print(string.format("[%d/%d] %s  batch=%d lr=%g l2=%g epochs=%d dropout=%g", c.index, #configs,
                      c.id, c.batch, c.lr, c.l2, c.epochs, c.dropout))
  local model = common.model(opts, { dropout = c.dropout })
  local opt = siam.optim.adam { lr = c.lr, weight_decay = c.l2 }
  local h = siam.fit(model, opt, tr, {
    epochs = c.epochs, batch_size = c.batch, val = val, seed = opts.seed,
    schedule = siam.schedule.step { step_size = 5, gamma = 0.95 },
    stop = siam.stop.early { monitor = "val_acc", patience = opts.patience, restore_best = true },
  })
  local row = { id = c.id, stopped = h.stopped, epochs_run = h.epochs, seconds = h.seconds }
  for _, k in ipairs(keys) do row[k] = c[k] end
  if h.epochs > 0 then
    local v, t = siam.evaluate(model, val), siam.evaluate(model, test)
    row.val_acc, row.val_loss, row.test_acc, row.test_loss = v.accuracy, v.loss, t.accuracy, t.loss
    row.train_loss, row.auc = h.train_loss[h.best_epoch or h.epochs], t.auc
  end
  results:add(row)
  save()
  model:close()
  opt:close()
  if h.stopped == "interrupted" then
    print("interrupted: the table holds the runs so far")
    break
  end
end

print()
results:print()
print("\nwritten: " .. csv .. ", " .. md)
