-- siam.fs: the path helpers of the Lua-written modules.
local fs = require "siam.fs"
local support = dofile(harness.dir .. "/support.lua")

test("join puts one slash between parts, and nothing else", function()
  check.eq(fs.join("a", "b", "c.csv"), "a/b/c.csv")
  check.eq(fs.join("/tmp/x"), "/tmp/x")
  check.eq(fs.join("a/", "b"), "a//b")
end)

test("exists: a file and a folder are there; a missing path and one under a file are not",
     function()
  local dir = support.tmpdir()
  local path = fs.join(dir, "f.txt")
  check.eq(fs.exists(path), false)
  local f = assert(io.open(path, "wb"))
  f:write("x")
  f:close()
  check.eq(fs.exists(path), true)
  check.eq(fs.exists(dir), true)
  check.eq(fs.exists(fs.join(path, "below")), false)
end)

test("read returns every byte (NUL, CR, no final newline); nil when it cannot open", function()
  local dir = support.tmpdir()
  local path = fs.join(dir, "bytes")
  local bytes = "a\0b\r\n\255" .. string.rep("z", 70000)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  check.eq(fs.read(path), bytes)
  check.eq(fs.read(fs.join(dir, "missing")), nil)
end)

test("cleanup", function() support.cleanup() end)
