-- siam.args(words, spec[, about]): a script's key=value arguments checked
-- against one declaration of its keys, which also makes its --help. The C
-- siam.args hands a spec (a table with named keys) to this module; a list
-- of names stays the C parser's. Errors reach the user as one line without
-- a traceback: they are raised as objects with __tostring, which siamlua
-- (as lua.c) prints alone.
--
-- A key is declared by its default, whose type is the key's (an integer
-- default makes an integer key, 1e-4 a number, "x" text, true a boolean),
-- or by a list of allowed values, the first the default:
--   siam.args(arg, {epochs = 50, head = {"rich", "l1"}, lr = 1e-4})
-- or by a table for more: [1] the default (or, a table, the allowed
-- values), type = "integer"|"number"|"text"|"boolean" (when the default
-- does not say it: ema = {0, type = "number"}), min, max, below (an
-- exclusive maximum), choices (the allowed values, with no default unless
-- `default` or [1] gives one), list = true (a comma list; the value is
-- always a list), required = true, help (one line for --help), expect
-- (what an error says is expected, instead of the text made from the
-- declaration), check (function(value, opts) -> nil or a message, run on
-- each key that has a value, given or default, once every key is read).
-- A key declared with no default (a table without [1] or default, e.g.
-- subset = {type = "integer", min = 1}) is optional: nil unless given.
-- Lua tables hold no nil, so that is also how a nil default is written.
local argspec = {}

local TYPES = { integer = true, number = true, text = true, boolean = true, choice = true }

-- A usage error: one line, no traceback, exit status 1.
local usage_mt = { __tostring = function(e) return e.message end }
local function usage(msg)
  error(setmetatable({ message = msg }, usage_mt), 0)
end

-- What siamlua is asked to end with after --help: status 0 and nothing
-- more printed (bindings/main.c looks for siam_exit).
local exit_mt = { __tostring = function() return "(--help printed; nothing run)" end }

-- A declaration's error: the script's own bug, raised at its call.
local function bad_spec(name, msg)
  error("bad argument #2 to 'args' (key '" .. name .. "': " .. msg .. ")", 0)
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" then return false end
    n = n + 1
  end
  return n > 0 and n == #t
end

local function type_of(v)
  if math.type(v) == "integer" then return "integer" end
  if math.type(v) == "float" then return "number" end
  if type(v) == "string" then return "text" end
  if type(v) == "boolean" then return "boolean" end
  return nil
end

-- The type of a list default: a number list when any is a float.
local function list_type(values)
  local t
  for _, v in ipairs(values) do
    local ty = type_of(v)
    if t == nil or (t == "integer" and ty == "number") then t = ty
    elseif not (t == "number" and ty == "integer") and ty ~= t then return nil end
  end
  return t
end

-- One declaration in its full form.
local function declare(name, d)
  local decl = { name = name }
  if type(d) ~= "table" then
    decl.default = d
  elseif is_array(d) and #d > 0 and type(d[1]) ~= "table" then
    decl.choices, decl.default = d, d[1]
  else
    for k, v in pairs(d) do decl[k] = v end
    decl[1] = nil
    if type(d[1]) == "table" then
      decl.choices = d[1]
      if decl.default == nil then decl.default = d[1][1] end
    elseif d[1] ~= nil then
      decl.default = d[1]
    end
  end
  if decl.choices or decl.type == "choice" then
    if type(decl.choices) ~= "table" or #decl.choices == 0 then bad_spec(name, "no allowed values") end
    decl.type = "choice"
  elseif decl.type == nil then
    if decl.list and type(decl.default) == "table" then
      decl.type = list_type(decl.default)
    else
      decl.type = type_of(decl.default)
    end
    if decl.type == nil then bad_spec(name, "no default, type or allowed values") end
  end
  if not TYPES[decl.type] then bad_spec(name, "unknown type '" .. tostring(decl.type) .. "'") end
  if decl.list and decl.default ~= nil and type(decl.default) ~= "table" then
    decl.default = { decl.default }
  end
  return decl
