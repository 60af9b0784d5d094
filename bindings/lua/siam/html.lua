-- siam.html: the static index.html of a run folder and of a grid folder:
-- plain HTML with inline style, no scripts and nothing from outside; every
-- link and image is a path inside the folder, and every value is escaped.
-- The run writer (siam.run) and the grid (siam.gridrun) call it; what goes
-- on a page is in docs/logging.md, "index.html".
local siam = require "siam"
local fs = require "siam.fs"
local join, exists, read = fs.join, fs.exists, fs.read

local sio = siam.io
local html = {}

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
                  ["'"] = "&#39;" }

-- Text for HTML content and attribute values: the five special characters
-- as entities, control bytes (but tab and newline) as U+FFFD.
function html.escape(v)
  local s = tostring(v == nil and "" or v)
  s = s:gsub("[&<>\"']", ESCAPES)
  return (s:gsub("[%z\1-\8\11-\31\127]", "&#xFFFD;"))
end
local esc = html.escape

-- A path inside the folder as an href: each segment percent-encoded where
-- it is not a plain file-name character.
function html.href(path)
  return (path:gsub("[^%w%-._~/]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- A cell's text: integers as they are, other numbers to 4 significant
-- digits, NaN as "nan", nil as "".
local function show(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    return string.format("%.4g", v)
  end
  if v == nil then return "" end
  return tostring(v)
end
html.show = show

local STYLE = [[
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: right; }
th { background: #eee; }
td.text, th.text { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.3em 0; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.note { color: #666; }
]]

local function page(title, body)
  return table.concat{
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
    esc(title), "</title>\n<style>\n", STYLE, "</style>\n</head>\n<body>\n<h1>", esc(title),
    "</h1>\n", body, "<p class=\"note\">Written by siamlua ", esc(siam.version or ""),
    " at ", esc(os.date("!%Y-%m-%d %H:%M:%S UTC")), ".</p>\n</body>\n</html>\n" }
end

-- A table: columns (names), rows (tables by column name); `cell(row, col,
-- text)` may return HTML for a cell instead of its escaped text; columns
-- listed in `text_cols` align left.
local function table_html(columns, rows, cell, text_cols)
  local out = { "<table>\n<tr>" }
  text_cols = text_cols or {}
  for _, c in ipairs(columns) do
    out[#out + 1] = string.format("<th%s>%s</th>", text_cols[c] and ' class="text"' or "", esc(c))
  end
  out[#out + 1] = "</tr>\n"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, c in ipairs(columns) do
      local text = show(r[c])
      local inner = cell and cell(r, c, text) or esc(text)
      out[#out + 1] = string.format("<td%s>%s</td>", text_cols[c] and ' class="text"' or "", inner)
    end
    out[#out + 1] = "</tr>\n"
  end
  out[#out + 1] = "</table>\n"
  return table.concat(out)
end
html.table = table_html

-- An image of the folder `dir` at `rel` with its caption, or a note saying
-- why it is missing (gnuplot absent: the .gp script is there to draw it).
local function figure(dir, rel, caption)
  if exists(join(dir, rel)) then
    return string.format("<h3>%s</h3>\n<p><img src=\"%s\" alt=\"%s\"></p>\n", esc(caption),
                         html.href(rel), esc(caption))
  end
  local gp = rel:gsub("%.png$", ".gp")
  if exists(join(dir, gp)) then
    return string.format("<h3>%s</h3>\n<p class=\"note\">Not drawn (no gnuplot): run <code>gnuplot "
                         .. "%s</code> in its folder.</p>\n", esc(caption), esc(gp))
  end
  return ""
end

local function links(dir, names)
  local out = {}
  for _, n in ipairs(names) do
    if exists(join(dir, n)) then
      out[#out + 1] = string.format("<a href=\"%s\">%s</a>", html.href(n), esc(n))
    end
  end
  if #out == 0 then return "" end
  return "<p>Files: " .. table.concat(out, " &middot; ") .. "</p>\n"
end

local function publish(dir, text)
  local ok, err = sio.atomic_write(join(dir, "index.html"), text)
  if not ok then return nil, err end
  return join(dir, "index.html")
end

-- run: a siam.run object at its finish (dir, rows, columns, title());
-- summary: what run:finish returns. Writes dir/index.html.
function html.write_run(run, summary)
  local dir = run.dir
  local body = {}
  local keys = { "status", "epochs_run", "epochs", "best_epoch", "val_loss", "val_acc",
                 "test_loss", "test_acc", "auc", "threshold", "train_time", "message" }
  local present = {}
  for _, k in ipairs(keys) do
    if summary[k] ~= nil then present[#present + 1] = k end
  end
  body[#body + 1] = "<h2>Result</h2>\n" .. table_html(present, { summary }, nil,
                                                       { status = true, message = true })
  body[#body + 1] = "<h2>Plots</h2>\n"
  body[#body + 1] = figure(dir, "plots/training.png", "loss and accuracy per epoch")
  body[#body + 1] = figure(dir, "plots/confusion.png", "test confusion matrix")
  body[#body + 1] = figure(dir, "plots/roc.png", "test ROC curve")
  body[#body + 1] = figure(dir, "plots/sheet.png", "most and least sure test pairs")
  if run.columns and #run.rows > 0 then
    body[#body + 1] = "<h2>Epochs</h2>\n" .. table_html(run.columns, run.rows)
  end
  local config = read(join(dir, "config.lua"))
  if config then
    body[#body + 1] = "<h2>Configuration</h2>\n<pre>" .. esc(config) .. "</pre>\n"
  end
  body[#body + 1] = links(dir, { "config.lua", "metrics.csv", "metrics.jsonl", "test.json",
                                 "log.txt", "best.ckpt" })
  return publish(dir, page(run:title(), table.concat(body)))
end

-- The grid folder exp_dir's page: `columns` and `rows` of its ranked table
-- (rows of strings, as grid.csv holds them), its plots, the best
-- configuration's curves and sheet, and that configuration.
function html.write_grid(exp_dir, columns, rows, readable)
  local body = {}
  local shown = {}
  for _, c in ipairs(columns) do
    shown[#shown + 1] = c
    if c == "id" then shown[#shown + 1] = "name" end
  end
  local decorated = {}
  for i, r in ipairs(rows) do
    local d = {}
    for k, v in pairs(r) do d[k] = v end
    d.name = r.id and readable(r.id) or ""
    decorated[i] = d
  end
  body[#body + 1] = string.format("<h2>Configurations, best first</h2>\n")
  body[#body + 1] = table_html(shown, decorated, function(r, c, text)
    if c == "name" and r.id and exists(join(exp_dir, r.id, "index.html")) then
      return string.format("<a href=\"%s\">%s</a>", html.href(r.id .. "/index.html"), esc(text))
    end
  end, { id = true, name = true, status = true, message = true })
  body[#body + 1] = "<h2>Plots</h2>\n"
  body[#body + 1] = figure(exp_dir, "plots/grid.png", "accuracy and training time per configuration")
  local names = sio.list(join(exp_dir, "plots")) or {}
  table.sort(names)
  for _, n in ipairs(names) do
    local p = n:match("^sweep_(.*)%.png$")
    if p then body[#body + 1] = figure(exp_dir, "plots/" .. n, "accuracy against " .. p) end
  end
  local best = rows[1]
  if best and best.id then
    local name = readable(best.id)
    body[#body + 1] = "<h2>The best configuration: " .. esc(name) .. "</h2>\n"
    body[#body + 1] = figure(exp_dir, best.id .. "/plots/training.png", "loss and accuracy per epoch")
    body[#body + 1] = figure(exp_dir, best.id .. "/plots/sheet.png", "most and least sure test pairs")
    local config = read(join(exp_dir, best.id, "config.lua"))
    if config then body[#body + 1] = "<h3>Its configuration</h3>\n<pre>" .. esc(config) .. "</pre>\n" end
  end
  body[#body + 1] = links(exp_dir, { "grid.csv", "grid.md", "configs.csv" })
  local title = string.format("%s: %d configuration%s", exp_dir:match("[^/]+$") or exp_dir,
                              #rows, #rows == 1 and "" or "s")
  return publish(exp_dir, page(title, table.concat(body)))
end

return html
