-- The bad-input suite's runner (loaded by each
-- tests/robustness/test_*.lua with loadfile(path, "t", _ENV), so that it sees
-- the harness; not a test file itself). A file declares a
-- list of cases, one bad input or fault each, and cases.run turns every one
-- into a harness test. A case is a table:
--
--   name                 what is wrong with the input
--   build(t)             makes the input in t.dir (a fresh folder); returns it
--   call(input, t)       the call that meets it, in this process
--   error = "..."        the message call must raise, exactly (position
--                        removed); "{dir}" stands for t.dir, and t.vars may
--                        name more ("{x}" for t.vars.x); mask_temp = true:
--                        a temp file's random ".tmp.XXXXXX" is masked
--   child(input, t)      instead of call: the siamlua words to run as a
--                        child process (and an opts table: env, cwd); it is
--                        killed after `timeout` seconds (default 60), which
--                        fails the case as a hang
--   status, stderr,      the child's exit status and exact stderr / stdout
--   stdout               (templates as above); stderr_has: a part of it
--   check(t, input, ...) more assertions: on call's results when no error is
--                        expected, on out, err, status for a child; and
--                        after an expected error, that nothing already
--                        written was lost or changed
--
-- A case whose setup is impossible here (no FIFOs, not root for a tmpfs)
-- calls skip(reason) from build.
local F = dofile(harness.dir .. "/../lua/api_fixture.lua")
local support = dofile(harness.dir .. "/../lua/support.lua")
support.interpreter = harness.interpreter

local cases = { F = F, support = support, shq = support.shq }

function cases.write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

cases.read = support.read

-- A shell command that must succeed (mkfifo, ln -s, mount).
function cases.sh(cmd)
  local ok = os.execute(cmd)
  if not ok then error("setup command failed: " .. cmd, 2) end
end

function cases.fill(s, t)
  return (s:gsub("{(%w+)}", function(k)
    if k == "dir" then return t.dir end
    local v = t.vars and t.vars[k]
    if v == nil then error("template names {" .. k .. "}, which the case did not set", 0) end
    return tostring(v)
  end))
end

-- The shared synthetic set (24 people x 4 images, 32x32), made once.
local data
function cases.data()
  if not data then
    local train, test, info = F.sets()
    data = { train = train, test = test, info = info }
  end
  return data
end

