-- siam.args(words, spec[, about]): declarations (default, allowed values,
-- full form), the values each type accepts, the usage errors (raised as
-- objects that print as one line) and the generated --help text.

-- The message of the usage error fn raises (an object with __tostring).
local function usage_error(fn)
  local ok, e = pcall(fn)
  check.eq(ok, false, "an error")
  check.eq(type(e), "table", "a usage error object, not a string with a position")
  return tostring(e)
end

test("a default gives the type, a list the allowed values and the default", function()
  local spec = { epochs = 50, head = { "rich", "l1" }, lr = 1e-4, name = "run", flip = true }
  local o = siam.args({}, spec)
  check.eq(o, { epochs = 50, head = "rich", lr = 1e-4, name = "run", flip = true })
  o = siam.args({ "epochs=3", "head=l1", "lr=1", "name=a,b", "flip=false" }, spec)
  check.eq(o, { epochs = 3, head = "l1", lr = 1, name = "a,b", flip = false })
  check.eq(math.type(o.epochs), "integer")
  check.eq(math.type(o.lr), "integer", "a number key keeps an integer given as one")
  o = siam.args({ "lr=0.5", "epochs=2", "epochs=7" }, spec)
  check.eq(o.lr, 0.5)
  check.eq(o.epochs, 7, "the last word giving a key wins")
end)

test("the full form: optional, required, ranges, lists, typed defaults, checks", function()
  local spec = {
    subset = { type = "integer", min = 1 },
    models = { type = "text", list = true, required = true },
    batch = { default = { 16, 32 }, list = true, min = 1 },
    ema = { 0, type = "number", min = 0, below = 1 },
    threshold = { { "val", 0.5 } },
    data = { choices = { "tiny" } },
    out = { "x", check = function(v) if v == "bad" then return "out=bad: no" end end },
  }
  local o = siam.args({ "models=a" }, spec)
  check.eq(o, { models = { "a" }, batch = { 16, 32 }, ema = 0, threshold = "val", out = "x" })
  check.eq(math.type(o.ema), "integer", "the default as declared")
  o = siam.args({ "models=a,b", "batch=8", "ema=0.5", "threshold=0.50", "subset=3", "data=tiny" },
                spec)
  check.eq(o, { models = { "a", "b" }, batch = { 8 }, ema = 0.5, threshold = 0.5, subset = 3,
                data = "tiny", out = "x" })
  check.eq(usage_error(function() siam.args({}, spec) end), "models= is required: text")
  check.eq(usage_error(function() siam.args({ "models=a", "ema=1" }, spec) end),
           "ema=1: expected a number in [0, 1)")
  check.eq(usage_error(function() siam.args({ "models=a", "batch=16,0" }, spec) end),
           "batch=16,0: expected an integer >= 1 for each value")
  check.eq(usage_error(function() siam.args({ "models=a", "subset=1.5" }, spec) end),
           "subset=1.5: expected an integer >= 1")
  check.eq(usage_error(function() siam.args({ "models=a", "subset=1,2" }, spec) end),
           "subset=1,2: expected one value, an integer >= 1")
  check.eq(usage_error(function() siam.args({ "models=a", "threshold=0.4" }, spec) end),
           "threshold=0.4: expected threshold=val or threshold=0.5")
  check.eq(usage_error(function() siam.args({ "models=a", "data=big" }, spec) end),
           "data=big: expected data=tiny")
  check.eq(usage_error(function() siam.args({ "models=a", "out=bad" }, spec) end), "out=bad: no")
end)

test("numbers must be finite; booleans true or false; every value is shown escaped", function()
  local spec = { lr = 0.1, on = true, model = { "paper", "small" } }
  for _, w in ipairs { "nan", "inf", "1e999", "-1e999", "abc", "" } do
    check.eq(usage_error(function() siam.args({ "lr=" .. w }, spec) end),
             "lr=" .. w .. ": expected a number")
  end
  check.eq(usage_error(function() siam.args({ "on=1" }, spec) end), "on=1: expected true or false")
  check.eq(usage_error(function() siam.args({ "model=\27[2J" }, spec) end),
           "model=\\x1b[2J: expected model=paper or model=small")
end)

test("unknown keys: a near miss is suggested, else the known keys listed", function()
  local spec = { batch = 32, epochs = 1, lr = 0.1 }
  check.eq(usage_error(function() siam.args({ "bacth=3" }, spec) end),
           "unknown argument 'bacth'; did you mean 'batch'?")
  check.eq(usage_error(function() siam.args({ "epoch=3" }, spec) end),
           "unknown argument 'epoch'; did you mean 'epochs'?")
  check.eq(usage_error(function() siam.args({ "size=3" }, spec) end),
           "unknown argument 'size' (known: batch, epochs, lr)")
  check.eq(usage_error(function() siam.args({ "fast" }, spec) end),
           "bad argument 'fast': expected key=value (e.g. lr=0.005 or batch=16,32)")
end)

test("a bad declaration is the script's bug, named", function()
  check.error("bad argument #2 to 'args' (key 'x': no default, type or allowed values)",
              function() siam.args({}, { x = { min = 1 } }) end)
  check.error("bad argument #2 to 'args' (key 'x': unknown type 'int')",
              function() siam.args({}, { x = { type = "int" } }) end)
  check.error("bad argument #2 to 'args' (key 'x': no allowed values)",
              function() siam.args({}, { x = { type = "choice" } }) end)
  check.error("bad argument #1 to 'args' (word 1 is a number, expected key=value)",
              function() siam.args({ 3 }, { x = 1 }) end)
  -- a list of names is still the plain parser's
  check.eq(siam.args({ "batch=3" }, { "batch" }), { batch = 3 })
end)

test("--help: the keys, their types, defaults and descriptions, sorted", function()
  local argspec = require "siam.argspec"
  local text = argspec.help({ epochs = { 4, min = 1, help = "epochs to train" },
                              head = { { "rich", "l1" }, help = "distance head" },
                              subset = { type = "integer", min = 1 },
                              lr = { default = { 0.1, 0.2 }, list = true, min = 0 } },
                            "Trains a thing.", "experiments/x.lua")
  check.eq(text, "usage: siamlua experiments/x.lua [key=value ...]\n"
                 .. "Trains a thing.\n"
                 .. "\n"
                 .. "keys (key=value):\n"
                 .. "  epochs  integer >= 1               4        epochs to train\n"
                 .. "  head    rich|l1                    rich     distance head\n"
                 .. "  lr      number >= 0, a comma list  0.1,0.2\n"
                 .. "  subset  integer >= 1               -\n")
end)