end

-- A word's value as the C parser reads it: a number, true/false, else text.
local function parse(text)
  local n = tonumber(text)
  if n ~= nil then return n end
  if text == "true" then return true end
  if text == "false" then return false end
  return text
end

local function range(decl, what)
  if decl.min and (decl.max or decl.below) then
    return string.format("%s in [%s, %s%s", what, decl.min, decl.max or decl.below,
                         decl.below and ")" or "]")
  elseif decl.min then
    return string.format("%s >= %s", what, decl.min)
  elseif decl.max or decl.below then
    return string.format("%s %s %s", what, decl.below and "<" or "<=", decl.max or decl.below)
  end
  return what
end

-- What a declaration accepts, in words, as errors say it.
local function expected(decl)
  if decl.expect then return decl.expect end
  local ty = decl.type
  if ty == "choice" then
    local c = decl.choices
    if #c == 1 then return decl.name .. "=" .. tostring(c[1]) end
    if #c == 2 then
      return string.format("%s=%s or %s=%s", decl.name, tostring(c[1]), decl.name, tostring(c[2]))
    end
    local names = {}
    for i, v in ipairs(c) do names[i] = tostring(v) end
    return "one of " .. table.concat(names, ", ")
  elseif ty == "boolean" then
    return "true or false"
  elseif ty == "text" then
    return "text"
  end
  return range(decl, ty == "integer" and "an integer" or "a number")
end

-- One value checked against its declaration; nil when it does not fit.
local function value_of(decl, text)
  local ty = decl.type
  if ty == "text" then return text end
  local v = parse(text)
  if ty == "choice" then
    for _, c in ipairs(decl.choices) do
      if tostring(v) == tostring(c) then return c end
    end
    return nil
  end
  if ty == "boolean" then
    if type(v) == "boolean" then return v end
    return nil
  end
  if math.type(v) == nil or v ~= v or v == math.huge or v == -math.huge then return nil end
  if ty == "integer" and math.type(v) ~= "integer" then return nil end
  if (decl.min and v < decl.min) or (decl.max and v > decl.max)
     or (decl.below and v >= decl.below) then
    return nil
  end
  return v