-- A tiny model (api_fixture's) and a copy of the synthetic set's folder that
-- a case may change.
cases.model = F.model

function cases.copy_set(t)
  local d = cases.data().info.dir
  local to = t.dir .. "/set"
  cases.sh("cp -r " .. cases.shq(d) .. " " .. cases.shq(to))
  return { dir = to, images = to .. "/lfw-synthetic", train = to .. "/pairsDevTrain.txt" }
end

-- The bytes with `bytes` put at 0-based `offset` and the checkpoint's
-- FNV-1a 64 checksum redone (api_fixture.patch_sealed, on a string).
function cases.seal(s, offset, bytes)
  local p = os.tmpname()
  cases.write(p, s)
  F.patch_sealed(p, offset, bytes)
  local out = cases.read(p)
  os.remove(p)
  return out
end

-- The norm of every parameter of a model: what a refused load or call
-- must leave as it was, and what two runs that should agree must share.
function cases.norms(m)
  local r = {}
  for i, p in ipairs(m:parameters()) do r[i] = p.norm end
  return r
end

-- s with byte `pos` (1-based) XOR `mask`.
function cases.flip(s, pos, mask)
  return s:sub(1, pos - 1) .. string.char(s:byte(pos) ~ mask) .. s:sub(pos + 1)
end

local function run_case(c, t)
  local input = c.build and c.build(t)
  if c.child then
    local words, opts = c.child(input, t)
    opts = opts or {}
    opts.timeout = c.timeout or 60
    local out, err, code = support.run(words, opts)
    -- timeout(1) gives 124, or 137 when it had to SIGKILL; a case expecting
    -- 137 (a child killing itself) checks its own evidence of the kill
    check.truthy(code ~= 124 and (code ~= 137 or c.status == 137),
                 "the child hung and was killed; stderr: " .. err)
    if c.mask_temp then err = cases.mask_temp(err) end
    if c.stderr then check.eq(err, cases.fill(c.stderr, t), "stderr") end
    if c.stderr_has then check.contains(err, cases.fill(c.stderr_has, t), "stderr") end
    if c.stdout then check.eq(out, cases.fill(c.stdout, t), "stdout") end
    if c.status then check.eq(code, c.status, "exit status; stderr: " .. err) end
    if c.check then c.check(t, input, out, err, code) end
  elseif c.error then
    local ok, msg = pcall(c.call, input, t)
    if ok then error("accepted; expected the error: " .. cases.fill(c.error, t), 0) end
    msg = harness.strip_position(msg)
    if c.mask_temp then msg = cases.mask_temp(msg) end
    check.eq(msg, cases.fill(c.error, t), "message")
    if c.check then c.check(t, input, msg) end
  else
    local results = table.pack(c.call(input, t))
    check.truthy(c.check, "a case that succeeds needs check to say what is right")
    c.check(t, input, table.unpack(results, 1, results.n))
  end
end

-- A temp file's random suffix (mkstemp's six characters) as XXXXXX.
function cases.mask_temp(s)
  return (s:gsub("%.tmp([%.%-])%w%w%w%w%w%w", ".tmp%1XXXXXX"))
end

-- Registers every case. A case's build may add functions to t.finally
-- (unmounting, killing): they run after it however it ended.
function cases.run(list)
  local seen = {}
  for _, c in ipairs(list) do
    assert(type(c.name) == "string" and not seen[c.name], "case names must be unique")
    assert((c.call ~= nil) ~= (c.child ~= nil), c.name .. ": give call or child")
    seen[c.name] = true
    test(c.name, function()
      local t = { dir = support.tmpdir(), vars = {}, finally = {} }
      local ok, e = pcall(run_case, c, t)
      for i = #t.finally, 1, -1 do pcall(t.finally[i]) end
      if not ok then error(e, 0) end
    end)
  end
end

-- Runs siamlua `words` in the background (with `env`, a "NAME=value ..."
-- prefix), waits (at most 30 s) for the file `ready` to appear, sends
-- `signal` (e.g. "INT", "KILL") after `delay` seconds, and waits (at most
-- 30 s, then SIGKILL) for the end. Returns stdout, stderr and the exit
-- status (128 + n for signal n).
function cases.signal_child(t, words, ready, signal, delay, env)
  local quoted = {}
  for i, w in ipairs(words) do quoted[i] = cases.shq(w) end
  local out, err, rc = t.dir .. "/child.out", t.dir .. "/child.err", t.dir .. "/child.rc"
  os.execute(string.format([[
%s %s %s >%s 2>%s </dev/null &
pid=$!
n=0
while [ ! -e %s ] && kill -0 $pid 2>/dev/null; do
  n=$((n + 1)); [ $n -gt 600 ] && break; sleep 0.05
done
sleep %s
kill -%s $pid 2>/dev/null
n=0
while kill -0 $pid 2>/dev/null; do
  n=$((n + 1)); if [ $n -gt 600 ]; then kill -KILL $pid; break; fi; sleep 0.05
done
wait $pid
echo $? >%s
]], env or "", cases.shq(support.interpreter), table.concat(quoted, " "), cases.shq(out),
      cases.shq(err),
      cases.shq(ready), tostring(delay or 0), signal, cases.shq(rc)))
  return cases.read(out) or "", cases.read(err) or "", tonumber(cases.read(rc) or "")
end

function cases.cleanup()
  support.cleanup()
  F.cleanup()
end

return cases
