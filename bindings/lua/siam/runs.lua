-- siam.runs: the runs under a results folder, to list, sort, filter and
-- compare, as TensorBoard's run selector does. A run is a folder with a
-- config.lua and a metrics.csv (what siam.run writes); what it reads there
-- is in docs/logging.md, "Comparing runs". scripts/runs.lua is its command.
--
--   local runs = require "siam.runs"
--   local list = runs.scan("results")
--   list = runs.filter(list, runs.parse_where("status=done,val_acc>0.8"))
--   runs.sort(list, "val_acc")
--   io.write(runs.format(list))
--   runs.plot(list, "val_acc", "compare.png")
local siam = require "siam"
local Run = require "siam.run"
local fs = require "siam.fs"
local join, exists, read = fs.join, fs.exists, fs.read

local sio = siam.io
local runs = {}

local function cell_value(cell)
  if cell == nil or cell == "" then return nil end
  local v = tonumber(cell)
  if v then return v end
  if cell:match("^%-?nan") then return 0 / 0 end
  return cell
end

-- A CSV file of plain cells (what siamlua writes: no quoted commas in the
-- columns read here) as its column names and rows by name.
local function read_csv(path)
  local text = read(path)
  if not text then return nil end
  local cols, rows = {}, {}
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c:gsub('^"(.*)"$', "%1") end
    if #cols == 0 then
      cols = cells
    else
      local row = {}
      for i, c in ipairs(cols) do row[c] = cell_value(cells[i]) end
      rows[#rows + 1] = row
    end
  end
  return cols, rows
end
runs.read_csv = read_csv

-- config.lua's table (nil when unreadable); it holds only literals.
local function read_config(dir)
  local chunk = loadfile(join(dir, "config.lua"), "t", { math = { huge = math.huge } })
  if not chunk then return nil end
  local ok, t = pcall(chunk)
  if ok and type(t) == "table" then return t end
  return nil
end

-- The number in a test.json for `key` (a flat look-up: the file is siamlua's).
local function json_number(text, key)
  local v = text and text:match('"' .. key .. '"%s*:%s*(%-?[%d.eE+%-]+)')
  return v and tonumber(v)
end

-- Whether another process holds the folder (a run still writing it).
local function busy(dir)
  local lock = sio.lock(dir)
  if lock then lock:release() return false end
  return true
end

-- One run's record: where it is, its names, configuration, status, best
-- epoch (by val_acc, as siam.run keeps best.ckpt), accuracies and time.
local function record(root, rel)
  local dir = rel == "" and root or join(root, rel)
  local saved = read_config(dir) or {}
  local id = rel:match("[^/]+$") or dir:match("[^/]+$") or dir
  local r = { dir = dir, path = rel, id = id, name = Run.readable_name(id),
              experiment = saved.experiment or (rel:match("([^/]+)/[^/]+$")) or "",
              config = type(saved.config) == "table" and saved.config or {} }
  local _, rows = read_csv(join(dir, "metrics.csv"))
  r.rows = rows or {}
  local best
  for _, row in ipairs(r.rows) do
    local v = row.val_acc
    if type(v) == "number" and v == v and (not best or v > best.val_acc) then best = row end
  end
  best = best or r.rows[#r.rows]
  if best then
    r.best_epoch, r.val_acc, r.val_loss = best.epoch, best.val_acc, best.val_loss
  end
  local last = r.rows[#r.rows]
  r.epochs_run = #r.rows
  r.time = last and type(last.time) == "number" and last.time or nil
  local test = read(join(dir, "test.json"))
  r.test_acc = json_number(test, "accuracy")
  r.test_loss = json_number(test, "loss")
  r.auc = json_number(test, "auc")
  -- A grid's summary row, when there is one, is the run's own account.
  local _, result = read_csv(join(dir, "result.csv"))
  local summary = result and result[1]
  if summary then
    for _, k in ipairs{ "status", "best_epoch", "val_acc", "val_loss", "test_acc", "test_loss",
                        "auc" } do
      if summary[k] ~= nil then r[k] = summary[k] end
    end
    if type(summary.train_time) == "number" then r.time = summary.train_time end
  end
  if not r.status then
    if exists(join(dir, "failed")) then r.status = "failed"
    elseif exists(join(dir, "done")) or test then r.status = "done"
    elseif busy(dir) then r.status = "running"
    elseif #r.rows > 0 then r.status = "unfinished"
    else r.status = "empty" end
  end
  return r
end

-- Every run under root (itself one, or folders below it, up to `depth`
-- levels, default 4), in path order.
function runs.scan(root, depth)
  root = root:gsub("/+$", "")
  if root == "" then root = "/" end
  depth = depth or 4
  local out = {}
  local function walk(rel, left)
    local dir = rel == "" and root or join(root, rel)
    if exists(join(dir, "config.lua")) and exists(join(dir, "metrics.csv")) then
      out[#out + 1] = record(root, rel)
      return
    end
    if left == 0 then return end
    local names = sio.list(dir)
    if not names then return end
    table.sort(names)
    for _, n in ipairs(names) do
      if not n:match("^%.") and n ~= "plots" then walk(rel == "" and n or join(rel, n), left - 1) end
    end
  end
  if not sio.list(root) then return nil, "runs: " .. root .. ": not a folder" end
  walk("", depth)
  return out
end

-- The keys of the runs' configurations whose values differ between them
-- (what tells them apart), in sorted order.
function runs.varying(list)
  local seen, keys = {}, {}
  for _, r in ipairs(list) do
    for k, v in pairs(r.config) do
      local t = type(v)
      if not seen[k] and type(k) == "string" and (t == "number" or t == "string" or t == "boolean") then
        seen[k] = true
        keys[#keys + 1] = k
      end
    end
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local first, differs = nil, false
    for i, r in ipairs(list) do
      local v = tostring(r.config[k])
      if i == 1 then first = v elseif v ~= first then differs = true break end
    end
    if differs then out[#out + 1] = k end
  end
  return out
end

-- A run's value of `key`: its record's field, else its configuration's.
local function value_of(r, key)
  local v = r[key]
  if v == nil or type(v) == "table" then v = r.config[key] end
  return v
end
runs.value_of = value_of

local OPS = { "<=", ">=", "!=", "~", "=", "<", ">" }

-- "key op value" terms, comma-separated: =, != (text or number), <, <=, >,
-- >= (numbers), ~ (the text contains it). Returns the list of terms, or
-- nil and a message naming the bad one.
function runs.parse_where(text)
  local terms = {}
  for part in (text .. ","):gmatch("([^,]*),") do
    if part ~= "" then
      local term
      for _, op in ipairs(OPS) do
        local at = part:find(op, 1, true)
        if at and at > 1 then
          term = { key = part:sub(1, at - 1), op = op, value = part:sub(at + #op) }
          break
        end
      end
      if not term then
        return nil, "bad where term '" .. part .. "' (key=value, key!=value, key<number, "
                    .. "key<=number, key>number, key>=number or key~text)"
      end
      if term.op ~= "=" and term.op ~= "!=" and term.op ~= "~" and not tonumber(term.value) then
        return nil, "bad where term '" .. part .. "': " .. term.op .. " needs a number"
      end
      terms[#terms + 1] = term
    end
  end
  return terms
end

local function matches(r, t)
  local v = value_of(r, t.key)
  if t.op == "~" then return v ~= nil and tostring(v):find(t.value, 1, true) ~= nil end
  local n, want = tonumber(v), tonumber(t.value)
  if t.op == "=" or t.op == "!=" then
    local same = v ~= nil and (tostring(v) == t.value or (n ~= nil and want ~= nil and n == want))
    return (t.op == "=") == same
  end
  if n == nil or n ~= n then return false end
  if t.op == "<" then return n < want end
  if t.op == "<=" then return n <= want end
  if t.op == ">" then return n > want end
  return n >= want
end

-- The runs that match every term.
function runs.filter(list, terms)
  local out = {}
  for _, r in ipairs(list) do
    local ok = true
    for _, t in ipairs(terms or {}) do
      if not matches(r, t) then ok = false break end
    end
    if ok then out[#out + 1] = r end
  end
  return out
end

-- Sorts in place by `key`: largest first for accuracies, AUC and epochs,
-- smallest first otherwise (losses, time, names); "-key" reverses that.
-- Runs without the value go last; ties keep path order.
function runs.sort(list, key)
  local reverse = key:sub(1, 1) == "-"
  if reverse then key = key:sub(2) end
  local desc = key:match("acc") or key:match("auc") or key:match("epoch")
  if reverse then desc = not desc end
  for i, r in ipairs(list) do r._order = i end
  table.sort(list, function(a, b)
    local x, y = value_of(a, key), value_of(b, key)
    local nx, ny = tonumber(x), tonumber(y)
    if nx and nx ~= nx then nx, x = nil, nil end
    if ny and ny ~= ny then ny, y = nil, nil end
    if x == nil or y == nil then
      if x == nil and y == nil then return a._order < b._order end
      return y == nil
    end
    local lt, gt
    if nx and ny then lt, gt = nx < ny, nx > ny
    else lt, gt = tostring(x) < tostring(y), tostring(x) > tostring(y) end
    if lt or gt then
      if desc then return gt end
      return lt
    end
    return a._order < b._order
  end)
  return list
end

local function show(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    return string.format("%.4g", v)
  end
  if v == nil then return "-" end
  return tostring(v)
end

-- The columns of a listing: the run (experiment/name), the settings that
-- differ between the runs, then the results.
function runs.columns(list)
  local cols = { "run" }
  for _, k in ipairs(runs.varying(list)) do cols[#cols + 1] = k end
  for _, k in ipairs{ "status", "best_epoch", "val_acc", "test_acc", "time" } do cols[#cols + 1] = k end
  return cols
end

-- The listing as aligned text, one line per run.
function runs.format(list, cols)
  cols = cols or runs.columns(list)
  local cells, width = {}, {}
  for j, c in ipairs(cols) do width[j] = #c end
  for i, r in ipairs(list) do
    cells[i] = {}
    for j, c in ipairs(cols) do
      local text
      if c == "run" then text = (r.experiment ~= "" and r.experiment .. "/" or "") .. r.name
      elseif c == "time" then text = r.time and string.format("%.1fs", r.time) or "-"
      else text = show(value_of(r, c)) end
      cells[i][j] = text
      width[j] = math.max(width[j], #text)
    end
  end
  local out = {}
  local function line(texts)
    local parts = {}
    for j, t in ipairs(texts) do
      parts[j] = j == 1 and t .. string.rep(" ", width[j] - #t) or string.rep(" ", width[j] - #t) .. t
    end
    out[#out + 1] = table.concat(parts, "  "):gsub("%s+$", "")
  end
  line(cols)
  local rule = {}
  for j in ipairs(cols) do rule[j] = string.rep("-", width[j]) end
  line(rule)
  for i in ipairs(list) do line(cells[i]) end
  return table.concat(out, "\n") .. "\n"
end

-- Where the gnuplot templates are: $SIAM_PLOTS, ./scripts/plots, or
-- scripts/plots next to the siamlua binary (as siam.run finds them).
local function template_dir()
  local env = os.getenv("SIAM_PLOTS")
  if env and env ~= "" then return env end
  if exists("scripts/plots/runs.gp") then return "scripts/plots" end
  local i = 0
  while arg and arg[i - 1] do i = i - 1 end
  local dir = arg and arg[i] and arg[i]:match("^(.*)/[^/]*$")
  if dir and exists(join(dir, "scripts/plots/runs.gp")) then return join(dir, "scripts/plots") end
  return nil
end

-- Draws `metric` against epoch for every run of the list on one figure at
-- `path` (a .png; its .dat and .gp go beside it). Returns "drawn" or
-- "skipped" (no gnuplot), or nil and a message.
function runs.plot(list, metric, path)
  local dir, base = path:match("^(.*)/([^/]+)%.png$")
  if not dir then dir, base = ".", path:match("^([^/]+)%.png$") end
  if not base then return nil, "runs: the plot's path must end in .png, got " .. path end
  local tdir = template_dir()
  if not tdir then return nil, "runs: scripts/plots not found (set SIAM_PLOTS)" end
  local p, err = sio.plotter(tdir)
  if not p then return nil, err end
  local series = {}
  local several = {}
  for _, r in ipairs(list) do several[r.experiment] = true end
  local many = next(several) ~= nil and next(several, next(several)) ~= nil
  for _, r in ipairs(list) do
    local epochs, values = {}, {}
    for _, row in ipairs(r.rows) do
      if type(row.epoch) == "number" then
        epochs[#epochs + 1] = row.epoch
        values[#values + 1] = type(row[metric]) == "number" and row[metric] or 0 / 0
      end
    end
    local label = many and r.experiment .. "/" .. r.name or r.name
    series[#series + 1] = { label = label, epochs = epochs, values = values }
  end
  local title = string.format("%s of %d run%s", metric, #list, #list == 1 and "" or "s")
  local ok, status = pcall(p.runs, p, dir, base, title, metric, series)
  p:close()
  if not ok then return nil, tostring(status) end
  return status
end

return runs
