-- siam.runs and scripts/runs.lua: the runs found under a results folder,
-- sorted, filtered and plotted together; and the index.html that each run
-- and grid folder gets (siam.html), escaped, script-free, with every image
-- it shows loaded by a headless Chromium when one is installed.
local Run = require "siam.run"
local runs = require "siam.runs"
local html = require "siam.html"
local gridrun = require "siam.gridrun"
local fake = dofile(harness.dir .. "/fake_fit.lua")
local support = dofile(harness.dir .. "/support.lua")
support.interpreter = harness.interpreter
local tmpdir, read = support.tmpdir, support.read

local function train(root, experiment, cfg, name, extra)
  local run = Run.new{ experiment = experiment, name = name, root = root, config = cfg,
                       progress = false }
  run.fit_function = fake.fit
  run:fit(fake.model(cfg.seed), nil, cfg, { epochs = cfg.epochs })
  local face = string.rep("\90", 105 * 105)
  local sheet = { { label = "TP most sure", pairs = { { a = face, b = face, prob = 0.97 } } } }
  local finish = { test = fake.evaluate(cfg), sheet = sheet }
  for k, v in pairs(extra or {}) do finish[k] = v end
  return run, run:finish(finish)
end

-- Three runs of one experiment and one of another, and an unfinished one.
local function results()
  local root = tmpdir()
  train(root, "sweep", { lr = 0.01, batch = 16, epochs = 3, seed = 1 }, "lr0.01")
  train(root, "sweep", { lr = 0.05, batch = 16, epochs = 4, seed = 1 }, "lr0.05")
  train(root, "sweep", { lr = 0.03, batch = 32, epochs = 2, seed = 1 }, "lr0.03")
  train(root, "other", { lr = 0.02, batch = 16, epochs = 2, seed = 1 }, "solo")
  local r = Run.new{ experiment = "sweep", name = "cut", root = root, progress = false,
                     config = { lr = 0.04, batch = 16, epochs = 5, seed = 1 } }
  r:epoch({ epoch = 1, val_acc = 0.4, val_loss = 0.9, train_loss = 1 })
  r:close()
  return root
end

test("scan finds every run with its status, best epoch, accuracies and time", function()
  local root = results()
  local list = assert(runs.scan(root))
  local names = {}
  for i, r in ipairs(list) do names[i] = r.experiment .. "/" .. r.name end
  check.eq(names, { "other/solo", "sweep/cut", "sweep/lr0.01", "sweep/lr0.03", "sweep/lr0.05" })
  local by = {}
  for _, r in ipairs(list) do by[r.name] = r end
  check.eq(by.cut.status, "unfinished")
  check.eq(by["lr0.05"].status, "done")
  check.eq(by["lr0.05"].epochs_run, 4)
  -- fake_fit's val_acc = 0.5 + 0.03 e + lr - 0.001 batch rises every epoch: the last is best
  check.eq(by["lr0.05"].best_epoch, 4)
  check.near(by["lr0.05"].val_acc, 0.5 + 0.12 + 0.05 - 0.016, 1e-6)
  check.eq(by["lr0.05"].test_acc, fake.evaluate({ lr = 0.05, batch = 16, epochs = 4 }).accuracy)
  check.truthy(type(by["lr0.05"].time) == "number", "time from metrics.csv")
  check.eq(by["lr0.05"].config.lr, 0.05)
  check.eq(runs.varying(list), { "batch", "epochs", "lr" }, "seed is the same in all")
end)

test("filter and sort: key=value, comparisons, contains; largest accuracy first", function()
  local root = results()
  local list = assert(runs.scan(root))
  local function names(l)
    local out = {}
    for i, r in ipairs(l) do out[i] = r.name end
    return out
  end
  local done = runs.filter(list, assert(runs.parse_where("status=done,experiment=sweep")))
  check.eq(names(runs.sort(done, "val_acc")), { "lr0.05", "lr0.01", "lr0.03" })
  check.eq(names(runs.sort(done, "-val_acc")), { "lr0.03", "lr0.01", "lr0.05" })
  check.eq(names(runs.sort(done, "lr")), { "lr0.01", "lr0.03", "lr0.05" })
  check.eq(names(runs.filter(list, assert(runs.parse_where("lr>=0.03,batch=16")))), { "cut", "lr0.05" })
  check.eq(names(runs.filter(list, assert(runs.parse_where("name~0.0,lr!=0.01")))), { "lr0.03", "lr0.05" })
  local _, err = runs.parse_where("val_acc>high")
  check.eq(err, "bad where term 'val_acc>high': > needs a number")
  _, err = runs.parse_where("lr")
  check.contains(err, "bad where term 'lr' (key=value")
  -- runs without the sort key go last
  check.eq(names(runs.sort(runs.filter(list, {}), "test_acc"))[5], "cut")
end)

