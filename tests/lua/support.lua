-- Shared by the Lua tests that write files or start processes (loaded with
-- dofile, not a test file itself): fresh temporary folders, whole-file reads
-- and runs of the interpreter under test.
local support = {}

-- A fresh folder per call; the previous one is removed then (the last one
-- stays, to look at when a test fails).
local last_tmp
function support.tmpdir()
  if last_tmp then os.execute("rm -rf '" .. last_tmp .. "'") end
  local p = os.tmpname()
  os.remove(p)
  assert(siam.io.mkdir_p(p))
  last_tmp = p
  return p
end

-- Removes the last folder tmpdir made (call from a file's last test).
function support.cleanup()
  if last_tmp then os.execute("rm -rf '" .. last_tmp .. "'") end
  last_tmp = nil
end

-- The whole file as a string, or nil when it cannot be opened.
support.read = require("siam.fs").read

-- s as one shell word.
function support.shq(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Runs the interpreter under test (support.interpreter, which the test file
-- sets from harness.interpreter: this file does not see the harness) with
-- `words`, stdin from /dev/null; opts.env is a "NAME=value ..." prefix,
-- opts.cwd a folder to run in, opts.timeout seconds after which the run is
-- killed (status 124, as timeout(1) gives), for a test of something that
-- must not hang. Returns stdout, stderr and the exit status.
function support.run(words, opts)
  opts = opts or {}
  local siam = assert(support.interpreter, "support.interpreter is not set")
  if siam:sub(1, 1) ~= "/" then siam = os.getenv("PWD") .. "/" .. siam end -- for opts.cwd
  local quoted = {}
  for i, w in ipairs(words) do quoted[i] = support.shq(w) end
  local out, err = os.tmpname(), os.tmpname()
  local cd = opts.cwd and ("cd " .. support.shq(opts.cwd) .. " && ") or ""
  local limit = opts.timeout and string.format("timeout -k 5 %d ", opts.timeout) or ""
  -- argv[0] is "siamlua", as for a siamlua found on PATH: messages start with
  -- the name the interpreter was invoked by (as lua.c's), and the expected
  -- messages are written as a user typing `siamlua` sees them.
  local as_siamlua = "bash -c 'exec -a siamlua \"$0\" \"$@\"' "
  local _, _, code = os.execute(string.format("%s%s %s%s %s >%s 2>%s </dev/null", cd,
                                              opts.env or "", limit, as_siamlua .. support.shq(siam),
                                              table.concat(quoted, " "), support.shq(out),
                                              support.shq(err)))
  local o, e = support.read(out) or "", support.read(err) or ""
  os.remove(out)
  os.remove(err)
  return o, e, code
end

return support
