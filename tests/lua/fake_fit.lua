-- A stand-in for siam.fit in the results tests: it calls the hooks in the
-- order and with the state fields of the documented contract (on_start,
-- on_epoch_start, on_batch_end, on_epoch_end, on_end; state.stop ends
-- training), with losses that follow a fixed formula of the configuration,
-- so run folders and grid tables can be checked exactly and in milliseconds.
-- The model is a table with parameters() and save(path).
local fake = {}

function fake.model(seed)
  local m = { seed = seed or 0, saves = 0 }
  -- as siam.Model: a list of {name, norm, grad_norm}, values by name
  function m:parameters() return { { name = "conv1.weight", norm = 1.5, grad_norm = 0.25 } } end
  function m:parameter(name)
    assert(name == "conv1.weight")
    return { 0.5, -0.25, 1.0, 0.0, 0.125 }
  end
  function m:save(path)
    self.saves = self.saves + 1
    assert(siam.io.atomic_write(path, "fake checkpoint " .. self.saves .. "\n"))
  end
  return m
end

-- Epoch e of a configuration: loss falls as lr * e grows; validation
-- accuracy peaks at epoch `peak` (cfg.peak, default: the last).
function fake.metrics(cfg, e)
  local lr = cfg.lr or 0.01
  local peak = cfg.peak or cfg.epochs
  return {
    train_loss = 1 / (1 + lr * 100 * e),
    val_loss = 1 / (1 + lr * 80 * e) + (e > peak and 0.01 * (e - peak) or 0),
    train_acc = 0.5 + 0.04 * e,
    val_acc = 0.5 + 0.03 * math.min(e, peak) + lr - 0.001 * (cfg.batch or 0),
  }
end

-- fit(model, optimizer, cfg, opts), called like siam.fit(model, optimizer,
-- train, opts) with the configuration in place of the training set: hooks
-- are opts.on_*; cfg.epochs epochs of cfg.batches (3) batches. cfg.nan_at:
-- NaN losses from that epoch on; cfg.nan_stop_at: that epoch's first
-- batch finds a non-finite gradient, so it is not recorded and fit returns
-- stopped = "nan" with the message in h.nan (after on_end), as siam.fit
-- does; cfg.interrupt_at: returns at the end of that epoch with stopped =
-- "interrupted" and no on_end, as siam.fit does after Ctrl-C.
-- opts.after_epoch(e) (tests kill the process from there).
function fake.fit(model, _, cfg, opts)
  local state = { epochs = cfg.epochs, model = model, batches = cfg.batches or 3,
                  metrics = {}, history = {} }
  if opts.on_start then opts.on_start(state) end
  local stopped, nan = "completed", nil
  for e = 1, cfg.epochs do
    state.epoch = e
    state.lr = cfg.lr
    if opts.on_epoch_start then opts.on_epoch_start(state) end
    if cfg.nan_stop_at == e then
      stopped, nan = "nan", "non-finite gradient at epoch " .. e .. ", batch 1"
      state.epoch = e - 1
      break
    end
    local m = fake.metrics(cfg, e)
    if cfg.nan_at and e >= cfg.nan_at then m.train_loss, m.val_loss = 0 / 0, 0 / 0 end
    for b = 1, state.batches do
      state.batch, state.loss = b, m.train_loss
      if opts.on_batch_end then opts.on_batch_end(state) end
    end
    m.lr = cfg.lr
    state.metrics = m
    if opts.on_epoch_end then opts.on_epoch_end(state) end
    if opts.after_epoch then opts.after_epoch(e) end
    if cfg.interrupt_at == e then return { stopped = "interrupted", epochs = e } end
    if state.stop then stopped = "requested" break end
  end
  if opts.on_end then opts.on_end(state) end
  return { stopped = stopped, epochs = state.epoch, nan = nan }
end

-- An evaluation table shaped like siam.evaluate's.
function fake.evaluate(cfg)
  local acc = fake.metrics(cfg, cfg.peak or cfg.epochs).val_acc - 0.02
  return {
    loss = 0.4, accuracy = acc, auc = 0.75, threshold = 0.5, eer = 0.3,
    confusion = { tp = 40, fp = 10, tn = 38, fn = 12 },
    roc = { fpr = { 0, 0.2, 0.5, 1 }, tpr = { 0, 0.6, 0.8, 1 } },
  }
end

return fake
