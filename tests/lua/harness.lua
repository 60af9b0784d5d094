-- The Lua test harness: `siamlua tests/lua/harness.lua tests/lua/test_X.lua`.
-- A test file registers tests with test(name, fn) and asserts with the
-- check.* functions below; each test runs under pcall, and the last line
-- printed is "lua: N passed, N failed" (", N skipped" when some were
-- skipped), which tests/run.sh counts. The exit status is 1 when any failed.

local harness = {}

local tests = {}

local function test(name, fn)
  assert(type(name) == "string", "test(name, fn): name must be a string")
  assert(type(fn) == "function", "test(name, fn): fn must be a function")
  tests[#tests + 1] = { name = name, fn = fn }
end

-- A skip is raised as this table so that it is not mistaken for a failure.
local SKIP = {}

local function skip(reason)
  error(setmetatable({ reason = reason }, SKIP), 0)
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts, n = {}, 0
  for k, x in pairs(v) do
    n = n + 1
    if n > 20 then parts[#parts + 1] = "..." break end
    parts[#parts + 1] = (type(k) == "number" and "" or tostring(k) .. "=") .. show(x)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep_equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- Strips the "chunk:line: " position that luaL_error and error() prepend.
local function strip_position(msg)
  return (tostring(msg):gsub("^[^\n:]+:%d+: ", "", 1))
end

local check = {}

function check.eq(actual, expected, what)
  if not deep_equal(actual, expected) then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "",
                        show(expected), show(actual)), 2)
  end
end

function check.truthy(v, what)
  if not v then error((what or "value") .. " is " .. tostring(v), 2) end
end

-- |actual - expected| <= tol (default 1e-6 relative to max(1, |expected|)).
function check.near(actual, expected, tol, what)
  tol = tol or 1e-6 * math.max(1, math.abs(expected))
  if type(actual) ~= "number" or math.abs(actual - expected) > tol then
    error(string.format("%sexpected %.9g (tol %g), got %s", what and (what .. ": ") or "",
                        expected, tol, tostring(actual)), 2)
  end
end

-- fn(...) must raise an error whose message, position removed, is exactly
-- `expected`. Returns the full message.
function check.error(expected, fn, ...)
  local ok, msg = pcall(fn, ...)
  if ok then error("expected an error: " .. expected, 2) end
  if strip_position(msg) ~= expected then
    error(string.format("wrong error\n  expected: %s\n  got:      %s", expected,
                        tostring(msg)), 2)
  end
  return msg
end

-- The same with a Lua pattern searched in the full message.
function check.error_match(pattern, fn, ...)
  local ok, msg = pcall(fn, ...)
  if ok then error("expected an error matching " .. pattern, 2) end
  if not tostring(msg):find(pattern) then
    error(string.format("wrong error\n  pattern: %s\n  got:     %s", pattern, tostring(msg)), 2)
  end
  return msg
end

-- s must contain the plain substring sub.
function check.contains(s, sub, what)
  if type(s) ~= "string" or not s:find(sub, 1, true) then
    error(string.format("%sexpected %s to contain %s", what and (what .. ": ") or "",
                        show(s), show(sub)), 2)
  end
end

-- The interpreter running this harness (argv[0]): tests start it again.
local function interpreter()
  local env = os.getenv("SIAMLUA")
  if env and env ~= "" then return env end
  local i = 0
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

harness.test, harness.skip, harness.check = test, skip, check
harness.strip_position, harness.show = strip_position, show
harness.interpreter = interpreter()

local file = arg[1]
if not file then
  io.stderr:write("usage: siamlua tests/lua/harness.lua tests/lua/test_X.lua\n")
  print("lua: 0 passed, 1 failed")
  os.exit(1)
end
harness.file = file
harness.dir = file:match("^(.*)/[^/]*$") or "."

-- Test files see the harness functions as globals, on top of _G.
local env = setmetatable({ test = test, skip = skip, check = check, harness = harness },
                         { __index = _G })
local chunk, err = loadfile(file, "t", env)
if not chunk then
  print("FAIL loading " .. file .. ": " .. err)
  print("lua: 0 passed, 1 failed")
  os.exit(1)
end
local ok, lerr = xpcall(chunk, debug.traceback, table.unpack(arg, 2))
if not ok then
  print("FAIL running " .. file .. ": " .. tostring(lerr))
  print("lua: 0 passed, 1 failed")
  os.exit(1)
end

local passed, failed, skipped = 0, 0, 0
for _, t in ipairs(tests) do
  local tok, terr = xpcall(t.fn, function(e)
    if getmetatable(e) == SKIP then return e end
    return debug.traceback(tostring(e), 2)
  end)
  if tok then
    passed = passed + 1
    print("ok   " .. t.name)
  elseif getmetatable(terr) == SKIP then
    skipped = skipped + 1
    print("skip " .. t.name .. ": " .. tostring(terr.reason))
  else
    failed = failed + 1
    print("FAIL " .. t.name .. ": " .. tostring(terr))
  end
end
if skipped > 0 then
  print(string.format("lua: %d passed, %d failed, %d skipped", passed, failed, skipped))
else
  print(string.format("lua: %d passed, %d failed", passed, failed))
end
os.exit(failed == 0 and 0 or 1)
