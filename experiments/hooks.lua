-- A logging hook written in Lua: after every epoch, the L2 norm of each
-- parameter tensor and of its gradient (from the epoch's last batch) go to
-- a CSV file, one row per (epoch, parameter); per-batch losses go to a second
-- file.
--   siamlua experiments/hooks.lua                 (model=small, 5 epochs)
--   siamlua experiments/hooks.lua epochs=3 out=norms
-- Output: results/norms.csv, results/norms-batches.csv and the run folder
-- results/hooks/<time>-<identity>/.
local common = require "common"

local opts = siam.args(arg, common.keys {
  model = common.model_key("small"),
  epochs = { 5, min = 1, help = "epochs to train" },
  out = { "norms", help = "results/<out>.csv and results/<out>-batches.csv" },
  lr = { 0.001, min = 0, help = "Adam's learning rate" },
}, "A logging hook written in Lua: parameter and gradient norms per epoch, losses per batch, "
   .. "to CSV.")
local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }
local run = common.run(opts, { train = tr, val = val, test = test }, { batch = 32 })

local norms_path = common.out(opts, opts.out .. ".csv")
local batch_path = common.out(opts, opts.out .. "-batches.csv")
local norms = assert(io.open(norms_path, "w"))
local batches = assert(io.open(batch_path, "w"))

local model = common.model(opts)
local h = run:fit(model, siam.optim.adam { lr = opts.lr }, tr, {
  epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed,
  on_start = function()
    norms:write("epoch,parameter,numel,norm,grad_norm\n")
    batches:write("epoch,batch,loss,lr\n")
  end,
  on_batch_end = function(s)
    batches:write(string.format("%d,%d,%.6f,%.6g\n", s.epoch, s.batch, s.loss, s.lr))
  end,
  on_epoch_end = function(s)
    local total, gtotal = 0, 0
    for _, p in ipairs(s.model:parameters()) do
      norms:write(string.format("%d,%s,%d,%.6g,%.6g\n", s.epoch, p.name, p.numel, p.norm,
                                p.grad_norm))
      total, gtotal = total + p.norm ^ 2, gtotal + p.grad_norm ^ 2
    end
    norms:flush()
    batches:flush()
    -- a custom metric: recorded in the history like the built-in ones
    s.metrics.weight_norm = math.sqrt(total)
    s.metrics.grad_norm = math.sqrt(gtotal)
  end,
  on_end = function()
    norms:close()
    batches:close()
  end,
})
if io.type(norms) == "file" then norms:close() end
if io.type(batches) == "file" then batches:close() end
print()
for e = 1, h.epochs do
  print(string.format("epoch %d: weight norm %.4f, gradient norm %.4g, val_acc %.4f", e,
                      h.weight_norm[e], h.grad_norm[e], h.val_acc[e]))
end
run:finish { test = siam.evaluate(model, test), set = test }
print("written: " .. norms_path .. ", " .. batch_path .. "; run folder: " .. run.dir)
