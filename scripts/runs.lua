-- Lists the runs under a results folder, sorted and filtered, and plots
-- chosen runs' curves on one figure (docs/logging.md, "Comparing runs"):
--   siamlua scripts/runs.lua results/
--   siamlua scripts/runs.lua results/ sort=val_acc where='val_acc>0.8' status=done
--   siamlua scripts/runs.lua results/grid lr=0.001 plot=val_acc out=compare.png
-- Arguments after the folder: sort=KEY (-KEY reverses), where=TERMS
-- (comma-separated key=v, key!=v, key<n, key<=n, key>n, key>=n, key~text),
-- top=N (the first N after sorting), plot=METRIC (a per-epoch column of
-- metrics.csv: val_acc, val_loss, train_loss, lr...) with out=FILE.png
-- (default runs.png), and any other key=value as a where term.
local runs = require "siam.runs"

local USAGE = "usage: siamlua scripts/runs.lua FOLDER [sort=KEY] [where=TERMS] [top=N] "
              .. "[plot=METRIC [out=FILE.png]] [key=value ...]"

local function fail(msg)
  io.stderr:write("runs: ", msg, "\n")
  os.exit(2)
end

local root, sort, top, metric, out = nil, nil, nil, nil, "runs.png"
local terms = {}
for _, a in ipairs(arg) do
  local k, v = a:match("^([%w_]+)=(.*)$")
  if a == "--help" or a == "-h" then
    print(USAGE)
    os.exit(0)
  elseif k == "sort" then sort = v
  elseif k == "top" then
    top = math.tointeger(tonumber(v))
    if not top or top < 1 then fail("bad value '" .. v .. "' for top (a count >= 1)") end
  elseif k == "plot" then metric = v
  elseif k == "out" then out = v
  elseif k == "where" or (not k and root) then
    local t, err = runs.parse_where(k and v or a)
    if not t then fail(err) end
    for _, x in ipairs(t) do terms[#terms + 1] = x end
  elseif k then
    terms[#terms + 1] = { key = k, op = "=", value = v }
  elseif not root then root = a
  end
end
if not root then fail("no folder given\n" .. USAGE) end

local list, err = runs.scan(root)
if not list then fail(err) end
list = runs.filter(list, terms)
if sort then runs.sort(list, sort) end
if top then
  for i = #list, top + 1, -1 do list[i] = nil end
end
if #list == 0 then
  print("no runs" .. (#terms > 0 and " match" or "") .. " under " .. root)
  os.exit(0)
end
io.write(runs.format(list))
if metric then
  local status, perr = runs.plot(list, metric, out)
  if not status then fail(perr) end
  print(status == "drawn" and ("plot: " .. out) or ("plot: " .. out:gsub("%.png$", ".gp")
        .. " written, not drawn (no gnuplot)"))
end
