-- The training configuration of experiments/best.lua, shared with
-- experiments/view2.lua so that both train one way (require "best_recipe",
-- not a script itself). Every option is a key, declared once below with
-- its default and what it does (the scripts' --help shows them), so that
-- each change can be measured alone. common.lua's crop is 140 here for
-- LFW (recipe.crop).
local recipe = {}

-- The recipe's keys, as siam.args declares them: the default first, or
-- the allowed values with the default first.
recipe.keys = {
  epochs = { 50, min = 1, help = "most epochs to train (early stopping may end sooner)" },
  patience = { 12, min = 0, help = "epochs without a better validation accuracy before stopping" },
  extra = { 1760, min = 0, help = "training pairs drawn afresh every epoch from the training "
                                  .. "people's images (0: none)" },
  base = { { 0, 1 }, help = "0: the drawn pairs replace the training set's own each epoch; "
                            .. "1: added to them" },
  ema = { 0, type = "number", min = 0, below = 1,
          help = "decay of an exponential moving average of the weights (0: off)" },
  schedule = { { "none", "cosine", "step" },
               help = "the lr held, annealed to 0 over `epochs` by a cosine, or the seed's "
                      .. "StepLR(5, 0.95)" },
  lr = { 0.0001, min = 0, help = "Adam's learning rate" },
  l2 = { 0.0005, min = 0, help = "L2 weight decay" },
  init = { { "pytorch", "paper" }, help = "weight initialisation" },
  fc = { 512, min = 1, help = "embedding units of the paper network (4096 is the paper's)" },
  embed = { { "sigmoid", "none", "relu" },
            help = "the embedding's activation (the paper's sigmoid keeps every embedding in "
                   .. "the positive orthant, where cosines crowd near 1)" },
  head = { { "rich", "l1" }, help = "distance head: rich (|a-b|, (a-b)^2, cosine) or the "
                                    .. "paper's L1" },
  augment = { { "flip", "paper", "off" },
              help = "the paper's affine augmentation plus horizontal flips, without flips, or none" },
  threshold = { { "val", 0.5 }, help = "the decision threshold: chosen on validation, or 0.5" },
  split = { { "balanced", "people", "stratified" },
            help = "validation: balanced pairs drawn from held-out people's own images "
                   .. "(recipe.val_people of the people, recipe.val_pairs pairs); people: 20% of "
                   .. "the pairs by identity, mostly matched (rows 1-22 of docs/results.md ran "
                   .. "with it: give split=people to reproduce them); or stratified" },
  tta = { { "flip", "none" }, help = "each pair's probability averaged with its mirror image's "
                                     .. "at evaluation" },
  objective = { { "pair", "triplet", "pair+triplet" },
                help = "what a step trains on: the head's pair loss, the batch-hard triplet loss "
                       .. "on P x K identity batches alone (verified by the embeddings' cosine), "
                       .. "or both" },
  p = { 8, min = 2, help = "people per identity batch (triplet objectives)" },
  k = { 4, min = 2, help = "images per person in an identity batch (triplet objectives)" },
  margin = { 0.2, type = "number", min = 0, max = 2,
             help = "the triplet loss's margin on the cosine distance" },
  soft = { { 0, 1 }, help = "1: the soft-margin triplet loss (softplus) instead of the hinge" },
  tweight = { 1, type = "number", min = 0, help = "the triplet loss's weight beside the pair loss "
                                               .. "(pair+triplet)" },
}

-- The script's keys: the recipe's, its crop (common.crop_key), then its
-- own (`own`, which win).
function recipe.with(common, own)
  local spec = { crop = common.crop_key(recipe.crop .. " for LFW, the whole synthetic image") }
  for k, v in pairs(recipe.keys) do spec[k] = v end
  for k, v in pairs(own or {}) do spec[k] = v end
  return spec
end

-- The crop for LFW unless crop= is given (common.data): the centred 140x140
-- of LFW's 250x250 images, about 1.25 times the face box.
recipe.crop = 140

-- The validation share of the training pairs (split=people, stratified).
recipe.val = 0.2

-- split=balanced: the share of the training file's people held out, and
-- the validation pairs drawn from their images, half matched (fewer when
-- the people allow fewer, as on the tiny synthetic set; never unbalanced).
-- docs/results.md, "Validation noise", says why 2,000.
recipe.val_people = 0.2
recipe.val_pairs = 2000

-- How the data must be loaded: with every image of the pairs' people when
-- pairs or identity batches are drawn from them, or the balanced
-- validation pairs from the held-out people's images.
function recipe.load(opts)
  return { all_of_people = opts.extra > 0 or opts.split == "balanced"
                        or opts.objective ~= "pair", crop = recipe.crop }
end

-- Whether verification is by the embeddings' cosine rather than the head:
-- the head of a triplet-only run is never trained.
function recipe.cosine(opts)
  return opts.objective == "triplet"
end

-- Whether the validation split is by identity (split=balanced or
-- people): no validation person is seen in training, as no test person is.
function recipe.disjoint(opts)
  return opts.split ~= "stratified"
end

-- train, val[, dropped] from the training file's set.
function recipe.split(train, opts)
  if opts.split == "balanced" then
    return train:split { balanced = recipe.val_pairs, people = recipe.val_people,
                         exact = false, seed = opts.seed }
  end
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
                                     embed = opts.embed,
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
    stop = siam.stop.early { monitor = recipe.cosine(opts) and "val_cos_acc"
                                       or opts.threshold == "val" and "val_acc_at_threshold"
                                       or "val_acc",
                             mode = "max", patience = opts.patience, restore_best = true },
  }
  if opts.objective ~= "pair" then
    fit_opts.objective = opts.objective
    fit_opts.triplet = { p = opts.p, k = opts.k, margin = opts.margin, soft = opts.soft == 1,
                         weight = opts.tweight,
                         exclude = recipe.disjoint(opts) and "people" or "images" }
  end
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
