-- siam.repl, what the REPL prints, completes and looks up (the REPL itself,
-- on a terminal, is tested in test_interpreter.lua).

local repl = require "siam.repl"

local function tiny_model()
  return siam.model { size = 48, channels = { 4, 4, 4, 4 }, kernels = { 7, 5, 3, 3 }, fc = 8,
                      device = "cpu" }
end

test("format: scalars as print shows them, tables with their contents", function()
  check.eq(repl.format(3), 3)
  check.eq(repl.format("raw text"), "raw text")
  check.eq(repl.format(nil), nil)
  check.eq(repl.format({}), "{}")
  check.eq(repl.format({ 1, 2.5, "a\nb", true }), '{1, 2.5, "a\\nb", true}')
  check.eq(repl.format({ b = 2, a = 1, [10] = "x", ["not a name"] = 0, ["end"] = 1 }),
           '{[10] = "x", a = 1, b = 2, ["end"] = 1, ["not a name"] = 0}')
  check.eq(repl.format({ 1, { 2, { x = "y" } } }), '{1, {2, {x = "y"}}}')
end)

test("format: depth and length limits, cycles marked", function()
  check.eq(repl.format({ 1, { 2, { 3, { 4 } } } }), "{1, {2, {3, {...}}}}")
  local t = { name = "loop" }
  t.self = t
  t.list = { t }
  check.eq(repl.format(t), '{list = {<cycle>}, name = "loop", self = <cycle>}')
  -- A table seen twice but not inside itself is shown twice.
  local shared = { 1 }
  check.eq(repl.format({ shared, shared }), "{{1}, {1}}")
  local big = {}
  for i = 1, 45 do big[i] = i end
  local s = repl.format(big)
  check.contains(s, "\n  1, 2, 3, 4, 5,")
  check.contains(s, "39, 40, ... (5 more),\n}")
  check.truthy(not s:find("41"), "entries past the limit are not shown")
  for line in s:gmatch("[^\n]+") do check.truthy(#line <= repl.width, line) end
end)

test("format: long tables go one entry per line, nested ones indented", function()
  local s = repl.format({ alpha = string.rep("a", 40), beta = { gamma = string.rep("g", 60) } })
  check.eq(s, '{\n  alpha = "' .. string.rep("a", 40) .. '",\n  beta = {\n    gamma = "' ..
              string.rep("g", 60) .. '",\n  },\n}')
end)

test("format: siam objects by their __tostring, inside tables too", function()
  local t = siam.tensor { 1, 2 }
  check.eq(repl.format(t), t)
  check.eq(repl.format({ t = t }), "{t = siam.Tensor (2) {1, 2}}")
  local m = tiny_model()
  check.eq(repl.format({ m }), "{\n  " .. tostring(m) .. ",\n}")
  local obj = setmetatable({}, { __tostring = function() return "custom!" end })
  check.eq(repl.format(obj), obj)
  check.eq(repl.format({ obj }), "{custom!}")
  local bad = setmetatable({}, { __tostring = function() error("no", 0) end })
  check.eq(repl.format({ bad }), "{<__tostring failed: no>}")
end)

test("format: __pairs is followed (siam.config shows its keys)", function()
  local s = repl.format(siam.config)
  check.contains(s, 'device = "auto"')
  check.contains(s, "seed = 0")
end)

test("print: the values, formatted, through the global print", function()
  local seen
  local old = _G.print
  _G.print = function(...) seen = table.pack(...) end
  local ok, err = pcall(repl.print, 1, { 2 }, nil, "s")
  _G.print = old
  check.truthy(ok, err)
  check.eq(seen, { 1, "{2}", nil, "s", n = 4 })
end)

test("complete: globals, keywords, fields of siam and its tables", function()
  local env = { alpha = 1, alpine = 2, beta = 3, siam = siam }
  check.eq(repl.complete("al", env), { "alpha", "alpine" })
  check.eq(repl.complete("whi", env), { "while" })
  check.eq(repl.complete("siam.optim.", env), { "siam.optim.adam", "siam.optim.adamw",
                                                  "siam.optim.sgd" })
  check.eq(repl.complete("siam.fi", env), { "siam.fit" })
  check.eq(repl.complete("siam.config.se", env), { "siam.config.seed" })
  check.eq(repl.complete("nothing.her", env), {})
  check.eq(repl.complete("alpha.x", env), {})
  check.eq(repl.complete("(", env), {})
  -- Without env, the globals: the REPL's case.
  check.truthy(#repl.complete("siam.mod") == 1, "siam.model from _G")
end)

test("complete: methods after ':' from the metatable's __index", function()
  local env = { m = tiny_model(), t = siam.tensor { 1 } }
  check.eq(repl.complete("m:", env), { "m:close", "m:eval", "m:forward", "m:parameter",
                                       "m:parameters", "m:save", "m:train" })
  check.eq(repl.complete("m:par", env), { "m:parameter", "m:parameters" })
  check.eq(repl.complete("m.fo", env), { "m.forward" })
  local tm = repl.complete("t:", env)
  check.truthy(#tm > 5, "tensor methods: " .. #tm)
  check.eq(repl.complete("t:su", env), { "t:sub", "t:sum" })
  -- A table with a plain __index table (a Lua class) works the same way.
  local Class = { speak = function() end, name = "x" }
  env.obj = setmetatable({ own = function() end }, { __index = Class })
  check.eq(repl.complete("obj:", env), { "obj:own", "obj:speak" })
end)

test("complete: an __index that raises gives no completions, not an error", function()
  local env = { bad = setmetatable({}, { __index = function() error("boom") end }) }
  check.eq(repl.complete("bad.x.y", env), {})
end)

test("entry: a bold entry, a table row, a method, a section", function()
  local doc = require "siam.api_doc"
  check.eq(type(doc), "string")
  check.contains(doc, "# siamlua Lua API reference")
  local fit = repl.entry(doc, "siam.fit")
  check.truthy(fit:find("^%*%*`siam.fit%(model, optimizer, train%[, opts%]%)`%*%*"), fit)
  check.contains(fit, "| `epochs` | `1` |")
  check.truthy(not fit:find("\n## "), "stops before the next section")
  local adam = repl.entry(doc, "siam.optim.adam")
  check.eq(select(2, adam:gsub("\n", "")), 2, "header, rule, one row")
  check.contains(adam, "| `siam.optim.adam{...}` | `lr` (1e-3)")
  local fwd = repl.entry(doc, ":forward")
  check.contains(fwd, "| `m:forward(set)` |")
  check.contains(fwd, "| `m:forward(a, b)` |")
  check.eq(repl.entry(doc, "siam.no_such_thing"), nil)
end)

test("help: by function, by name, for a method; unknown ones say so", function()
  local lines = {}
  local old = _G.print
  _G.print = function(s) lines[#lines + 1] = s end
  local ok, err = pcall(function()
    repl.help(siam.fit)
    repl.help("siam.optim.adam")
    repl.help(tiny_model().forward)
    repl.help(print)
    repl.help("siam.nope")
    repl.help()
  end)
  _G.print = old
  check.truthy(ok, err)
  check.truthy(lines[1]:find("^%*%*`siam.fit%("), lines[1])
  check.contains(lines[2], "`siam.optim.adam{...}`")
  check.contains(lines[3], "`m:forward(set)`")
  check.truthy(lines[4]:find("is not a siam function or method"), lines[4])
  check.eq(lines[5], "help: docs/api.md has no entry for siam.nope")
  check.contains(lines[6], "help(siam.fit)")
end)
