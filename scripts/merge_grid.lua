-- Builds the full table of a (sharded) grid from its run folders:
--   siamlua scripts/merge_grid.lua results/<experiment> [--metric val_acc] [--asc]
-- writes results/<experiment>/grid.csv, grid.md and plots/grid.*, plots/sweep_*,
-- prints the ranked table, and exits 1 when some configuration has not finished.
local gridrun = require "siam.gridrun"
local usage = "usage: siamlua scripts/merge_grid.lua results/<experiment> [--metric NAME] [--asc]"

local dir, metric, order = nil, "val_acc", "desc"
local i = 1
while arg[i] do
  local a = arg[i]
  if a == "--help" or a == "-h" then
    print(usage)
    print("Merges a (sharded) grid's run folders into grid.csv, grid.md and its plots.")
    return
  elseif a == "--metric" then metric = arg[i + 1] i = i + 1
  elseif a == "--asc" then order = "asc"
  elseif dir == nil then dir = a
  else io.stderr:write("merge_grid: unexpected argument ", a, "\n") os.exit(2) end
  i = i + 1
end
if not dir or not metric then
  io.stderr:write(usage, "\n")
  os.exit(2)
end
local res, err = gridrun.merge((dir:gsub("/+$", "")), { metric = metric, order = order })
if not res then
  io.stderr:write("merge_grid: ", err, "\n")
  os.exit(1)
end
os.exit(#res.missing == 0 and 0 or 1)
