-- siamlua as a Lua interpreter: the behaviour it shares with Debian's lua5.4
-- (same script, same stdout, same exit status, same stderr once the leading
-- program name is removed), then what is siamlua's own: long options, the
-- REPL on a pseudo-terminal (util-linux `script`), and Ctrl-C.

local function shq(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local SIAM_PATH = harness.interpreter
if SIAM_PATH:sub(1, 1) ~= "/" then SIAM_PATH = os.getenv("PWD") .. "/" .. SIAM_PATH end
local SIAM = shq(SIAM_PATH)
-- Messages start with the name siamlua was invoked by (argv[0]), as lua.c's.
local P = SIAM_PATH .. ": "
local LUA = "lua5.4"

local function has_command(name)
  return os.execute("command -v " .. name .. " >/dev/null 2>&1") == true
end

local HAVE_LUA = has_command(LUA)
-- script(1) needs a working pseudo-terminal, which some containers lack.
local HAVE_SCRIPT = has_command("script")
  and os.execute("script -qec true /dev/null </dev/null >/dev/null 2>&1") == true

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. shq(tmp)))

local function write(name, text)
  local path = tmp .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local support = dofile(harness.dir .. "/support.lua")
-- A file the shell wrote (empty when it did not).
local function slurp(path) return support.read(path) or "" end

-- Runs a shell command line with stdin from `input` (a string; nil means
-- /dev/null); returns stdout, stderr and the exit status.
local function run(cmdline, input)
  local out, err = tmp .. "/stdout", tmp .. "/stderr"
  local from = input and shq(write("stdin", input)) or "/dev/null"
  local _, how, code = os.execute(string.format("%s >%s 2>%s <%s", cmdline, shq(out),
                                                shq(err), from))
  if how == "signal" then code = 128 + code end
  return slurp(out), slurp(err), code
end

-- The same arguments to both interpreters (env: "VAR=value ..." prefix).
local function both(args, input, env)
  env = env and (env .. " ") or ""
  local so, se, sc = run(env .. SIAM .. " " .. args, input)
  local lo, le, lc = run(env .. LUA .. " " .. args, input)
  return { out = so, err = se, code = sc }, { out = lo, err = le, code = lc }
end

-- Error lines start with the name each was invoked by: "/.../siamlua: " versus
-- "lua5.4: ".
local function unprefix(s, name)
  return (("\n" .. s):gsub("\n" .. name:gsub("%p", "%%%0") .. ": ", "\nPROG: ")):sub(2)
end

local function same(args, input, env)
  if not HAVE_LUA then skip(LUA .. " is not installed") end
  local s, l = both(args, input, env)
  check.eq(s.out, l.out, "stdout of " .. args)
  check.eq(s.code, l.code, "exit status of " .. args)
  check.eq(unprefix(s.err, SIAM_PATH), unprefix(l.err, LUA), "stderr of " .. args)
  return s, l
end

