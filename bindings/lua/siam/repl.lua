-- What siamlua's REPL adds to lua.c's, in Lua so that it can be tested
-- directly: the printing of results (tables shown with their contents, as
-- th does), the candidates for Tab completion, and help(). The loop itself,
-- line editing and Ctrl-C are bindings/repl.c's.
--   local repl = require "siam.repl"
--   repl.format(v)          -> the text the REPL prints for one value
--   repl.print(...)         prints the values with the global print
--   repl.complete(word)     -> sorted completions of "siam.fi", "m:fo", "pri"
--   repl.help(f_or_name)    prints f's entry from docs/api.md
local repl = {}

-- How much of a table is shown: nested tables to this depth, this many
-- entries per table, one line when it fits in this width.
repl.depth, repl.items, repl.width = 3, 40, 72

local function is_name(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do keywords[w] = true end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

-- The value's __tostring text, or nil when it has none.
local function custom(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") ~= nil then
    local ok, s = pcall(tostring, v)
    return ok and tostring(s) or ("<__tostring failed: " .. tostring(s) .. ">")
  end
  return nil
end

-- Keys in a stable order: 1..n first, then numbers, strings, the rest.
local rank = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ra, rb = rank[type(a)] or 4, rank[type(b)] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local render

local function render_table(t, depth, path, indent)
  if path[t] then return "<cycle>" end
  if depth > repl.depth then return "{...}" end
  local keys = {}
  local ok = pcall(function()
    for k in pairs(t) do keys[#keys + 1] = k end
  end)
  if not ok then return tostring(t) end
  if #keys == 0 then return "{}" end
  table.sort(keys, key_less)
  path[t] = true
  local n = rawlen(t)
  local parts, multi, total = {}, false, 0
  for i, k in ipairs(keys) do
    if i > repl.items then
      parts[#parts + 1] = string.format("... (%d more)", #keys - repl.items)
      break
    end
    local v = rawget(t, k)
    if v == nil then v = t[k] end
    local shown = render(v, depth + 1, path, indent .. "  ")
    local entry
    if math.type(k) == "integer" and k >= 1 and k <= n then
      entry = shown
    elseif is_name(k) and not keywords[k] then
      entry = k .. " = " .. shown
    else
      entry = "[" .. render(k, depth + 1, path, indent .. "  ") .. "] = " .. shown
    end
    if entry:find("\n") then multi = true end
    total = total + #entry + 2
    parts[#parts + 1] = entry
  end
  path[t] = nil
  if not multi and total + #indent <= repl.width then
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  -- Several one-line entries share a line up to the width (a long array
  -- stays readable); an entry of several lines has its own.
  local inner = indent .. "  "
  local lines, cur = {}, nil
  for _, p in ipairs(parts) do
    if cur and not multi and #inner + #cur + 2 + #p + 1 <= repl.width then
      cur = cur .. ", " .. p
    else
      if cur then lines[#lines + 1] = cur end
      cur = p
    end
  end
  lines[#lines + 1] = cur
  return "{\n" .. inner .. table.concat(lines, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

render = function(v, depth, path, indent)
  local s = custom(v)
  if s then return s end
  local ty = type(v)
  if ty == "string" then return quote(v) end
  if ty == "table" then return render_table(v, depth, path, indent) end
  return tostring(v)
end

-- The text for one value: as print shows it, except tables (contents,
-- nested to repl.depth, repl.items entries each, a table inside itself as
-- <cycle>); anything with __tostring (a siam.Model, a siam.Tensor) by it.
function repl.format(v)
  if type(v) == "table" and not custom(v) then return render_table(v, 1, {}, "") end
  return v
end

function repl.print(...)
  local n = select("#", ...)
  local out = table.pack(...)
  for i = 1, n do out[i] = repl.format(out[i]) end
  print(table.unpack(out, 1, n))
end

-- ---- completion -------------------------------------------------------------

-- The methods table of a siam userdata or class table: its metatable's
-- __index when that is a table, or the first upvalue of an __index function
-- (bindings/util.c, siam_lua_newclass, keeps the methods there).
local function methods_in(mt)
  if type(mt) ~= "table" then return nil end
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  if type(index) == "function" and debug and debug.getupvalue then
    local _, up = debug.getupvalue(index, 1)
    if type(up) == "table" then return up end
  end
  return nil
end

local function methods_of(v)
  return methods_in(getmetatable(v))
end

local function add_names(into, t, only_functions)
  if type(t) ~= "table" then return end
  pcall(function()
    for k, v in pairs(t) do
      if is_name(k) and (not only_functions or type(v) == "function") then into[k] = true end
    end
  end)
end

-- a.b.c -> the value, looked up field by field (no code is run but
-- __index); nil when a step is missing.
local function resolve(path, env)
  local v = env
  for name in path:gmatch("[^.]+") do
    if not is_name(name) then return nil end
    local ok, x = pcall(function() return v[name] end)
    if not ok or x == nil then return nil end
    v = x
  end
  return v
end

-- The completions of the word before the cursor: a global name (or a
-- keyword), a field after "a.b." or a method after "obj:"; sorted, each the
-- whole word.
function repl.complete(word, env)
  env = env or _G
  local path, sep, partial = word:match("^([%a_][%w_.]*)([.:])([%w_]*)$")
  local names = {}
  if path then
    local v = resolve(path, env)
    if v == nil then return {} end
    if sep == ":" then
      add_names(names, methods_of(v), true)
      if type(v) == "table" then add_names(names, v, true) end
    else
      if type(v) == "table" then add_names(names, v, false) end
      add_names(names, methods_of(v), false)
    end
  else
    partial = word:match("^[%a_][%w_]*$")
    if not partial then return {} end
    path, sep = "", ""
    add_names(names, env, false)
    add_names(names, methods_of(env), false) -- an environment over _G
    for k in pairs(keywords) do names[k] = true end
  end
  local out = {}
  for name in pairs(names) do
    if name:sub(1, #partial) == partial then out[#out + 1] = path .. sep .. name end
  end
  table.sort(out)
  return out
end

-- ---- help --------------------------------------------------------------------

-- The name docs/api.md gives a function: "siam.fit", "siam.optim.adam", or
-- for a method ":forward" (the reference writes m:forward, set:split ...).
local function name_of(f)
  local siam = package.loaded.siam
  local seen = {}
  local function walk(t, prefix, depth)
    if seen[t] or depth > 3 then return nil end
    seen[t] = true
    for k, v in pairs(t) do
      if is_name(k) then
        if rawequal(v, f) then return prefix .. k end
        if type(v) == "table" then
          local found = walk(v, prefix .. k .. ".", depth + 1)
          if found then return found end
        end
      end
    end
    return nil
  end
  local found = type(siam) == "table" and walk(siam, "siam.", 1)
  if found then return found end
  for _, mt in pairs(debug.getregistry()) do
    if type(mt) == "table" and type(rawget(mt, "__name")) == "string" then
      local methods = methods_in(mt)
      if methods then
        for k, v in pairs(methods) do
          if rawequal(v, f) then return ":" .. k end
        end
      end
    end
  end
  return nil
end

local function escape(s)
  return (s:gsub("%p", "%%%0"))
end

-- The entry for `name` in the reference: the paragraph that starts with it
-- in bold (up to the next bold entry or heading), else the table rows that
-- start with it (under their table's header), else the section whose
-- heading names it.
function repl.entry(doc, name)
  local lines = {}
  for line in (doc .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local what = name:sub(1, 1) == ":" and ("[%a_][%w_]*" .. escape(name)) or escape(name)
  local stop = "[%({%[`%s]"
  for i, line in ipairs(lines) do
    if line:match("^%*%*`" .. what .. stop) then
      local j = i + 1
      while lines[j] and not lines[j]:match("^#") and not lines[j]:match("^%*%*`") do j = j + 1 end
      while j > i + 1 and lines[j - 1] == "" do j = j - 1 end
      return table.concat(lines, "\n", i, j - 1)
    end
  end
  local rows = {}
  for i, line in ipairs(lines) do
    if line:match("^| `" .. what .. stop) then
      if #rows == 0 then
        local h = i
        while h > 1 and lines[h - 1]:match("^|") do h = h - 1 end
        rows[1], rows[2] = lines[h], lines[h + 1]
      end
      rows[#rows + 1] = line
    end
  end
  if #rows > 0 then return table.concat(rows, "\n") end
  for i, line in ipairs(lines) do
    local level = line:match("^(#+) ")
    if level and line:match("[%s`]" .. what .. "[%s`(]") or (level and line:match(" " .. what .. "$")) then
      local j = i + 1
      while lines[j] and not (lines[j]:match("^(#+) ") and #lines[j]:match("^(#+) ") <= #level) do
        j = j + 1
      end
      return table.concat(lines, "\n", i, j - 1)
    end
  end
  return nil
end

local usage = [[
help(f) prints the entry of a siam function from the API reference (docs/api.md):
  help(siam.fit)  help(siam.optim.adam)  help(m.forward)  help("siam.model")
Tab completes names, fields (siam.<Tab>) and methods (m:<Tab>).]]

-- help(f) or help("siam.fit"): the entry from docs/api.md (compiled in).
function repl.help(what)
  if what == nil then
    print(usage)
    return
  end
  local name = type(what) == "string" and what or name_of(what)
  if not name then
    print("help: " .. tostring(what) .. " is not a siam function or method (help() says more)")
    return
  end
  local entry = repl.entry(require "siam.api_doc", name)
  print(entry or ("help: docs/api.md has no entry for " .. name))
end

return repl
