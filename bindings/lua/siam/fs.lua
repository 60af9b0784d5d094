-- siam.fs: the path helpers the Lua-written modules share (siam.run,
-- siam.gridrun, siam.html, siam.runs): plain Lua io, no C, so that a
-- module reading a run folder needs nothing beyond Lua's own library.
local fs = {}

-- Parts joined by "/" (no normalisation: the callers pass folder names
-- they made or listed).
function fs.join(...) return table.concat({ ... }, "/") end

-- Whether `path` can be opened for reading (a folder, on Linux, can).
function fs.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- The whole file as a string, or nil when it cannot be opened.
function fs.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return fs
