-- siam.so, the Lua C module: loaded by Debian's stock lua5.4 (-l siam and
-- require) and by a C program that embeds Lua, the one docs/embedding.md
-- shows (extracted from the document, built and run here, so the document
-- cannot go stale).

local support = dofile(harness.dir .. "/support.lua")
local shq = support.shq

-- The module sits beside the interpreter under test (./siam.so beside
-- ./siamlua, build-san/siam.so beside build-san/siamlua).
local interp = harness.interpreter
if interp:sub(1, 1) ~= "/" then interp = os.getenv("PWD") .. "/" .. interp end
local moddir = interp:match("^(.*)/[^/]*$")
local SO = moddir .. "/siam.so"

local function has_command(name)
  return os.execute("command -v " .. name .. " >/dev/null 2>&1") == true
end

-- Why the module cannot be tried here, or nil.
local function unusable()
  if not has_command("lua5.4") then return "lua5.4 is not installed (scripts/deps.sh)" end
  if os.getenv("SAN") == "1" then
    return "a sanitizer build's siam.so cannot be loaded by a stock lua5.4"
  end
  if not support.read(SO) then return SO .. " is not built (make)" end
  return nil
end

-- Runs a shell command line; returns stdout, stderr and the exit status.
local function sh(cmdline)
  local out, err = os.tmpname(), os.tmpname()
  local _, _, code = os.execute(string.format("%s >%s 2>%s </dev/null", cmdline, shq(out),
                                              shq(err)))
  local o, e = support.read(out) or "", support.read(err) or ""
  os.remove(out)
  os.remove(err)
  return o, e, code
end

-- lua5.4 with only the module under test on its C path.
local function lua(args, env)
  local why = unusable()
  if why then skip(why) end
  return sh(string.format("LUA_CPATH=%s %s lua5.4 %s", shq(moddir .. "/?.so"), env or "", args))
end

test("lua5.4 -l siam: the global siam, a model from siam.model{}", function()
  local out, err, code = lua([[-l siam -e 'print(siam.version, siam.model{size = 48, ]] ..
    [[channels = {4, 4, 4, 4}, kernels = {7, 5, 3, 3}, fc = 8})']])
  check.eq({ err, code }, { "", 0 })
  check.eq(out, siam.version .. "\tsiam.Model(48x48, conv 4/4/4/4, fc 8, 981 parameters, " ..
                "dropout 0.0, init paper, cpu, training)\n")
end)

test("require 'siam' returns the module, once; the Lua-written parts and config come with it",
     function()
  local out, err, code = lua([[-e 'local s = require "siam" ]] ..
    [[print(s == require "siam", rawget(_G, "siam") == nil, s.version, s.config.device, ]] ..
    [[s.config.seed, type(require("siam.json").encode), type(require("siam.run")))']])
  check.eq({ err, code }, { "", 0 })
  check.eq(out, "true\ttrue\t" .. siam.version .. "\tauto\t0\tfunction\ttable\n")
end)

test("errors from the module are ordinary Lua errors", function()
  local out, err, code = lua([[-l siam -e 'print(pcall(siam.model, {init = "xavier"}))']])
  check.eq({ err, code }, { "", 0 })
  check.eq(out, "false\tbad argument #1 to 'siam.model' (option 'init' must be one of " ..
                "'paper', 'pytorch', 'crosscheck', got 'xavier')\n")
  out, err, code = lua([[-l siam -e 'siam.config.seed = -1']])
  check.eq({ out, code }, { "", 1 })
  check.contains(err, "siam.config.seed must be an integer >= 0, got -1")
end)

test("docs/embedding.md's C program builds against siam.so and trains", function()
  local why = unusable()
  if why then skip(why) end
  if not has_command("cc") or not has_command("pkg-config") then skip("no cc or pkg-config") end
  local doc = assert(support.read("docs/embedding.md"), "docs/embedding.md")
  local code = doc:match("\n```c\n(.-)\n```\n")
  check.truthy(code, "a ```c block in docs/embedding.md")
  check.truthy(code:find("luaopen_siam", 1, true), "the program opens luaopen_siam")
  local dir = support.tmpdir()
  local f = assert(io.open(dir .. "/embed.c", "wb"))
  f:write(code, "\n")
  f:close()
  local _, err, rc = sh(string.format("cc -std=c11 -Wall -Wextra -Werror %s -o %s " ..
                                      "$(pkg-config --cflags --libs lua5.4) %s -Wl,-rpath,%s",
                                      shq(dir .. "/embed.c"), shq(dir .. "/embed"), shq(SO),
                                      shq(moddir)))
  check.eq({ err, rc }, { "", 0 }, "compiling the program")
  local out
  out, err, rc = sh(string.format("SIAMLUA_CACHE=%s %s", shq(dir .. "/cache"),
                                  shq(dir .. "/embed")))
  check.eq({ err, rc }, { "", 0 })
  check.truthy(out:match("^trained 2 epochs, loss 0%.%d%d%d%d\n$"), "got: " .. out)
  -- The document shows the same line (its loss may differ in the last digits).
  check.truthy(doc:find("\ntrained 2 epochs, loss 0%.%d%d%d%d\n"), "the output in the document")
end)

test("cleanup", function()
  support.cleanup()
end)
