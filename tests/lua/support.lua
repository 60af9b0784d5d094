-- Shared by the Lua tests that write files (loaded with dofile, not a test
-- file itself): fresh temporary folders and whole-file reads.
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

-- The whole file as a string, or nil when it cannot be opened.
function support.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return support