-- A script that prints what it was given: arg (all but the program name at
-- the lowest index) and `...`.
local show_args = write("show_args.lua", [[
local lo = 0
while arg[lo - 1] do lo = lo - 1 end
for i = lo + 1, #arg do print("arg[" .. i .. "]", arg[i]) end
print("#arg", #arg, "select", select("#", ...), ...)
]])

-- ---- shared with lua5.4 ----------------------------------------------------

test("-e runs code, several in order", function()
  local s = same([[-e 'print(1 + 1, "x")' -e 'print(2^10)']])
  check.eq(s.out, "2\tx\n1024.0\n")
end)

test("-e with the code attached (-eCODE)", function()
  local s = same([[-e'print(7)']])
  check.eq(s.out, "7\n")
end)

test("script with arguments: arg table and ...", function()
  local s = same(shq(show_args) .. " a 'b c' 3")
  check.eq(s.out, "arg[0]\t" .. show_args .. "\narg[1]\ta\narg[2]\tb c\narg[3]\t3\n" ..
                  "#arg\t3\tselect\t3\ta\tb c\t3\n")
end)

test("interpreter options take negative arg indices", function()
  local s = same("-e 'x=1' -W " .. shq(show_args) .. " z")
  check.eq(s.out, "arg[-3]\t-e\narg[-2]\tx=1\narg[-1]\t-W\narg[0]\t" .. show_args ..
                  "\narg[1]\tz\n#arg\t1\tselect\t1\tz\n")
end)

test("-- ends the options: later dashes go to the script", function()
  local s = same("-- " .. shq(show_args) .. " -e -v")
  check.contains(s.out, "arg[1]\t-e\narg[2]\t-v\n")
end)

test("- runs stdin with arguments", function()
  local s = same("- one two", "print('from stdin', ...) print(arg[0])")
  check.eq(s.out, "from stdin\tone\ttwo\n-\n")
end)

test("no arguments and stdin not a terminal: stdin is the script", function()
  local s = same("", "print('piped', select('#', ...))")
  check.eq(s.out, "piped\t0\n")
  same("--", "print('after dashes')")
end)

test("#! first line is skipped", function()
  local path = write("shebang.lua", "#!/usr/bin/env siamlua\nprint('shebang ok', ...)\n")
  local s = same(shq(path) .. " q")
  check.eq(s.out, "shebang ok\tq\n")
end)

test("-l mod and -l g=mod", function()
  write("siamtestmod.lua", "return { value = 42 }\n")
  local env = "LUA_PATH=" .. shq(tmp .. "/?.lua")
  local s = same([[-l siamtestmod -e 'print(siamtestmod.value)']], nil, env)
  check.eq(s.out, "42\n")
  s = same([[-l m=siamtestmod -e 'print(m.value, siamtestmod)']], nil, env)
  check.eq(s.out, "42\tnil\n")
end)

test("-l of a missing module fails with the search list", function()
  local s = same("-l siam_no_such_module_x")
  check.eq(s.code, 1)
  check.contains(s.err, P .. "module 'siam_no_such_module_x' not found:")
end)

test("runtime error: exit 1, message and traceback on stderr", function()
  local s = same([[-e 'error("boom")']])
  check.eq(s.code, 1)
  check.eq(s.out, "")
  check.eq(s.err, P .. "(command line):1: boom\nstack traceback:\n" ..
                  "\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: in ?\n")
end)

test("runtime error in a script names the functions", function()
  local path = write("deep.lua", "local function inner() error('deep') end\n" ..
                                 "local function outer() inner() end\nouter()\n")
  local s = same(shq(path))
  check.eq(s.code, 1)
  check.contains(s.err, P .. path .. ":1: deep\nstack traceback:")
  check.contains(s.err, "in upvalue 'inner'")
end)

test("non-string error objects", function()
  local s = same([[-e 'error({})']])
  check.contains(s.err, P .. "(error object is a table value)\nstack traceback:")
  s = same([[-e 'error()']])
  check.contains(s.err, P .. "(error object is a nil value)")
  s = same([[-e 'error(setmetatable({}, {__tostring = function() return "custom" end}))']])
  check.eq(s.err, P .. "custom\n")
end)

test("syntax error and missing file: exit 1, no traceback", function()
  local s = same([[-e 'x =']])
  check.eq(s.err, P .. "(command line):1: unexpected symbol near <eof>\n")
  s = same(shq(tmp .. "/missing.lua"))
  check.eq(s.err, P .. "cannot open " .. tmp .. "/missing.lua: No such file or directory\n")
  check.eq(s.code, 1)
  local bad = write("bad.lua", "print(1)\nlocal = 2\n")
  s = same(shq(bad))
  check.eq(s.code, 1)
  check.eq(s.out, "")
end)

test("os.exit status passes through", function()
  local s = same([[-e 'os.exit(3)']])
  check.eq(s.code, 3)
  s = same([[-e 'os.exit(false)']])
  check.eq(s.code, 1)
  s = same([[-e 'io.write("partial") os.exit(true, true)']])
  check.eq({ s.out, s.code }, { "partial", 0 })
end)

test("LUA_INIT runs first; LUA_INIT_5_4 takes precedence", function()
  local s = same([[-e 'print("main")']], nil, [[LUA_INIT='print("init")']])
  check.eq(s.out, "init\nmain\n")
  s = same([[-e 'print("main")']], nil, [[LUA_INIT='print("old")' LUA_INIT_5_4='print("new")']])
  check.eq(s.out, "new\nmain\n")
  local f = write("init.lua", "print('init file')\n")
  s = same([[-e 'print("main")']], nil, "LUA_INIT=@" .. shq(f))
  check.eq(s.out, "init file\nmain\n")
  s = same([[-e 'print("main")']], nil, [[LUA_INIT='error("in init")']])
  check.eq({ s.out, s.code }, { "", 1 })
  check.contains(s.err, P .. "LUA_INIT:1: in init")
end)

test("-E ignores LUA_INIT and LUA_PATH", function()
  local s = same([[-E -e 'print("main")']], nil, [[LUA_INIT='print("init")']])
  check.eq(s.out, "main\n")
  s = same([[-E -e 'print(package.path)']], nil, [[LUA_PATH='/nowhere/?.lua']])
  check.truthy(s.out ~= "/nowhere/?.lua\n", "-E: default path")
  s = same([[-e 'print(package.path)']], nil, [[LUA_PATH='/nowhere/?.lua']])
  check.eq(s.out, "/nowhere/?.lua\n")
end)

test("-W turns warnings on", function()
  local s = same([[-W -e 'warn("careful")']])
  check.eq(s.err, "Lua warning: careful\n")
  s = same([[-e 'warn("careful")']])
  check.eq(s.err, "")
end)

-- -v: lua5.4 prints "Lua 5.4.4  Copyright ..."; siamlua prints its name and
-- version, two spaces, then exactly that line.
test("-v shows the version (siamlua prefixes its own)", function()
  if not HAVE_LUA then skip(LUA .. " is not installed") end
  local s, l = both("-v")
  check.eq(s.out, "siamlua " .. siam.version .. "  " .. l.out)
  check.eq({ s.code, s.err }, { 0, "" })
  s, l = both([[-v -e 'print(1)']])
  check.eq(s.out, "siamlua " .. siam.version .. "  " .. l.out:gsub("\n1\n$", "") .. "\n1\n")
end)

test("usage errors: exit 1, same first line", function()
  if not HAVE_LUA then skip(LUA .. " is not installed") end
  for _, args in ipairs { "-x", "-e", "-l", "-ix", "-vv", "-e -v", "--x" } do
    local s, l = both(args)
    check.eq({ s.code, s.out }, { 1, "" }, args)
    local sfirst = s.err:match("^[^\n]*\n[^\n]*")
    local lfirst = l.err:match("^[^\n]*\n[^\n]*")
    check.eq((unprefix(sfirst, SIAM_PATH):gsub(SIAM_PATH:gsub("%p", "%%%0"), "PROG")),
             (unprefix(lfirst, LUA):gsub("lua5.4", "PROG")), args)
  end
end)

test("flags are all checked before any code runs", function()
  local out, err, code = run(SIAM .. [[ -e 'print("ran")' -x]])
  check.eq({ out, code }, { "", 1 })
  check.contains(err, P .. "unrecognized option '-x'\n")
  out, _, code = run(SIAM .. [[ -e 'print("ran")' --threads many]])
  check.eq({ out, code }, { "", 1 })
end)

test("-i with stdin not a terminal: prompts and the lines read on stdout, as lua5.4's", function()
  local input = 'x = 1 +\n2\nx * 3\nerror("oops")\nprint("after")\n=x\n_PROMPT = "P: "\n1, nil\n' ..
                'no_newline = 1'
  local out, err, code = run(SIAM .. " --quiet -i", input)
  check.eq(code, 0)
  check.eq(out, "> x = 1 +\n>> 2\n> x * 3\n9\n> error(\"oops\")\n> print(\"after\")\nafter\n" ..
                "> =x\n3\n> _PROMPT = \"P: \"\nP: 1, nil\n1\tnil\nP: no_newline = 1\nP: \n")
  check.eq(err, "stdin:1: oops\nstack traceback:\n\t[C]: in function 'error'\n" ..
                "\tstdin:1: in main chunk\n\t[C]: in ?\n")
  -- The same bytes as lua5.4 -i, after the banner (siamlua's has its name first).
  local s, l = both("-i", input)
  check.eq(s.out, "siamlua " .. siam.version .. "  " .. l.out)
  check.eq({ s.err, s.code }, { l.err, l.code })
end)

-- ---- siamlua's own options -------------------------------------------------

test("long options fill siam.config", function()
  local out, err, code = run(SIAM .. [[ --device cpu --threads 3 --seed 42 --quiet ]] ..
    [[-e 'local c = siam.config print(c.device, c.threads, c.seed, c.quiet)']])
  check.eq({ out, err, code }, { "cpu\t3\t42\ttrue\n", "", 0 })
  out = run(SIAM .. [[ --device=auto --seed=7 -e 'print(siam.config.device, siam.config.seed)']])
  check.eq(out, "auto\t7\n")
  out = run(SIAM .. [[ -e 'print(siam.config.device, siam.config.threads, siam.config.quiet)']])
  check.eq(out, "auto\t0\tfalse\n")
end)

test("long options are interpreter arguments; after the script they are the script's", function()
  local out = run(SIAM .. " --seed 5 " .. shq(show_args) .. " --seed 6")
  check.eq(out, "arg[-2]\t--seed\narg[-1]\t5\narg[0]\t" .. show_args ..
                "\narg[1]\t--seed\narg[2]\t6\n#arg\t2\tselect\t2\t--seed\t6\n")
end)

test("bad long options: message, usage, exit 1", function()
  local cases = {
    { "--device gpu", P .. "bad value 'gpu' for --device (expected cpu, cuda or auto)" },
    { "--threads=-1", P .. "bad value '-1' for --threads (expected an integer 0..4096)" },
    { "--threads -1", P .. "bad value '-1' for --threads (expected an integer 0..4096)" },
    { "--seed -1", P .. "bad value '-1' for --seed (expected a non-negative integer)" },
    { "--seed=-1", P .. "bad value '-1' for --seed (expected a non-negative integer)" },
    { "--device --quiet", P .. "bad value '--quiet' for --device (expected cpu, cuda or auto)" },
    { "--threads=", P .. "bad value '' for --threads (expected an integer 0..4096)" },
    { "--threads 4097", P .. "bad value '4097' for --threads (expected an integer 0..4096)" },
    { "--seed x", P .. "bad value 'x' for --seed (expected a non-negative integer)" },
    { "--seed 99999999999999999999",
      P .. "bad value '99999999999999999999' for --seed (expected a non-negative integer)" },
    { "--seed", P .. "bad value '-e' for --seed (expected a non-negative integer)" },
    { "--quiet=1", P .. "option '--quiet=1' takes no value" },
    { "--frobnicate", P .. "unrecognized option '--frobnicate'" },
  }
  if not siam.has_cuda then
    cases[#cases + 1] = { "--device cuda",
      P .. "--device cuda: this siamlua was built without CUDA (make CUDA=1)" }
  end
  for _, c in ipairs(cases) do
    local out, err, code = run(SIAM .. " " .. c[1] .. [[ -e 'print("ran")']])
    check.eq({ out, code }, { "", 1 }, c[1])
    check.eq(err:match("^[^\n]*"), c[2], c[1])
    check.contains(err, "\nusage: " .. SIAM_PATH .. " [options] [script [args]]\n", c[1])
    check.truthy(not err:find("key=value", 1, true), "a usage error has the short usage: " .. c[1])
  end
  -- Only when nothing follows is the value missing.
  local out, err, code = run(SIAM .. " --seed")
  check.eq({ out, code, err:match("^[^\n]*") }, { "", 1, P .. "'--seed' needs argument" })
end)

-- The scripts --help lists: those whose header shows how to run them.
local function listed_scripts()
  local out = {}
  local ls = io.popen("ls experiments/*.lua scripts/*.lua")
  for path in ls:lines() do
    local f = assert(io.open(path))
    local head = f:read("a"):match("^(.-)\n[^-]") or ""
    f:close()
    if head:find("siamlua [^\n]*" .. path:gsub("%p", "%%%0")) then out[#out + 1] = path end
  end
  ls:close()
  return out
end

test("--help and -h: usage, how scripts take key=value arguments, the scripts; exit 0", function()
  local out, err, code = run(SIAM .. [[ --help -e 'print("ran")']])
  check.eq({ err, code }, { "", 0 })
  check.eq(out:match("^[^\n]*"), "usage: " .. SIAM_PATH .. " [options] [script [args]]")
  check.contains(out, "  --device D   cpu, cuda or auto")
  check.contains(out, "  -h, --help   show this help and exit\n")
  check.contains(out, "The experiment scripts take key=value arguments,")
  check.contains(out, "\n  siamlua experiments/quickstart.lua epochs=2 subset=600\n")
  check.truthy(not out:find("ran\n"), "no code ran")
  local scripts = listed_scripts()
  check.truthy(#scripts >= 10, "runnable scripts found: " .. #scripts)
  local folder
  for _, path in ipairs(scripts) do
    local dir, name = path:match("^(.*)/([^/]*)$")
    if dir ~= folder then
      check.contains(out, "\n" .. dir .. "/\n", path)
      folder = dir
    end
    check.truthy(out:find("\n  " .. name:gsub("%p", "%%%0") .. " +%u[^\n]+\n"),
                 "a line for " .. path)
  end
  check.truthy(not out:find("common.lua", 1, true), "common.lua is not a script")
  check.truthy(not out:find("best_recipe.lua", 1, true), "best_recipe.lua is not a script")
  check.contains(out, "\n  grid.lua         The seed's hyper-parameter search")
  for line in out:gmatch("[^\n]+") do
    check.truthy(#line <= 80, "80 columns: " .. line)
  end
  local short = run(SIAM .. " -h")
  check.eq(short, out)
  out, err, code = run(SIAM .. " --version")
  check.eq({ out, err, code }, { "siamlua " .. siam.version .. "  Lua 5.4.4  Copyright (C) " ..
                                 "1994-2022 Lua.org, PUC-Rio\n", "", 0 })
end)

-- ---- the REPL on a pseudo-terminal -----------------------------------------

-- Feeds `input` to siamlua through util-linux script(1), which gives it a
-- terminal, so libedit is used. The terminal echoes the typed lines, so the
-- checks look for substrings. script runs the command with $SHELL -c, and
-- dash (Debian's /bin/sh, used when SHELL is unset) does not exec a lone
-- command: it would stay in the terminal's process group and die of the
-- Ctrl-C that siamlua survives. Hence the exec.
local function repl(args, input)
  if not HAVE_SCRIPT then skip("script(1) from util-linux is missing or has no pty") end
  local cmd = "TERM=dumb script -qec " .. shq("exec " .. SIAM .. " " .. args) .. " /dev/null"
  local out, _, code = run(cmd, input)
  return out:gsub("\r", ""), code
end

test("REPL: banner, prompts, values, continuation lines, errors", function()
  local out, code = repl("", 'x = 1 +\n2\nx * 3\nprint("hi")\nerror("oops")\n"still here"\n')
  check.eq(code, 0)
  check.contains(out, "siamlua " .. siam.version .. "  Lua 5.4.4")
  check.contains(out, "\n>> 2\n")
  check.contains(out, "> x * 3\n9\n")
  check.contains(out, "\nhi\n")
  check.contains(out, "stdin:1: oops\nstack traceback:")
  check.contains(out, "still here\n")
  check.truthy(not out:find("siamlua: stdin"), "REPL errors carry no program prefix")
end)

test("REPL: --quiet drops the banner; siam is loaded", function()
  local out = repl("--quiet", "siam.zeros(2, 2):numel()\nsiam.config.quiet\n")
  check.truthy(not out:find("Copyright"), "no banner")
  check.contains(out, "\n4\n")
  check.contains(out, "\ntrue\n")
end)

test("REPL: tables shown with their contents, siam objects by __tostring; help()", function()
  local out, code = repl("--quiet", 't = {1, {2, "s"}, name = "x", z = siam.tensor{3}}\nt\n' ..
                                    'help(siam.optim.sgd)\n')
  check.eq(code, 0)
  check.contains(out, '\n{1, {2, "s"}, name = "x", z = siam.Tensor (1) {3}}\n')
  check.contains(out, "\n| `siam.optim.sgd{...}` | `lr` (1e-2)")
end)

test("REPL: Tab completes fields and methods", function()
  local out, code = repl("--quiet", "siam.optim.ad\t\t\nm = siam.model{size = 48, channels = " ..
                         "{4, 4, 4, 4}, kernels = {7, 5, 3, 3}, fc = 8}\nm:tr\t()\n")
  check.eq(code, 0)
  -- The common prefix, then (second Tab) both candidates.
  check.contains(out, "siam.optim.adam  siam.optim.adamw\n")
  check.contains(out, "> m:train()\nsiam.Model(48x48")
end)

-- As repl(), but the input comes in pieces, 0.5 s apart, after 1 s: a
-- Ctrl-C typed ahead would reach siamlua before the lines typed before it
-- (and the terminal would discard those lines).
local function repl_paced(args, pieces)
  if not HAVE_SCRIPT then skip("script(1) from util-linux is missing or has no pty") end
  local feed = {}
  for i, p in ipairs(pieces) do feed[i] = "printf '%s' " .. shq(p) .. "; sleep 0.5" end
  local cmd = "( { sleep 1; " .. table.concat(feed, "; ") .. "; } | TERM=dumb script -qec " ..
              shq("exec " .. SIAM .. " " .. args) .. " /dev/null )"
  local out, _, code = run(cmd)
  return out:gsub("\r", ""), code
end

test("REPL: Ctrl-C at the prompt clears the line and keeps the session; Ctrl-D ends it",
     function()
  local out, code = repl_paced("--quiet", { "x = 42\n", "abc", "\3", "x + 1\n", "\3", "x\n" })
  check.eq(code, 0)
  check.contains(out, "\n43\n")
  check.contains(out, "\n42\n")
  -- "abc" was shown, then dropped: the next prompt follows it, with nothing run.
  check.contains(out, "> abc\n> x + 1\n43\n")
end)

test("REPL: Ctrl-C while a statement runs interrupts it, and the session goes on", function()
  local out, code = repl_paced("--quiet", { "x = 7\n", "while true do end\n", "\3", "x * 6\n" })
  check.eq(code, 0)
  check.contains(out, "interrupted!\nstack traceback:")
  check.contains(out, "\n42\n")
end)

test("messages name the program as it was invoked (argv[0]), as lua5.4's do", function()
  local link = tmp .. "/bin/my-siamlua"
  assert(os.execute("mkdir -p " .. shq(tmp .. "/bin") .. " && ln -sf " .. SIAM .. " " ..
                    shq(link)))
  local out, err, code = run(shq(link) .. " -e 'error(6)'")
  check.eq({ out, code }, { "", 1 })
  check.truthy(err:find("^" .. link:gsub("%p", "%%%0") .. ": 6\nstack traceback:\n"), err)
  _, err = run("cd " .. shq(tmp .. "/bin") .. " && ./my-siamlua --seed x")
  check.eq(err:match("^[^\n]*\n[^\n]*"), "./my-siamlua: bad value 'x' for --seed (expected a " ..
                                          "non-negative integer)\nusage: ./my-siamlua [options] " ..
                                          "[script [args]]")
  if HAVE_LUA then
    local lua_link = tmp .. "/bin/my-lua"
    assert(os.execute("ln -sf \"$(command -v " .. LUA .. ")\" " .. shq(lua_link)))
    local _, lerr = run(shq(lua_link) .. " -e 'error(6)'")
    local _, serr = run(shq(link) .. " -e 'error(6)'")
    check.eq(unprefix(serr, link), unprefix(lerr, lua_link))
  end
end)

-- ---- Ctrl-C ------------------------------------------------------------------

-- Starts siamlua on `code` in the background, waits (bounded) until it has
-- printed "ready", sends SIGINT, and returns stdout, stderr and status. The
-- output file is removed first: a stale "ready" would send the signal before
-- siamlua has started (a background job starts with SIGINT ignored, so it
-- would be lost). If siamlua has not ended 10 s after the signal it is
-- killed, and the status says so (137).
local function interrupt(code)
  local out, err, rc = tmp .. "/int.out", tmp .. "/int.err", tmp .. "/int.rc"
  os.remove(out)
  os.remove(err)
  os.remove(rc)
  local sh = string.format([[
%s -e %s >%s 2>%s </dev/null &
pid=$!
n=0
while ! grep -q ready %s 2>/dev/null; do
  n=$((n + 1)); [ $n -gt 400 ] && break; sleep 0.05
done
kill -INT $pid
n=0
while kill -0 $pid 2>/dev/null; do
  n=$((n + 1)); if [ $n -gt 200 ]; then kill -KILL $pid; break; fi; sleep 0.05
done
wait $pid
echo $? >%s
]], SIAM, shq(code), shq(out), shq(err), shq(out), shq(rc))
  os.execute(sh)
  return slurp(out), slurp(err), tonumber(slurp(rc))
end

test("Ctrl-C stops a looping script: exit 1, interrupted! on stderr", function()
  local out, err, code = interrupt('print("ready") io.stdout:flush() while true do end')
  check.eq(out, "ready\n")
  check.eq(code, 1)
  check.contains(err, P .. "interrupted!\nstack traceback:")
end)

test("Ctrl-C is an ordinary error that pcall can catch", function()
  local out, err, code = interrupt('print("ready") io.stdout:flush() ' ..
    'local ok, e = pcall(function() while true do end end) print(ok, e) print("after")')
  check.eq(code, 0)
  check.eq(err, "")
  check.truthy(out:find("^ready\nfalse\t[^\n]*interrupted!\nafter\n$"), "got: " .. out)
end)

test("cleanup", function()
  os.execute("rm -rf " .. shq(tmp))
end)
