-- The training configuration of experiments/best.lua, shared with
-- experiments/view2.lua so that both train one way (loaded with dofile,
-- not a script itself). Every option is a key, so that each change can be
-- measured alone:
--   epochs (50), patience (12), lr (0.0001), l2 (0.0005), init (pytorch|paper),
--   fc (512; 4096 is the paper's), head (rich|l1), augment (flip|paper|off),
--   extra (pairs drawn per epoch, 1760; 0 = none), base (0: the drawn pairs
--   replace the training set's own each epoch; 1: added to them),
--   ema (decay, 0 = off), schedule (none|cosine|step: the lr held, annealed
--   to 0 over `epochs` by a cosine, or the seed's StepLR(5, 0.95)),
--   threshold (val|0.5), split (people|stratified),
--   tta (flip|none: each pair's probability averaged with its mirror
--   image's at evaluation, the threshold chosen again on validation with it),
--   and common.lua's crop (140 here for LFW: its 250x250 images' centred
--   140x140, where the face is; crop=0 keeps the whole image, as the seed did).
local recipe = {}

recipe.keys = {
  { "epochs", "integer", min = 1 }, { "patience", "integer", min = 0 },
  { "extra", "integer", min = 0 }, { "base", "choice", choices = { "0", "1" } },
  { "ema", "number", min = 0, max = 1, max_open = true },
  { "schedule", "choice", choices = { "none", "cosine", "step" } },
  { "lr", "number", min = 0 }, { "l2", "number", min = 0 },
  { "init", "choice", choices = { "pytorch", "paper" } }, { "fc", "integer", min = 1 },
  { "head", "choice", choices = { "rich", "l1" } },
  { "augment", "choice", choices = { "flip", "paper", "off" } },
  { "threshold", "choice", choices = { "val", "0.5" } },
  { "split", "choice", choices = { "people", "stratified" } },
  { "tta", "choice", choices = { "flip", "none" } },
}
recipe.defaults = { epochs = 50, patience = 12, extra = 1760, base = 0, ema = 0,
                    schedule = "none", lr = 0.0001, l2 = 0.0005, init = "pytorch", fc = 512,
                    head = "rich", augment = "flip", threshold = "val", split = "people",
                    tta = "flip" }

-- The crop for LFW unless crop= is given (common.data): the centred 140x140
-- of LFW's 250x250 images, about 1.25 times the face box.
recipe.crop = 140

-- The validation share of the training pairs.
recipe.val = 0.2

-- The script's arguments (common.args): the recipe's keys, then its own
-- (`own`, declared as common.lua declares keys, with `defaults`), every
-- value checked before any work.
function recipe.args(common, own, defaults)
  local keys, defs = {}, {}
  for _, d in ipairs(recipe.keys) do keys[#keys + 1] = d end
  for _, d in ipairs(own or {}) do keys[#keys + 1] = d end
  for k, v in pairs(recipe.defaults) do defs[k] = v end
  for k, v in pairs(defaults or {}) do defs[k] = v end
  return common.args(keys, defs)
end

-- How the data must be loaded: with every image of the pairs' people when
-- pairs are drawn from them.
function recipe.load(opts)
  return { all_of_people = opts.extra > 0, crop = recipe.crop }
end

-- Whether the validation split is by identity (split=people): no
-- validation person is seen in training, as no test person is.
function recipe.disjoint(opts)
  return opts.split == "people"
end

function recipe.split(train, opts)
  return train:split { val = recipe.val, seed = opts.seed, disjoint = recipe.disjoint(opts) }
end

-- The learning-rate schedule of `schedule=`: nil (the lr held), a cosine
-- from lr down to 0 at the last epoch (reached only when early stopping
-- lets the run finish), or the seed's StepLR(5, 0.95).
function recipe.schedule(opts)
  if opts.schedule == "cosine" then
    return siam.schedule.cosine { t_max = opts.epochs }
  elseif opts.schedule == "step" then
    return siam.schedule.step { step_size = 5, gamma = 0.95 }
  end
  return nil
end

-- Trains a fresh model on tr (val: early stopping and, with threshold=val,
-- the decision threshold); returns the model and fit's history. `show`
-- prints the model first; `more` holds further fit options (checkpoint,
-- resume); `fit` (siam.fit's signature; default siam.fit) trains, e.g. a
-- run folder's run:fit.
function recipe.train(common, opts, tr, val, show, more, fit)
  local model = common.model(opts, { dropout = 0, head = opts.head, init = opts.init,
                                     fc = opts.model == "paper" and opts.fc or nil })
  local opt = siam.optim.adam { lr = opts.lr, weight_decay = opts.l2 }
  if show then print(model) end
  local augment = false
  if opts.augment ~= "off" then
    augment = siam.data.augment { p_flip = opts.augment == "flip" and 0.5 or 0 }
  end
  local fit_opts = {
    epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed,
    augment = augment,
    sample_pairs = opts.extra > 0 and { per_epoch = opts.extra, keep_base = opts.base == 1,
                                        exclude = recipe.disjoint(opts) and "people" or "images" }
                   or nil,
    average = opts.ema > 0 and { kind = "ema", decay = opts.ema } or nil,
    schedule = recipe.schedule(opts),
    threshold = opts.threshold == "val" and "val" or 0.5,
    -- with the threshold chosen on validation, epochs are compared at it too
    stop = siam.stop.early { monitor = opts.threshold == "val" and "val_acc_at_threshold"
                                       or "val_acc",
                             mode = "max", patience = opts.patience, restore_best = true },
  }
  for k, v in pairs(more or {}) do fit_opts[k] = v end
  local h = (fit or siam.fit)(model, opt, tr, fit_opts)
  -- Training validates without test-time augmentation; the threshold the
  -- model is used at is chosen again with it, on the same validation pairs.
  model.tta = opts.tta
  if opts.tta ~= "none" and h.epochs > 0 and opts.threshold == "val" then
    -- nil when the validation pairs hold one class only: fit's choice stays
    local t = siam.evaluate(model, val, { examples = 0 }).best_balanced_threshold
    if t then model.threshold = t end
  end
  return model, h
end

return recipe
