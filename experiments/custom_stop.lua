-- A stopping rule written in Lua: stop when the validation loss has not
-- improved by at least 1% (relative) in 3 epochs, or when training accuracy
-- runs ahead of validation accuracy by more than `gap` (overfitting).
--   siamlua experiments/custom_stop.lua                 (model=small, up to 30 epochs)
--   siamlua experiments/custom_stop.lua gap=0.1 window=2 epochs=10
local common = require "common"

local opts = siam.args(arg, common.keys {
  model = common.model_key("small"),
  epochs = { 30, min = 1, help = "most epochs to train" },
  gap = { 0.15, min = 0, help = "stop when training accuracy is this far above validation's" },
  window = { 3, min = 1, help = "stop when validation loss has not improved by 1% in this many "
                                .. "epochs" },
  lr = { 0.001, min = 0, help = "Adam's learning rate" },
}, "A stopping rule written in Lua: no progress in validation loss, or overfitting.")
local train, test = common.data(opts)
local tr, val = train:split { val = 0.2, seed = opts.seed }

-- The rule sees the state table fit passes to hooks: state.history holds
-- every metric so far, state.metrics this epoch's values.
local why
local function stop_rule(state)
  local vl, m = state.history.val_loss, state.metrics
  local gap = m.train_acc - m.val_acc
  if gap > opts.gap then
    why = string.format("train accuracy %.3f is %.3f above validation accuracy %.3f",
                        m.train_acc, gap, m.val_acc)
    return true
  end
  local n = #vl
  if n > opts.window then
    local before = math.huge
    for i = 1, n - opts.window do before = math.min(before, vl[i]) end
    local recent = math.huge
    for i = n - opts.window + 1, n do recent = math.min(recent, vl[i]) end
    if recent > before * 0.99 then
      why = string.format("validation loss %.4f has not improved by 1%% on %.4f in %d epochs",
                          recent, before, opts.window)
      return true
    end
  end
  return false
end

local run = common.run(opts, { train = tr, val = val, test = test }, { batch = 32 })
local model = common.model(opts)
local h = run:fit(model, siam.optim.adam { lr = opts.lr }, tr, {
  epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed, stop = stop_rule,
})
print(string.format("\nstopped after %d of %d epochs (%s)%s", h.epochs, opts.epochs, h.stopped,
                    why and (": " .. why) or ""))
local t = siam.evaluate(model, test)
run:finish { test = t, set = test, message = why and ("stopped: " .. why) or nil }
print("run folder: " .. run.dir)
print(string.format("test accuracy %.4f, loss %.4f, AUC %.4f", t.accuracy, t.loss, t.auc or 0 / 0))