end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- The closest declared name within two edits (and under half the word).
local function nearest(key, names)
  local best, best_d
  for _, n in ipairs(names) do
    local d = distance(key, n)
    if d <= 2 and d < math.max(#key, #n) / 2 + 0.5 and (best_d == nil or d < best_d) then
      best, best_d = n, d
    end
  end
  return best
end

local function escape(s)
  if siam and siam.io and siam.io.escape then return siam.io.escape(s) end
  return (s:gsub("[%c\127]", function(c) return string.format("\\x%02x", c:byte()) end))
end

local function shown_default(decl)
  local d = decl.default
  if decl.required then return "(required)" end
  if d == nil then return "-" end
  if type(d) == "table" then
    local parts = {}
    for i, v in ipairs(d) do parts[i] = tostring(v) end
    return table.concat(parts, ",")
  end
  if d == "" then return '""' end
  return tostring(d)
end

local function accepts(decl)
  local s
  if decl.type == "choice" then
    local names = {}
    for i, v in ipairs(decl.choices) do names[i] = tostring(v) end
    s = table.concat(names, "|")
  elseif decl.type == "integer" or decl.type == "number" then
    s = range(decl, decl.type)
  elseif decl.type == "boolean" then
    s = "true|false"
  else
    s = "text"
  end
  if decl.list then s = s .. ", a comma list" end
  return s
end

-- The declarations of a spec, sorted by name.
local function declarations(spec)
  local decls, names = {}, {}
  for name, d in pairs(spec) do
    if type(name) ~= "string" then
      error("bad argument #2 to 'args' (a spec's keys are names, got " .. type(name) .. ")", 0)
    end
    names[#names + 1] = name
  end
  table.sort(names)
  for i, name in ipairs(names) do decls[i] = declare(name, spec[name]) end
  return decls, names
end

-- about: the script's one-line purpose, or {about = ..., usage = ...}.
local function about_of(about)
  if type(about) == "table" then return about.about, about.usage end
  return about, nil
end

-- The --help text of a spec.
function argspec.help(spec, about, script)
  local decls = declarations(spec)
  local purpose, form = about_of(about)
  local lines = { string.format("usage: siamlua %s %s", script or "script.lua",
                                form or "[key=value ...]") }
  if purpose then lines[#lines + 1] = purpose end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "keys (key=value):"
  local rows, w = {}, { 0, 0, 0 }
  for i, d in ipairs(decls) do
    rows[i] = { d.name, accepts(d), shown_default(d), d.help or "" }
    for j = 1, 3 do w[j] = math.max(w[j], #rows[i][j]) end
  end
  for _, r in ipairs(rows) do
    local line = string.format("  %-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %s",
                               r[1], r[2], r[3], r[4])
    lines[#lines + 1] = (line:gsub("%s+$", ""))
  end
  return table.concat(lines, "\n") .. "\n"
end

-- siam.args(words, spec[, about]) -> opts (see the top of this file).
function argspec.parse(words, spec, about)
  if type(words) ~= "table" then
    error("bad argument #1 to 'args' (table expected, got " .. type(words) .. ")", 0)
  end
  local decls, names = declarations(spec)
  local by_name = {}
  for _, d in ipairs(decls) do by_name[d.name] = d end
  local script = type(words[0]) == "string" and words[0] or nil

  local given = {}
  for i = 1, #words do
    local w = words[i]
    if type(w) ~= "string" then
      error(string.format("bad argument #1 to 'args' (word %d is a %s, expected key=value)", i,
                          type(w)), 0)
    end
    if w == "--help" or w == "-h" then
      io.stdout:write(argspec.help(spec, about, script))
      io.stdout:flush()
      error(setmetatable({ siam_exit = 0 }, exit_mt), 0)
    end
  end
  for i = 1, #words do
    local w = words[i]
    local key, text = w:match("^([^=]+)=(.*)$")
    if key == nil then
      usage("bad argument '" .. escape(w) .. "': expected key=value (e.g. lr=0.005 or batch=16,32)")
    end
    if by_name[key] == nil then
      local near = nearest(key, names)
      if near then
        usage(string.format("unknown argument '%s'; did you mean '%s'?", escape(key), near))
      end
      usage(string.format("unknown argument '%s' (known: %s)", escape(key),
                          table.concat(names, ", ")))
    end
    given[key] = text -- the last word giving a key wins
  end

  local opts = {}
  for _, d in ipairs(decls) do
    local text = given[d.name]
    if text == nil then
      if d.required then
        usage(string.format("%s= is required: %s", d.name, d.help or expected(d)))
      end
      local v = d.default
      if type(v) == "table" then
        local copy = {}
        for i, x in ipairs(v) do copy[i] = x end
        v = copy
      end
      opts[d.name] = v
    else
      local shown = d.name .. "=" .. escape(text)
      if d.list then
        local values, n = {}, 0
        for part in (text .. ","):gmatch("([^,]*),") do
          n = n + 1
          values[n] = value_of(d, part)
          if values[n] == nil then
            usage(shown .. ": expected " .. expected(d) .. (text:find(",") and " for each value" or ""))
          end
        end
        opts[d.name] = values
      else
        if d.type ~= "text" and text:find(",") then
          usage(shown .. ": expected one value, " .. expected(d))
        end
        local v = value_of(d, text)
        if v == nil then usage(shown .. ": expected " .. expected(d)) end
        opts[d.name] = v
      end
    end
  end
  for _, d in ipairs(decls) do
    if d.check and opts[d.name] ~= nil then
      local msg = d.check(opts[d.name], opts)
      if msg then usage(msg) end
    end
  end
  return opts
end

return argspec
