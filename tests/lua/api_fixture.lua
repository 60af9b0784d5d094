-- Shared by the API tests (loaded with dofile, not a test file itself): a
-- small synthetic set in a private cache directory and a reduced model
-- configuration, so that a training step costs milliseconds.
local fixture = {}

-- One thread: the machine is shared, and a tiny model gains nothing from more.
siam.config.threads = 1
siam.config.quiet = true

local dir = os.getenv("SIAM_TEST_CACHE")
if not dir or dir == "" then
  dir = os.tmpname()
  os.remove(dir)
end
fixture.cache = dir

-- 24 people x 4 images, 32x32; 40 + 40 train pairs, 20 + 20 test pairs.
function fixture.sets()
  return siam.data.synthetic { identities = 24, images = 4, size = 32, train_pairs = 40,
                               test_pairs = 20, cache = dir }
end

fixture.small = { size = 32, channels = { 4, 8, 8, 16 }, kernels = { 5, 3, 3, 2 }, fc = 32,
                  init = "pytorch", seed = 1, device = "cpu" }

function fixture.model(extra)
  local o = {}
  for k, v in pairs(fixture.small) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return siam.model(o)
end

-- Removes the private cache directory (call from the last test).
function fixture.cleanup()
  if not os.getenv("SIAM_TEST_CACHE") then
    os.execute("rm -rf '" .. dir .. "'")
  end
end

function fixture.tmpfile(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

-- support.lua beside this file (the harness is not visible here).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
fixture.read = dofile(here .. "/support.lua").read

function fixture.write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

-- A checkpoint's bytes with `bytes` put at 0-based `offset`, then its
-- FNV-1a 64 checksum redone (Lua integers wrap modulo 2^64, as the C
-- arithmetic does): a damaged file that the checksum no longer catches.
function fixture.patch_sealed(path, offset, bytes)
  local s = fixture.read(path)
  s = s:sub(1, offset) .. bytes .. s:sub(offset + #bytes + 1)
  local h = -3750763034362895579 -- 14695981039346656037, the FNV-1a 64 basis
  for i = 1, #s - 8 do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  fixture.write(path, s:sub(1, #s - 8) .. string.pack("<i8", h))
end

return fixture
