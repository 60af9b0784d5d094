-- make install and make uninstall into a temporary prefix (and a DESTDIR
-- staging root): the installed interpreter, its scripts (which load their
-- siblings) run from elsewhere, the installed module from lua5.4, the
-- manual page, and nothing left after uninstall.

local support = dofile(harness.dir .. "/support.lua")
local shq = support.shq

-- The build this run tests (tests/run.sh's environment; ./siamlua's when
-- run by hand).
local BUILD = os.getenv("BUILD") or "build"
local SAN = os.getenv("SAN") or "0"

local function has_command(name)
  return os.execute("command -v " .. name .. " >/dev/null 2>&1") == true
end

local function sh(cmdline, cwd)
  local out, err = os.tmpname(), os.tmpname()
  local cd = cwd and ("cd " .. shq(cwd) .. " && ") or ""
  local _, _, code = os.execute(string.format("%s(%s) >%s 2>%s </dev/null", cd, cmdline, shq(out),
                                              shq(err)))
  local o, e = support.read(out) or "", support.read(err) or ""
  os.remove(out)
  os.remove(err)
  return o, e, code
end

-- make in the source tree with this build's settings; the test may run
-- under make test, whose job-server settings must not reach this make.
local function make(target, vars)
  return sh(string.format("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s %s BUILD=%s SAN=%s %s",
                          target, shq(BUILD), shq(SAN), vars))
end

-- Every file under dir, sorted, relative to it.
local function files(dir)
  local out = sh("cd " .. shq(dir) .. " && find . -type f | sort")
  return out
end

local root = support.tmpdir()
local prefix = root .. "/prefix"

test("make install PREFIX=...: the interpreter, the module, the scripts, the manual page", function()
  if not has_command("make") then skip("make is not installed") end
  local _, err, code = make("install", "PREFIX=" .. shq(prefix))
  check.eq(code, 0, "make install: " .. err)
  local listing = "\n" .. files(prefix)
  for _, f in ipairs { "./bin/siamlua", "./lib/lua/5.4/siam.so", "./share/man/man1/siamlua.1",
                       "./share/siamlua/experiments/grid.lua",
                       "./share/siamlua/experiments/common.lua",
                       "./share/siamlua/scripts/verify.lua" } do
    check.truthy(listing:find("\n" .. f .. "\n", 1, true), f .. " installed")
  end
  check.truthy(os.execute("test -x " .. shq(prefix .. "/bin/siamlua")), "bin/siamlua executable")
  local man = support.read(prefix .. "/share/man/man1/siamlua.1")
  check.contains(man, "\n.TH SIAMLUA 1 ")
  check.contains(man, "\n.SH SYNOPSIS\n")
end)

test("the installed siamlua runs, and its scripts find their siblings from any folder", function()
  local siamlua = shq(prefix .. "/bin/siamlua")
  local out, err, code = sh(siamlua .. " -e 'print(siam.version, siam.zeros(2, 3):numel())'", root)
  check.eq({ out, err, code }, { siam.version .. "\t6\n", "", 0 })
  -- best.lua loads common.lua and best_recipe.lua beside it: a bad key's
  -- message comes from their declarations.
  out, err, code = sh(siamlua .. " " .. shq(prefix .. "/share/siamlua/experiments/best.lua") ..
                      " epochs=x", root)
  check.eq({ out, code }, { "", 1 })
  check.contains(err, "epochs=x")
  check.truthy(not err:find("cannot open") and not err:find("not found"), "siblings found: " .. err)
  out, err, code = sh(siamlua .. " " .. shq(prefix .. "/share/siamlua/scripts/verify.lua"), root)
  check.eq({ out, code }, { "", 2 })
  check.contains(err, "usage: siamlua scripts/verify.lua model.ckpt image_a image_b\n")
  out, err, code = sh(siamlua .. " --help", root)
  check.eq({ err, code }, { "", 0 })
  check.contains(out, "  grid.lua ")
end)

test("the installed module loads in lua5.4 from the prefix's Lua C path", function()
  if not has_command("lua5.4") then skip("lua5.4 is not installed (scripts/deps.sh)") end
  if SAN == "1" then skip("a sanitizer build's siam.so cannot be loaded by a stock lua5.4") end
  local out, err, code = sh(string.format("LUA_CPATH=%s lua5.4 -e 'local s = require \"siam\" " ..
                                          "print(s.version, package.searchpath(\"siam\", " ..
                                          "package.cpath))'",
                                          shq(prefix .. "/lib/lua/5.4/?.so")), root)
  check.eq({ out, err, code }, { siam.version .. "\t" .. prefix .. "/lib/lua/5.4/siam.so\n", "",
                                 0 })
end)

test("make uninstall removes every file it installed", function()
  local _, err, code = make("uninstall", "PREFIX=" .. shq(prefix))
  check.eq(code, 0, "make uninstall: " .. err)
  check.eq(files(prefix), "")
  check.truthy(not support.read(prefix .. "/share/siamlua/experiments/grid.lua"), "scripts gone")
  check.truthy(os.execute("test ! -e " .. shq(prefix .. "/share/siamlua")), "share/siamlua gone")
  check.truthy(os.execute("test ! -e " .. shq(prefix .. "/lib/lua")), "lib/lua gone")
end)

test("DESTDIR stages the install under another root", function()
  local stage = root .. "/stage"
  local _, err, code = make("install", "PREFIX=/usr/local DESTDIR=" .. shq(stage))
  check.eq(code, 0, "make install: " .. err)
  check.truthy(support.read(stage .. "/usr/local/lib/lua/5.4/siam.so"), "siam.so staged")
  check.truthy(support.read(stage .. "/usr/local/share/siamlua/experiments/grid.lua"), "staged")
  _, err, code = make("uninstall", "PREFIX=/usr/local DESTDIR=" .. shq(stage))
  check.eq(code, 0, "make uninstall: " .. err)
  check.eq(files(stage), "")
end)

test("cleanup", function()
  support.cleanup()
end)
