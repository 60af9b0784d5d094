-- A small ensemble: the mean of several saved models' probabilities on the
-- test pairs. The decision threshold is the mean of the members' thresholds,
-- each chosen on its own validation split when it was trained (saved in
-- each checkpoint by experiments/best.lua), so the test set chooses nothing.
-- Writes a run folder results/ensemble/<time>-<identity>/ (test.json, ROC,
-- confusion, the sheet of pairs) whose identity includes each member's
-- file content.
--   siamlua experiments/ensemble.lua models=results/s1.ckpt,results/s2.ckpt,results/s3.ckpt
-- Keys (--help lists them): models, and common.lua's data keys (lfw, data,
-- cache).
local common = require "common"

local opts = siam.args(arg, common.keys {
  models = { type = "text", list = true, required = true,
             help = "two or more checkpoints, comma-separated",
             check = function(v)
               if #v < 2 then
                 return "models=: expected two or more checkpoints, e.g. models=a.ckpt,b.ckpt"
               end
             end },
}, "An ensemble: the mean of several saved models' probabilities on the test pairs.")
local paths = opts.models

local members = {}
for i, p in ipairs(paths) do
  local ok, m = pcall(siam.load, tostring(p))
  if not ok then
    io.stderr:write("siamlua: models=: ", tostring(m), "\n")
    os.exit(1)
  end
  members[i] = m
end
local size = members[1].config.size
for i, m in ipairs(members) do
  if m.config.size ~= size then
    io.stderr:write(string.format("siamlua: %s takes %dx%d images, %s takes %dx%d\n",
                                  paths[i], m.config.size, m.config.size, paths[1], size, size))
    os.exit(1)
  end
end
if size ~= common.size(opts) then opts.model = "small" end
-- The test images are prepared as the members were trained (crop).
local crop = members[1].crop or 0
for i, m in ipairs(members) do
  if (m.crop or 0) ~= crop then
    io.stderr:write(string.format("siamlua: %s was trained on crop %d, %s on crop %d\n",
                                  paths[i], m.crop or 0, paths[1], crop))
    os.exit(1)
  end
end
opts.crop = crop
local _, test = common.data(opts)
local hashes = {}
for i, p in ipairs(paths) do hashes[i] = assert(siam.io.file_hash(tostring(p))) end
local run = common.run(opts, { test = test }, { members = hashes })

local r = siam.results.new { "model", "threshold", "accuracy", "auc" }
local sum, threshold = {}, 0
for i, m in ipairs(members) do
  local e = siam.evaluate(m, test, { examples = 0 })
  r:add { model = tostring(paths[i]), threshold = e.threshold, accuracy = e.accuracy, auc = e.auc }
  for j, p in ipairs(e.probs) do sum[j] = (sum[j] or 0) + p end
  threshold = threshold + e.threshold
end
threshold = threshold / #members
local mean = {}
for j, s in ipairs(sum) do mean[j] = s / #members end
local ev = siam.evaluate_probs(test, mean, { threshold = threshold })
r:add { model = string.format("ensemble of %d", #members), threshold = threshold,
        accuracy = ev.accuracy, auc = ev.auc }
run:finish { test = ev, set = test }
r:print()
print(string.format("ensemble test accuracy: %.4f", ev.accuracy))
print("run folder: " .. run.dir)
