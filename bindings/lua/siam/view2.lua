-- siam.view2: LFW's View 2 protocol over a 10-fold pair set (pairs.txt):
-- for each fold k, train on the nine other folds and test on fold k, then
-- report the mean accuracy and its standard error. The training itself is
-- the caller's (a function given to view2.run); this module owns the
-- splits, the evaluation and the summary.
-- LFW README, "View 2": S_E = sigma / sqrt(10), with sigma the sample
-- standard deviation (n - 1) of the ten fold accuracies.
local view2 = {}

view2.FOLDS = 10

-- The set's source file for messages ("?" when it has none).
local function source(set)
  local s = set:info().source
  return (s ~= nil and s ~= "") and s or "?"
end

-- Raises unless `set` has LFW's ten folds. level: as error()'s.
function view2.check(set, level)
  local n = set:folds()
  if n ~= view2.FOLDS then
    error(string.format("%s: the View 2 protocol needs a 10-fold pairs file (LFW's pairs.txt); "
                        .. "this one has %d fold%s%s", source(set), n, n == 1 and "" or "s",
                        n == 1 and " (a View 1 file such as pairsDevTrain.txt?)" or ""),
          (level or 1) + 1)
  end
end

-- The folds to run, ascending: nil means all ten; otherwise an integer, a
-- list of them (siam.args turns "folds=1,2" into {1, 2}) or the text
-- "1,2". Raises "folds=<value>: ..." on anything else.
function view2.folds(value, count)
  count = count or view2.FOLDS
  if value == nil then
    local all = {}
    for k = 1, count do all[k] = k end
    return all
  end
  local list = value
  if type(value) == "string" then
    list = {}
    for word in (value .. ","):gmatch("([^,]*),") do
      list[#list + 1] = math.tointeger(tonumber(word)) or word
    end
  elseif type(value) ~= "table" then
    list = { value }
  end
  local shown = {}
  for i, v in ipairs(list) do shown[i] = tostring(v) end
  local text = table.concat(shown, ",")
  if #list == 0 then
    error(string.format("folds=%s: expected fold numbers in 1..%d, e.g. folds=1,2", text, count), 2)
  end
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    local k = math.tointeger(v)
    if k == nil or k < 1 or k > count then
      error(string.format("folds=%s: %s is not a fold number (1..%d), e.g. folds=1,2", text,
                          v == "" and '""' or tostring(v), count), 2)
    end
    if seen[k] then
      error(string.format("folds=%s: fold %d given twice", text, k), 2)
    end
    seen[k] = true
    out[#out + 1] = k
  end
  table.sort(out)
  return out
end

-- The validation fold of test fold k: the next one, cyclically (10 for 9,
-- 1 for 10).
function view2.val_fold(k, count)
  return k % (count or view2.FOLDS) + 1
end

-- Fold k's sets: test = fold k. By default (opts.validation = "fold") val
-- is the fold after it (view2.val_fold) and train the eight others: LFW's
-- folds are people-disjoint and balanced, so nothing is dropped. With
-- opts.validation = "split" the nine other folds are split into train and
-- val instead (the behaviour before issue 19): by opts.split(rest) ->
-- train, val[, dropped] when given, else by identity (stratified when
-- opts.disjoint is false), a share opts.val (0.2) of the pairs, seeded by
-- opts.seed. Returns train, val, test, info with info.dropped (pairs used
-- by neither train nor val), info.val_fold (the validation fold, or nil)
-- and info.shared_people (people of the test fold also in train or val: 0
-- for LFW, whose folds are person-disjoint).
function view2.sets(set, k, opts)
  opts = opts or {}
  local how = opts.validation or "fold"
  local rest, test = set:fold(k)
  local tr, val, dropped, vf
  if how == "fold" then
    vf = view2.val_fold(k, set:folds())
    tr, val = rest:fold(vf)
  elseif how == "split" then
    if opts.split then
      tr, val, dropped = opts.split(rest)
    else
      tr, val, dropped = rest:split { val = opts.val or 0.2, seed = opts.seed,
                                      disjoint = opts.disjoint ~= false }
    end
  else
    error(string.format("view2: validation = %q: expected \"fold\" or \"split\"",
                        tostring(how)), 2)
  end
  local shared = rest:summary(test).shared_people
  return tr, val, test, { dropped = dropped or 0, shared_people = shared, val_fold = vf }
end

-- Mean, standard error and sample standard deviation of a list of
-- accuracies. The deviation uses n - 1 (LFW README); with fewer than two
-- values there is none, and se and sd are nil.
function view2.summary(values)
  local n = #values
  if n == 0 then error("view2.summary: no values", 2) end
  local sum = 0
  for _, v in ipairs(values) do sum = sum + v end
  local mean = sum / n
  if n < 2 then return mean, nil, nil end
  local sq = 0
  for _, v in ipairs(values) do sq = sq + (v - mean) ^ 2 end
  local sd = math.sqrt(sq / (n - 1))
  return mean, sd / math.sqrt(n), sd
end

-- Runs the protocol. opts:
--   train(k, train, val, test, info) -> model[, extra]   (required) trains
--     fold k's model on `train`, using `val` for early stopping; the
--     model's threshold is the one the fold is tested at, so it must come
--     from `val` (fit's threshold = "val") or be fixed in advance.
--     `extra` (a table) is copied into the fold's row. `test` and `info`
--     (view2.sets') are for reporting only; they must not steer training.
--   folds (view2.folds' forms; all ten), validation ("fold"), split, val
--   (0.2), seed, disjoint (true): view2.sets',
--   on_fold(row, test_eval, test_set) called after each fold (test_eval is
--   siam.evaluate's table for the fold's test pairs).
-- Returns {rows = {...}, folds = {k...}, mean, se, sd}; each row holds
-- fold, train, val, test (pair counts), dropped, val_fold, shared_people, threshold,
-- val_accuracy, accuracy, auc, eer, loss and the extra keys.
function view2.run(set, opts)
  assert(type(opts) == "table" and type(opts.train) == "function",
         "view2.run(set, {train = function(k, train, val, test, info) ... end})")
  view2.check(set, 2)
  local ok, folds = pcall(view2.folds, opts.folds)
  if not ok then error(folds, 2) end
  local rows, accs = {}, {}
  for _, k in ipairs(folds) do
    local tr, val, test, info = view2.sets(set, k, { val = opts.val, seed = opts.seed,
                                                      disjoint = opts.disjoint,
                                                      validation = opts.validation,
                                                      split = opts.split })
    local model, extra = opts.train(k, tr, val, test, info)
    local v = siam.evaluate(model, val, { examples = 0 })
    local t = siam.evaluate(model, test, { examples = 0 })
    local row = { fold = k, train = #tr, val = #val, test = #test, dropped = info.dropped,
                  val_fold = info.val_fold or "",
                  shared_people = info.shared_people, threshold = model.threshold,
                  val_accuracy = v.accuracy, accuracy = t.accuracy, auc = t.auc, eer = t.eer,
                  loss = t.loss }
    for key, x in pairs(extra or {}) do
      if row[key] == nil then row[key] = x end
    end
    rows[#rows + 1] = row
    accs[#accs + 1] = t.accuracy
    if opts.on_fold then opts.on_fold(row, t, test) end
    model, tr, val, test = nil, nil, nil, nil
    collectgarbage("collect") -- one fold's model and sets at a time
  end
  local mean, se, sd = view2.summary(accs)
  return { rows = rows, folds = folds, mean = mean, se = se, sd = sd }
end

-- The result line: "mean accuracy 0.8123 ± 0.0045 (10 folds)"; with one
-- fold there is no standard error.
function view2.line(result)
  local n = #result.folds
  if result.se == nil then
    return string.format("mean accuracy %.4f (%d fold, no standard error)", result.mean, n)
  end
  return string.format("mean accuracy %.4f ± %.4f (%d folds)", result.mean, result.se, n)
end

return view2
