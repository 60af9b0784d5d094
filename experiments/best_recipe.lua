-- The training configuration of experiments/best.lua, shared with
-- experiments/view2.lua so that both train one way (loaded with dofile,
-- not a script itself): a 512-unit embedding (paper model) with the rich
-- distance head, the paper's affine augmentation, Adam with weight decay,
-- extra pairs drawn each epoch from the training people (validation people
-- kept out), EMA of the weights, early stopping on validation accuracy and
-- the decision threshold chosen on validation.
-- Keys: epochs (60), patience (10), extra (extra pairs per epoch, 2000),
-- decay (EMA decay, 0.999), lr (0.001), l2 (weight decay, 0.0005).
local recipe = {}

recipe.keys = { "epochs", "patience", "extra", "decay", "lr", "l2" }
recipe.defaults = { epochs = 60, patience = 10, extra = 2000, decay = 0.999, lr = 0.001,
                    l2 = 0.0005 }

-- The data must hold every image of the pairs' people (for the extra pairs).
recipe.load = { all_of_people = true }

-- The validation share of the training pairs, split by identity.
recipe.val = 0.2

-- Identity-disjoint validation: no validation person is drawn for training.
function recipe.split(train, opts)
  return train:split { val = recipe.val, seed = opts.seed, disjoint = true }
end

-- Trains a fresh model on tr (val: early stopping and the threshold);
-- returns the model and fit's history. `show` prints the model first.
function recipe.train(common, opts, tr, val, show)
  local model = common.model(opts, { dropout = 0, head = "rich",
                                     fc = opts.model == "paper" and 512 or nil })
  local opt = siam.optim.adam { lr = opts.lr, weight_decay = opts.l2 }
  if show then print(model) end
  local h = siam.fit(model, opt, tr, {
    epochs = opts.epochs, batch_size = 32, val = val, seed = opts.seed,
    augment = siam.data.augment(),
    sample_pairs = { per_epoch = opts.extra, exclude = "people" },
    average = { kind = "ema", decay = opts.decay },
    threshold = "val",
    stop = siam.stop.early { monitor = "val_acc", mode = "max", patience = opts.patience,
                             restore_best = true },
  })
  return model, h
end

-- The keys of a script using the recipe: its own, then the recipe's.
function recipe.args(common, own, defaults)
  local keys, defs = {}, {}
  for _, k in ipairs(recipe.keys) do keys[#keys + 1] = k end
  for _, k in ipairs(own or {}) do keys[#keys + 1] = k end
  for k, v in pairs(recipe.defaults) do defs[k] = v end
  for k, v in pairs(defaults or {}) do defs[k] = v end
  return common.args(keys, defs)
end

return recipe