test("scripts/runs.lua lists, filters, sorts and plots the chosen runs' curves", function()
  local root = results()
  local out, err, code = support.run({ "scripts/runs.lua", root, "experiment=sweep", "sort=val_acc",
                                       "where=status=done", "plot=val_acc",
                                       "out=" .. root .. "/cmp.png" })
  check.eq(code, 0, err)
  local lines = {}
  for l in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  check.truthy(lines[1]:match("^run%s+batch%s+epochs%s+lr%s+status%s+best_epoch%s+val_acc%s+"
                              .. "test_acc%s+time$"), lines[1])
  check.truthy(lines[3]:match("^sweep/lr0%.05%s+16%s+4%s+0%.05%s+done%s+4%s+0%.654 "), lines[3])
  check.truthy(lines[4]:match("^sweep/lr0%.01 "), lines[4])
  check.truthy(lines[5]:match("^sweep/lr0%.03 "), lines[5])
  check.eq(#lines, 6)
  -- one figure, one data block per run, in the listing's order
  local dat = read(root .. "/cmp.dat")
  check.contains(dat, "# lr0.05\n# epoch val_acc\n1 0.564\n2 0.594\n3 0.624\n4 0.654\n\n\n# lr0.01\n")
  check.contains(read(root .. "/cmp.gp"), "nruns = 3\narray labels[3]\nlabels[1] = 'lr0.05'\n")
  out, err, code = support.run({ "scripts/runs.lua", root, "where=lr<<1" })
  check.eq(code, 2)
  check.eq(err, "runs: bad where term 'lr<<1': < needs a number\n")
  out, err, code = support.run({ "scripts/runs.lua", root, "status=failed" })
  check.eq({ out, code }, { "no runs match under " .. root .. "\n", 0 })
  out, err, code = support.run({ "scripts/runs.lua", root .. "/nothing" })
  check.eq({ err, code }, { "runs: runs: " .. root .. "/nothing: not a folder\n", 2 })
end)

-- Every <img src> and <a href> of a page: relative paths inside its folder.
local function refs(page)
  local out = {}
  for attr, v in page:gmatch('(%a+)="([^"]*)"') do
    if attr == "src" or attr == "href" then out[#out + 1] = { attr = attr, path = v } end
  end
  return out
end

local function unhref(p) return (p:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end

local function check_page(dir)
  local page = assert(read(dir .. "/index.html"), dir .. "/index.html")
  check.truthy(not page:lower():find("<script", 1, true), "no scripts")
  check.truthy(not page:find("://", 1, true), "nothing from outside")
  local imgs = 0
  for _, r in ipairs(refs(page)) do
    check.truthy(not r.path:match("^/") and not r.path:match("%.%."), "inside the folder: " .. r.path)
    check.truthy(read(dir .. "/" .. unhref(r.path)), dir .. ": " .. r.attr .. " " .. r.path .. " exists")
    if r.attr == "src" then imgs = imgs + 1 end
  end
  return page, imgs
end

-- Loads dir/index.html in headless Chromium inside a page that reports, for
-- each of its images, whether it loaded (complete with a natural width):
-- the index page itself stays script-free. Returns the report's lines, or
-- nil when there is no Chromium.
local CHROMIUM
for _, c in ipairs{ "chromium", "chromium-browser", "google-chrome" } do
  if not CHROMIUM and os.execute("command -v " .. c .. " >/dev/null 2>&1") then CHROMIUM = c end
end

-- Pages written by the tests below, for the browser test at the end.
local pages = {}
local HAVE_GNUPLOT = siam.io.plotter("scripts/plots"):has_gnuplot()

-- Loads each page (a folder's index.html, as a path under `root`) in one
-- headless Chromium, inside a probe page that reports for every image of
-- every page whether it loaded (complete, with a natural width): the pages
-- themselves stay script-free. Returns the report's lines.
local function browser_images(root, rels)
  local frames = {}
  for i, rel in ipairs(rels) do
    frames[i] = string.format('<iframe src="%s/index.html"></iframe>', rel)
  end
  local probe = root .. "/probe.html"
  assert(siam.io.atomic_write(probe, [[
<!DOCTYPE html><html><body>]] .. table.concat(frames) .. [[<script>
window.addEventListener("load", function () {
  var out = [], frames = document.getElementsByTagName("iframe");
  for (var f = 0; f < frames.length; f++) {
    var imgs = frames[f].contentDocument.images;
    out.push(frames[f].getAttribute("src") + ": images " + imgs.length);
    for (var i = 0; i < imgs.length; i++)
      out.push((imgs[i].complete && imgs[i].naturalWidth > 0 ? "ok " : "broken ") +
               imgs[i].getAttribute("src"));
  }
  var pre = document.createElement("pre");
  pre.id = "report";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
});
</script></body></html>
]]))
  local profile = os.tmpname()
  os.remove(profile)
  local cmd = string.format("timeout -k 5 120 %s --headless --no-sandbox --disable-gpu "
                            .. "--allow-file-access-from-files --user-data-dir=%s --dump-dom %s "
                            .. "2>/dev/null", CHROMIUM, support.shq(profile),
                            support.shq("file://" .. probe))
  local p = io.popen(cmd)
  local dom = p:read("a")
  p:close()
  os.execute("rm -rf " .. support.shq(profile))
  os.remove(probe)
  local report = dom:match('<pre id="report">(.-)</pre>')
  assert(report, "no report from " .. CHROMIUM .. ": " .. dom:sub(1, 300))
  local lines = {}
  for l in (report .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  return lines
end

test("a run's index.html: summary, plots, epochs and configuration, every value escaped", function()
  local root = tmpdir()
  local run = train(root, "page", { lr = 0.01, epochs = 2, seed = 1,
                                    note = [[<script>alert("x")</script> & 'quotes']] }, "n")
  local page, imgs = check_page(run.dir)
  check.contains(page, "<title>page: n</title>")
  -- config.lua quotes it as Lua does (%q), the page escapes that
  check.contains(page, [[&lt;script&gt;alert(\&quot;x\&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;]])
  check.truthy(not page:find("<script>alert", 1, true), "the configuration is escaped")
  check.contains(page, '<img src="plots/sheet.png"')
  check.contains(page, '<th class="text">status</th>')
  if HAVE_GNUPLOT then
    check.contains(page, '<img src="plots/training.png"')
    check.eq(imgs, 4, "training, confusion, ROC, sheet")
  else
    check.contains(page, "Not drawn (no gnuplot)")
  end
  check.eq(html.escape("a<b>&\"'\1"), "a&lt;b&gt;&amp;&quot;&#39;&#xFFFD;")
  check.eq(html.href("plots/a b#1.png"), "plots/a%20b%231.png")
  pages.root = root
  pages[#pages + 1] = { rel = run.dir:sub(#root + 2), imgs = imgs }
end)

test("a grid's index.html: the ranked table with links to each run's page, its plots", function()
  local root = pages.root or tmpdir() -- beside the run page, for the browser test
  local configs = { { lr = 0.01, epochs = 2, seed = 1 }, { lr = 0.05, epochs = 2, seed = 1 } }
  local res = gridrun.run{ experiment = "g", root = root, configs = configs, params = { "lr", "epochs" },
                           quiet = true, progress = false, config = { model = "fake" },
                           train = function(cfg, run)
                             run.fit_function = fake.fit
                             run:fit(fake.model(1), nil, cfg, { epochs = cfg.epochs })
                             return { test = fake.evaluate(cfg) }
                           end }
  check.eq(#res.rows, 2)
  local dir = root .. "/g"
  local page, imgs = check_page(dir)
  check.contains(page, "<title>g: 2 configurations</title>")
  local first = res.rows[1].id
  check.contains(page, string.format('<a href="%s/index.html">%s</a>', first, Run.readable_name(first)))
  check.truthy(page:find(Run.readable_name(first), 1, true) < page:find(Run.readable_name(res.rows[2].id), 1, true),
               "best first")
  check.truthy(read(dir .. "/" .. first .. "/index.html"), "each run has its page")
  for _, rel in ipairs{ "g", "g/" .. first } do
    local _, n = check_page(root .. "/" .. rel)
    pages[#pages + 1] = { rel = rel, imgs = n }
  end
  pages.root = root
end)

test("every image of the run and grid pages loads in headless Chromium", function()
  if not CHROMIUM then skip("chromium not installed: index.html not loaded in a browser") end
  check.eq(#pages, 3, "the pages the tests above wrote")
  local rels = {}
  for i, p in ipairs(pages) do rels[i] = p.rel end
  local report = browser_images(pages.root, rels)
  local k = 1
  for _, p in ipairs(pages) do
    check.eq(report[k], p.rel .. "/index.html: images " .. p.imgs)
    if HAVE_GNUPLOT then check.truthy(p.imgs > 0, p.rel .. " shows images") end
    for i = k + 1, k + p.imgs do check.truthy(report[i]:match("^ok "), p.rel .. ": " .. report[i]) end
    k = k + p.imgs + 1
  end
  check.eq(k, #report + 1)
end)

test("cleanup", support.cleanup)
