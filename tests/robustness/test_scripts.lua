-- Bad script arguments: each experiment script refuses them with one line
-- on stderr and status 1 before it loads any data or trains anything (its
-- stdout stays empty and no results folder appears).
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()

-- A case running experiments/<script>.lua with `words` (results= points
-- into t.dir unless the words give it); `err` is the whole stderr.
local function refused(name, script, words, err)
  return {
    name = name,
    child = function(_, t)
      local w = { "experiments/" .. script .. ".lua", "data=tiny", "model=small" }
      local own_results = false
      for _, x in ipairs(words) do
        w[#w + 1] = cases.fill(x, t)
        own_results = own_results or x:find("^results=") ~= nil
      end
      if not own_results then w[#w + 1] = "results=" .. t.dir .. "/results" end
      return w, { env = "SIAMLUA_CACHE=" .. cases.shq(t.dir .. "/cache") }
    end,
    timeout = 30, status = 1, stdout = "", stderr = "siamlua: " .. err .. "\n",
    check = function(t)
      check.eq(#(siam.io.list(t.dir .. "/results") or {}), 0, "nothing in the results folder")
      check.eq(siam.io.list(t.dir .. "/cache"), nil, "no data loaded")
    end,
  }
end

cases.run {
  refused("epochs=abc", "quickstart", { "epochs=abc" }, "epochs=abc: expected an integer >= 1"),
  refused("epochs=1.5", "seed_best", { "epochs=1.5" }, "epochs=1.5: expected an integer >= 1"),
  refused("epochs=1,2 where one value is taken", "quickstart", { "epochs=1,2" },
          "epochs=1,2: expected one value, an integer >= 1"),
  refused("subset=0", "quickstart", { "subset=0" }, "subset=0: expected an integer >= 1"),
  refused("lr=nan", "quickstart", { "lr=nan" }, "lr=nan: expected a number >= 0"),
  refused("lr=1e999 (infinite)", "schedule", { "lr=1e999" }, "lr=1e999: expected a number >= 0"),
  refused("seed=-1", "hooks", { "seed=-1" }, "seed=-1: expected an integer >= 0"),
  refused("batch=16,x in a grid", "grid", { "batch=16,x" },
          "batch=16,x: expected an integer >= 1 for each value"),
  refused("dropout=1 in a grid", "grid", { "dropout=1" }, "dropout=1: expected a number in [0, 1)"),
  refused("model=huge", "grid", { "model=huge" }, "model=huge: expected model=paper or model=small"),
  refused("a value holding a terminal escape", "quickstart", { "model=\27[2J" },
          "model=\\x1b[2J: expected model=paper or model=small"),
  refused("crop=-2", "custom_stop", { "crop=-2" }, "crop=-2: expected 0 (whole image) or a side in pixels"),
  refused("data=big", "quickstart", { "data=big" }, "data=big: expected data=tiny or no data key"),
  refused("window=0", "custom_stop", { "window=0" }, "window=0: expected an integer >= 1"),
  refused("a misspelt key", "seed_best", { "epoch=2" },
          "unknown argument 'epoch'; did you mean 'epochs'?"),
  refused("an unknown key, no near miss", "seed_best", { "size=2" },
          "unknown argument 'size' (known: cache, crop, data, epochs, lfw, model, out, results, "
          .. "seed, subset)"),
  refused("models= not given (ensemble)", "ensemble", {},
          "models= is required: two or more checkpoints, comma-separated"),
  refused("a word without =", "quickstart", { "fast" },
          "bad argument 'fast': expected key=value (e.g. lr=0.005 or batch=16,32)"),
  refused("base=2 (best)", "best", { "base=2" }, "base=2: expected base=0 or base=1"),
  refused("ema=1 (best)", "best", { "ema=1" }, "ema=1: expected a number in [0, 1)"),
  refused("schedule=linear (best)", "best", { "schedule=linear" },
          "schedule=linear: expected one of none, cosine, step"),
  refused("models= with one checkpoint (ensemble)", "ensemble", { "models=a.ckpt" },
          "models=: expected two or more checkpoints, e.g. models=a.ckpt,b.ckpt"),
  refused("models= naming a missing checkpoint (ensemble)", "ensemble",
          { "models={dir}/a.ckpt,{dir}/b.ckpt" },
          "models=: checkpoint {dir}/a.ckpt: cannot open: No such file or directory"),
  {
    name = "results= a file",
    build = function(t) return cases.write(t.dir .. "/results", "a file") end,
    child = function(_, t)
      return { "experiments/quickstart.lua", "data=tiny", "results=" .. t.dir .. "/results" }
    end,
    timeout = 30, status = 1, stdout = "",
    stderr = "siamlua: results={dir}/results: cannot write there: mkdir -p {dir}/results: "
             .. "{dir}/results exists and is not a directory\n",
    check = function(t) check.eq(cases.read(t.dir .. "/results"), "a file", "the file is untouched") end,
  },
  {
    name = "a grid's out= folder is a file",
    build = function(t)
      assert(siam.io.mkdir_p(t.dir .. "/results"))
      return cases.write(t.dir .. "/results/t", "a file")
    end,
    child = function(_, t)
      return { "experiments/grid.lua", "data=tiny", "out=t", "results=" .. t.dir .. "/results" }
    end,
    timeout = 30, status = 1, stdout = "",
    stderr = "siamlua: out=t: cannot write there: mkdir -p {dir}/results/t: "
             .. "{dir}/results/t exists and is not a directory\n",
    check = function(t) check.eq(cases.read(t.dir .. "/results/t"), "a file", "the file is untouched") end,
  },
  {
    name = "results= where no folder can be made",
    child = function() return { "experiments/grid.lua", "data=tiny", "results=/proc/siamlua-results" } end,
    timeout = 30, status = 1, stdout = "",
    stderr = "siamlua: results=/proc/siamlua-results: cannot write there: mkdir -p "
             .. "/proc/siamlua-results: cannot create /proc/siamlua-results: No such file or directory\n",
  },
  {
    name = "folds=0 (view2)",
    child = function(_, t) return { "experiments/view2.lua", "folds=0", "results=" .. t.dir .. "/r" } end,
    timeout = 30, status = 1, stdout = "",
    stderr = "view2: folds=0: 0 is not a fold number (1..10), e.g. folds=1,2\n",
  },
}

test("cleanup", cases.cleanup)
