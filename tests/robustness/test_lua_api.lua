-- Bad arguments to the public Lua API: wrong types, NaN, infinities, values
-- out of range, unknown keys and closed objects, each an ordinary Lua error
-- with the message below (the caller's position removed), and none of them
-- changing what it was given.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local F = cases.F
local d = cases.data()
local train, testset = d.train, d.test
local nan, inf = 0 / 0, math.huge

local model = F.model()
local opt = siam.optim.adam()
local closed_set = train:take(10, 1)
closed_set:close()
local closed_model = F.model()
closed_model:close()
local closed_tensor
do
  local t <close> = siam.zeros(2)
  closed_tensor = t
end
local big_model = siam.model { size = 48, channels = { 16, 32, 32, 64 }, kernels = { 7, 5, 3, 3 },
                               fc = 128, init = "pytorch", device = "cpu" }
local half = {}
for i = 1, #testset do half[i] = 0.5 end

-- A case: `fn` must raise exactly `msg`.
local function bad(name, fn, msg)
  return { name = name, call = fn, error = msg }
end

local function with_nan_at(list, i)
  local l = table.move(list, 1, #list, 1, {})
  l[i] = nan
  return l
end

local norms_before = {}
for i, p in ipairs(model:parameters()) do norms_before[i] = p.norm end

cases.run {
  -- tensors
  bad("siam.tensor of a string", function() return siam.tensor("x") end,
      "bad argument #1 to 'tensor' (table expected, got string)"),
  bad("siam.zeros with a size of 0", function() return siam.zeros(0) end,
      "bad argument #1 to 'zeros' (size must be in [1, 2147483647], got 0)"),
  bad("siam.zeros with a NaN size", function() return siam.zeros(nan) end,
      "bad argument #1 to 'zeros' (number has no integer representation)"),
  bad("t:get out of range", function() return siam.tensor { { 1, 2 }, { 3, 4 } }:get(3, 1) end,
      "bad argument #1 to 'get' (index 3 out of range [1, 2] for dimension 1)"),
  bad("a closed tensor", function() return closed_tensor:sum() end,
      "calling 'sum' on bad self (siam.Tensor is closed)"),
  -- the model
  bad("siam.model with a NaN dropout", function() return siam.model { dropout = nan } end,
      "bad argument #1 to 'model' (option 'dropout' must be in [0, 1), got -nan)"),
  bad("siam.model with an infinite dropout", function() return siam.model { dropout = inf } end,
      "bad argument #1 to 'model' (option 'dropout' must be in [0, 1), got inf)"),
  bad("siam.model with a fractional size", function() return siam.model { size = 1.5 } end,
      "bad argument #1 to 'model' (option 'size' must be an integer, got 1.5)"),
  bad("siam.model with a NaN seed", function() return siam.model { seed = nan } end,
      "bad argument #1 to 'model' (option 'seed' must be an integer, got -nan)"),
  bad("siam.model with 100000 channels", function() return siam.model { channels = { 100000, 32, 32, 64 } } end,
      "bad argument #1 to 'model' (option 'channels'[1] must be an integer in [1, 65536], got 100000)"),
  bad("siam.model with three kernels", function() return siam.model { kernels = { 3, 3, 3 } } end,
      "bad argument #1 to 'model' (option 'kernels' must be a table of 4 integers)"),
  bad("siam.model with a misspelt key", function() return siam.model { sise = 48 } end,
      "bad argument #1 to 'model' (unknown option 'sise'; did you mean 'size'?)"),
  bad("siam.model with a key holding a terminal escape", function() return siam.model { ["\27[2Jx"] = 1 } end,
      "bad argument #1 to 'model' (unknown option '\\x1b[2Jx')"),
  bad("siam.model with an unknown head", function() return siam.model { head = "l2" } end,
      "bad argument #1 to 'model' (option 'head': unknown distance head 'l2' (l1, rich, or blocks "
      .. "joined by '+' from abs, sq, prod, cos, each once))"),
  bad("m.threshold = NaN", function() model.threshold = nan end,
      "siam.Model: threshold must be in [0, 1], got -nan"),
  bad("m.tta = 'mirror'", function() model.tta = "mirror" end,
      'siam.Model: tta must be "none" or "flip", got mirror'),
  bad("setting a read-only model field", function() model.numel = 3 end,
      "siam.Model: field 'numel' cannot be set (only 'threshold' and 'tta')"),
  bad("a closed model", function() return closed_model:forward(testset) end,
      "calling 'forward' on bad self (siam.Model is closed)"),
  bad("forward on a closed set", function() return model:forward(closed_set) end,
      "bad argument #1 to 'forward' (siam.PairSet is closed)"),
  bad("forward on images of another size", function() return big_model:forward(testset) end,
      "bad argument #1 to 'forward' (the pair set's images are 32x32, the model takes 48x48)"),
  bad("siam.load with batch 0", function() return siam.load("x.ckpt", { batch = 0 }) end,
      "bad argument #2 to 'load' (option 'batch' must be in [1, 65536], got 0)"),
  -- optimizers, schedules, stopping rules
  bad("adam with a NaN lr", function() return siam.optim.adam { lr = nan } end,
      "bad argument #1 to 'adam' (option 'lr' must be a finite number >= 0, got -nan)"),
  bad("adam with an infinite lr", function() return siam.optim.adam { lr = inf } end,
      "bad argument #1 to 'adam' (option 'lr' must be a finite number >= 0, got inf)"),
  bad("adam with beta 1", function() return siam.optim.adam { betas = { 1, 0.9 } } end,
      "bad argument #1 to 'adam' (option 'betas' values must be in [0, 1), got 1.0)"),
  bad("sgd with Nesterov and no momentum", function() return siam.optim.sgd { nesterov = true } end,
      "bad argument #1 to 'sgd' (nesterov needs momentum > 0)"),
  bad("opt.lr = NaN", function() opt.lr = nan end,
      "siam.Optimizer: lr must be a finite number >= 0, got -nan"),
  bad("a step schedule without step_size", function() return siam.schedule.step {} end,
      "bad argument #1 to 'step' (option 'step_size' is required)"),
  bad("a step schedule with a NaN gamma", function() return siam.schedule.step { step_size = 1, gamma = nan } end,
      "bad argument #1 to 'step' (option 'gamma' must be > 0, got -nan)"),
  bad("a cosine schedule with a NaN t_max", function() return siam.schedule.cosine { t_max = nan } end,
      "bad argument #1 to 'cosine' (option 't_max' must be an integer, got -nan)"),
  bad("early stopping with patience -1", function() return siam.stop.early { patience = -1 } end,
      "bad argument #1 to 'early' (option 'patience' must be in [0, 1073741824], got -1)"),
  bad("early stopping with a NaN min_delta", function() return siam.stop.early { min_delta = nan } end,
      "bad argument #1 to 'early' (option 'min_delta' must be >= 0, got -nan)"),
  -- fit and evaluate
  bad("fit with 0 epochs", function() return siam.fit(model, opt, train, { epochs = 0 }) end,
      "bad argument #4 to 'fit' (option 'epochs' must be in [1, 1000000], got 0)"),
  bad("fit with an infinite batch size", function() return siam.fit(model, opt, train, { batch_size = inf }) end,
      "bad argument #4 to 'fit' (option 'batch_size' must be an integer, got inf)"),
  bad("fit with a misspelt key", function() return siam.fit(model, opt, train, { epoch = 1 }) end,
      "bad argument #4 to 'fit' (unknown option 'epoch'; did you mean 'epochs'?)"),
  bad("fit with a NaN threshold", function() return siam.fit(model, opt, train, { threshold = nan }) end,
      "bad argument #4 to 'fit' (option 'threshold' must be in [0, 1], got -nan)"),
  bad("fit without a training set", function() return siam.fit(model, opt) end,
      "bad argument #3 to 'fit' (siam.PairSet expected, got no value)"),
  bad("fit on a closed set", function() return siam.fit(model, opt, closed_set) end,
      "bad argument #3 to 'fit' (siam.PairSet is closed)"),
  bad("fit a closed model", function() return siam.fit(closed_model, opt, train) end,
      "bad argument #1 to 'fit' (siam.Model is closed)"),
  bad("fit with a NaN augmentation setting", function() return siam.fit(model, opt, train, { augment = { p_flip = nan } }) end,
      "bad argument #4 to 'fit' (augment option 'p_flip' must be in [0, 1], got -nan)"),
  bad("a schedule that returns NaN", function() return siam.fit(model, opt, train, { schedule = function() return nan end }) end,
      "schedule returned -nan for epoch 1 (a learning rate >= 0 expected)"),
  bad("evaluate with a NaN threshold", function() return siam.evaluate(model, testset, { threshold = nan }) end,
      "bad argument #3 to 'evaluate' (option 'threshold' must be in [0, 1], got -nan)"),
  bad("evaluate_probs with a NaN probability", function() return siam.evaluate_probs(testset, with_nan_at(half, 3)) end,
      "bad argument #2 to 'evaluate_probs' (probability 3 must be a number in [0, 1])"),
  bad("evaluate_probs with too few probabilities", function() return siam.evaluate_probs(testset, { 0.5 }) end,
      "bad argument #2 to 'evaluate_probs' (1 probabilities for a set of 40 pairs)"),
  -- data sets
  bad("split with a NaN share", function() return train:split { val = nan } end,
      "bad argument #1 to 'split' (option 'val' must be in (0, 1), got -nan)"),
  bad("take more pairs than the set has", function() return train:take(1000000000) end,
      "bad argument #1 to 'take' (count must be in [1, 80], got 1000000000)"),
  bad("pair index 0", function() return train:pair(0) end,
      "bad argument #1 to 'pair' (pair index 0 out of range [1, 80])"),
  bad("a closed set", function() return closed_set:info() end,
      "calling 'info' on bad self (siam.PairSet is closed)"),
  bad("siam.data.load without root or pairs", function() return siam.data.load {} end,
      "bad argument #1 to 'load' (give 'root' (an LFW directory), or both 'pairs' and 'images')"),
  bad("siam.data.load with size 4", function() return siam.data.load { root = "x", size = 4 } end,
      "bad argument #1 to 'load' (option 'size' must be in [8, 4096], got 4)"),
  bad("siam.data.load with cache = 5", function() return siam.data.load { root = "x", cache = 5 } end,
      "bad argument #1 to 'load' (option 'cache' must be a boolean or a directory, got number)"),
  bad("siam.data.load of a missing directory", function() return siam.data.load { root = "/nonexistent" } end,
      "/nonexistent: no such directory"),
  bad("siam.data.files with a pair of one image", function() return siam.data.files({ { "a" } }) end,
      "bad argument #1 to 'files' (pair 1: image 2 must be a path, got nil)"),
  bad("siam.data.synthetic with 2 people", function() return siam.data.synthetic { identities = 2 } end,
      "bad argument #1 to 'synthetic' (option 'identities' must be in [4, 100000], got 2)"),
  bad("augment with scale_min above scale_max", function() return siam.data.augment { scale_min = 1.5 } end,
      "bad argument #1 to 'augment' (augment needs 0 < scale_min <= scale_max, got 1.5 and 1.2)"),
  -- grids, arguments, results, siam.config
  bad("a grid key without values", function() return siam.grid { { "lr", {} } } end,
      "bad argument #1 to 'grid' ('lr' has no values)"),
  bad("siam.args with a word without =", function() return siam.args({ "x" }) end,
      "bad argument 'x': expected key=value (e.g. lr=0.005 or batch=16,32)"),
  bad("siam.args with an unknown key holding a control character", function() return siam.args({ "b\1=3" }, { "batch" }) end,
      "unknown argument 'b\\x01' (known: batch)"),
  bad("a results row holding a table", function() return siam.results.new():add { a = {} } end,
      "bad argument #1 to 'add' (value of 'a' must be a number, string or boolean, got table)"),
  bad("siam.results.load of a missing file", function() return siam.results.load("/nonexistent.csv") end,
      "table: cannot read /nonexistent.csv: No such file or directory"),
  bad("siam.io.sheet with too few probabilities", function() return siam.io.sheet(testset, { 1 }, "/nonexistent/x.png") end,
      "bad argument #2 (list of 40 numbers expected, got 1)"),
  bad("siam.config.threads = NaN", function() siam.config.threads = nan end,
      "siam.config.threads must be an integer in [0, 4096], got -nan"),
  bad("a misspelt siam.config key", function() siam.config.sed = 1 end,
      "siam.config: unknown key 'sed'; did you mean 'seed'?"),
  {
    name = "none of the refused calls changed the model or the optimizer",
    call = function() return model, opt end,
    check = function(_, _, m, o)
      local now = {}
      for i, p in ipairs(m:parameters()) do now[i] = p.norm end
      check.eq(now, norms_before)
      check.eq({ m.threshold, m.tta, o.lr, o.steps }, { 0.5, "none", 0.001, 0 })
      check.eq(siam.config.threads, 1)
    end,
  },
}

test("cleanup", cases.cleanup)
