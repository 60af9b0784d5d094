-- siam.optim (adam, adamw, sgd), siam.schedule.step, .cosine and .plateau, and siam.stop.early:
-- defaults, the lr property, binding to a model, and every error.
local F = dofile(harness.dir .. "/api_fixture.lua")

test("adam, adamw, sgd: torch.optim defaults", function()
  local a = siam.optim.adam()
  check.eq(a.kind, "adam")
  check.eq(a.lr, 0.001)
  check.eq(a.betas, { 0.9, 0.999 })
  check.eq(a.eps, 1e-8)
  check.eq(a.weight_decay, 0.0)
  check.eq(a.steps, 0)
  check.eq(a.bound, false)
  local w = siam.optim.adamw { lr = 0.01 }
  check.eq(w.kind, "adamw")
  check.eq(w.weight_decay, 0.01)
  local s = siam.optim.sgd { momentum = 0.9, nesterov = true }
  check.eq(s.kind, "sgd")
  check.eq(s.lr, 0.01)
  check.eq(s.momentum, 0.9)
  check.eq(s.nesterov, true)
  check.eq(s.betas, nil)
  check.eq(tostring(a), "siam.Optimizer(adam, lr 0.001, betas (0.9, 0.999), eps 1e-08, weight_decay 0.0)")
  check.eq(tostring(s), "siam.Optimizer(sgd, lr 0.01, momentum 0.9, nesterov on, weight_decay 0.0)")
end)

test("lr is readable and settable, before and after binding", function()
  local o = siam.optim.adam { lr = 0.005 }
  o.lr = 0.002
  check.eq(o.lr, 0.002)
  local m = F.model()
  local train = F.sets()
  siam.fit(m, o, train:take(8), { epochs = 1, batch_size = 8 })
  check.eq(o.bound, true)
  check.eq(o.steps, 1)
  check.eq(o.lr, 0.002)
  o.lr = 0.0005
  check.eq(o.lr, 0.0005)
  check.error("siam.Optimizer: lr must be a finite number >= 0, got -1.0", function() o.lr = -1 end)
  check.error("siam.Optimizer: lr must be a number, got string", function() o.lr = "x" end)
  check.error("siam.Optimizer: field 'steps' cannot be set (only 'lr')", function() o.steps = 0 end)
  -- bound to m: another model is refused
  check.error("bad argument #2 to 'fit' (this optimizer is bound to another model (make one "
              .. "optimizer per model))",
              function() return siam.fit(F.model(), o, train:take(8), { epochs = 1 }) end)
end)

test("one rule for the constructors and the lr setter: no NaN, infinities or negatives", function()
  -- a pattern for the number as the message prints it (NaN prints with or without a sign)
  local function shown(v)
    if v ~= v then return "%-?nan" end
    return (tostring(v + 0.0):gsub("%-", "%%-"))
  end
  local bad = { math.huge, -math.huge, 0 / 0, -1 }
  for _, ctor in ipairs { "adam", "adamw", "sgd" } do
    for _, v in ipairs(bad) do
      for _, key in ipairs { "lr", "weight_decay" } do
        check.error_match("%(option '" .. key .. "' must be a finite number >= 0, got "
                          .. shown(v) .. "%)$", function() return siam.optim[ctor] { [key] = v } end)
      end
      local o = siam.optim[ctor]()
      check.error_match("siam%.Optimizer: lr must be a finite number >= 0, got " .. shown(v) .. "$",
                        function() o.lr = v end)
      check.eq(o.lr, ctor == "sgd" and 0.01 or 0.001, "a refused lr leaves the old one")
    end
  end
  for _, v in ipairs(bad) do
    check.error_match("%(option 'momentum' must be a finite number >= 0, got " .. shown(v) .. "%)$",
                      function() return siam.optim.sgd { momentum = v } end)
    check.error_match("%(option 'betas' values must be in %[0, 1%), got " .. shown(v) .. "%)$",
                      function() return siam.optim.adam { betas = { 0.9, v } } end)
  end
  check.error("bad argument #1 to 'adam' (option 'eps' must be a finite number > 0, got 0.0)",
              function() return siam.optim.adam { eps = 0 } end)
  check.error("bad argument #1 to 'adamw' (option 'eps' must be a finite number > 0, got inf)",
              function() return siam.optim.adamw { eps = math.huge } end)
  -- lr 0 is a valid learning rate (torch.optim's rule, and where cosine annealing ends)
  check.eq(siam.optim.adam { lr = 0 }.lr, 0.0)
end)

test("constructor errors", function()
  check.error("bad argument #1 to 'adam' (option 'betas' must be a table of 2 numbers)",
              function() return siam.optim.adam { betas = { 0.9 } } end)
  check.error("bad argument #1 to 'adamw' (option 'betas' values must be in [0, 1), got 1.0)",
              function() return siam.optim.adamw { betas = { 0.9, 1 } } end)
  check.error("bad argument #1 to 'sgd' (nesterov needs momentum > 0)",
              function() return siam.optim.sgd { nesterov = true } end)
  check.error("bad argument #1 to 'sgd' (unknown option 'betas')",
              function() return siam.optim.sgd { betas = { 0.9, 0.99 } } end)
  check.error("bad argument #1 to 'sgd' (option 'weight_decay' must be a finite number >= 0, "
              .. "got -1.0)", function() return siam.optim.sgd { weight_decay = -1 } end)
  check.error("bad argument #1 to 'adam' (table expected, got number)",
              function() return siam.optim.adam(3) end)
end)

test("StepLR: lr = base * gamma^floor((epoch-1)/step_size)", function()
  local s = siam.schedule.step { step_size = 2, gamma = 0.5 }
  check.eq(s.step_size, 2)
  check.eq(s.gamma, 0.5)
  check.eq(s(1, 0.1), 0.1)
  check.eq(s(2, 0.1), 0.1)
  check.eq(s(3, 0.1), 0.05)
  check.eq(s(5, 0.1), 0.025)
  check.eq(siam.schedule.step { step_size = 5 }.gamma, 0.1)
  check.eq(tostring(s), "siam.Schedule(step, step_size 2, gamma 0.5)")
  check.error("bad argument #1 to 'step' (option 'step_size' is required)",
              function() return siam.schedule.step {} end)
  check.error("bad argument #1 to 'step' (option 'step_size' must be in [1, 1073741824], got 0)",
              function() return siam.schedule.step { step_size = 0 } end)
  check.error("bad argument #1 to 'step' (option 'gamma' must be > 0, got 0.0)",
              function() return siam.schedule.step { step_size = 1, gamma = 0 } end)
  check.error("bad argument #2 to 's' (epochs count from 1)", function() return s(0, 1) end)
end)

test("cosine: base at epoch 1, eta_min after t_max epochs, the midpoint between", function()
  local s = siam.schedule.cosine { t_max = 4, eta_min = 0.001 }
  check.eq(s.kind, "cosine")
  check.eq(s.t_max, 4)
  check.eq(s.eta_min, 0.001)
  check.eq(s.step_size, nil)
  check.eq(s(1, 0.009), 0.009)
  check.near(s(3, 0.009), 0.005, 1e-15)
  check.near(s(5, 0.009), 0.001, 1e-15)
  -- epoch 2: 0.001 + 0.008 (1 + cos(pi/4)) / 2
  check.near(s(2, 0.009), 0.001 + 0.004 * (1 + math.sqrt(0.5)), 1e-15)
  -- past t_max it rises again, as PyTorch's closed form does
  check.near(s(7, 0.009), 0.005, 1e-15)
  check.eq(siam.schedule.cosine { t_max = 3 }.eta_min, 0)
  check.eq(siam.schedule.step { step_size = 3 }.kind, "step")
  check.eq(siam.schedule.step { step_size = 3 }.t_max, nil)
  check.eq(tostring(s), "siam.Schedule(cosine, t_max 4, eta_min 0.001)")
  check.error("bad argument #1 to 'cosine' (option 't_max' is required (the epochs of one descent))",
              function() return siam.schedule.cosine {} end)
  check.error("bad argument #1 to 'cosine' (option 't_max' must be in [1, 1073741824], got 0)",
              function() return siam.schedule.cosine { t_max = 0 } end)
  check.error("bad argument #1 to 'cosine' (option 'eta_min' must be >= 0, got -1.0)",
              function() return siam.schedule.cosine { t_max = 2, eta_min = -1 } end)
  check.error("bad argument #1 to 'cosine' (unknown option 'T_max'; did you mean 't_max'?)",
              function() return siam.schedule.cosine { T_max = 2 } end)
end)

test("plateau: PyTorch's defaults, fields, and its settings checked", function()
  local s = siam.schedule.plateau {}
  check.eq({ s.kind, s.monitor, s.mode, s.factor, s.patience, s.threshold, s.threshold_mode,
             s.cooldown, s.min_lr, s.eps },
           { "plateau", "val_loss", "min", 0.1, 10, 1e-4, "rel", 0, 0, 1e-8 })
  check.eq(siam.schedule.plateau { monitor = "val_acc" }.mode, "max")
  check.eq(siam.schedule.plateau { monitor = "val_acc", mode = "min" }.mode, "min")
  check.eq(siam.schedule.plateau { threshold_mode = "abs" }.threshold_mode, "abs")
  check.eq(s.t_max, nil)
  check.eq(tostring(siam.schedule.plateau { patience = 3, factor = 0.5 }),
           "siam.Schedule(plateau, val_loss min, factor 0.5, patience 3, threshold 0.0001 rel, "
           .. "cooldown 0, min_lr 0.0)")
  check.error("a plateau schedule's lr depends on the metric it follows, not on the epoch: it "
              .. "has no lr to give for an epoch alone", function() return s(1, 0.1) end)
  local function err(opts) return function() return siam.schedule.plateau(opts) end end
  check.error("bad argument #1 to 'plateau' (option 'factor' must be in (0, 1) (the lr is "
              .. "multiplied by it), got 1.0)", err { factor = 1 })
  check.error("bad argument #1 to 'plateau' (option 'patience' must be in [0, 1073741824], got -1)",
              err { patience = -1 })
  check.error("bad argument #1 to 'plateau' (option 'threshold' must be a finite number >= 0, "
              .. "got -0.1)", err { threshold = -0.1 })
  check.error("bad argument #1 to 'plateau' (option 'min_lr' must be a finite number >= 0, got inf)",
              err { min_lr = math.huge })
  check.error_match("option 'threshold_mode'", err { threshold_mode = "relative" })
  check.error_match("option 'mode'", err { mode = "up" })
  check.error("bad argument #1 to 'plateau' (unknown option 'metric')",
              err { metric = "val_acc" })
end)

test("early stopping settings: defaults and mode from the metric", function()
  local e = siam.stop.early()
  check.eq(e.monitor, "val_acc")
  check.eq(e.mode, "max")
  check.eq(e.patience, 5)
  check.eq(e.min_delta, 0.0)
  check.eq(e.restore_best, false)
  check.eq(siam.stop.early { monitor = "val_loss" }.mode, "min")
  check.eq(siam.stop.early { monitor = "val_loss", mode = "max" }.mode, "max")
  check.eq(tostring(siam.stop.early { patience = 2, restore_best = true }),
           "siam.EarlyStop(val_acc max, patience 2, min_delta 0.0, restore best)")
  check.error("bad argument #1 to 'early' (option 'mode' must be one of 'min', 'max', got 'up')",
              function() return siam.stop.early { mode = "up" } end)
  check.error("bad argument #1 to 'early' (option 'patience' must be in [0, 1073741824], got -1)",
              function() return siam.stop.early { patience = -1 } end)
  check.error("bad argument #1 to 'early' (unknown option 'metric')",
              function() return siam.stop.early { metric = "val_acc" } end)
end)

test("cleanup", F.cleanup)
