-- siam.results: rows, column order, sorting, the text, CSV and Markdown
-- writers (exact bytes), reading CSV back, errors.
local slurp = dofile(harness.dir .. "/support.lua").read

local function tmp(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. suffix
end

local function table3()
  local r = siam.results.new { "id", "batch" }
  r:add { id = "aa", batch = 16, val_acc = 0.61, lr = 0.001 }
  r:add { id = "bb", batch = 32, val_acc = 0.7, lr = 0.005 }
  r:add { id = "cc", batch = 16, val_acc = 0 / 0, lr = 0.005, note = "diverged, nan" }
  return r
end

test("rows and column order: declared first, then by name", function()
  local r = table3()
  check.eq(#r, 3)
  check.eq(r:columns(), { "id", "batch", "lr", "val_acc", "note" })
  check.eq(r:get(2, "val_acc"), "0.7")
  check.eq(r:get(1, "batch"), "16")
  check.eq(r:get(3, "val_acc"), "nan")
  check.eq(r:get(1, "note"), nil)
  check.eq(tostring(r), "siam.Results(3 rows, 5 columns)")
end)

test("sort: numeric, descending, non-numbers last, rank column", function()
  local r = table3()
  check.truthy(r:sort("val_acc", true) == r, "sort returns the table")
  check.eq(r:get(1, "id"), "bb")
  check.eq(r:get(2, "id"), "aa")
  check.eq(r:get(3, "id"), "cc")
  check.eq(r:get(1, "rank"), "1")
  check.eq(r:columns()[1], "rank")
  r:sort("val_acc")
  check.eq(r:get(1, "id"), "aa")
  check.eq(r:get(3, "id"), "cc")
end)

test("CSV and Markdown, byte for byte; CSV reads back", function()
  local r = table3():sort("val_acc", true)
  local csv, md = tmp(".csv"), tmp(".md")
  r:write_csv(csv)
  r:write_markdown(md)
  check.eq(slurp(csv), "rank,id,batch,lr,val_acc,note\n"
                       .. "1,bb,32,0.005,0.7,\n"
                       .. "2,aa,16,0.001,0.61,\n"
                       .. "3,cc,16,0.005,nan,\"diverged, nan\"\n")
  check.eq(slurp(md), "| rank | id | batch | lr | val_acc | note |\n"
                      .. "| ---: | --- | ---: | ---: | ---: | --- |\n"
                      .. "| 1 | bb | 32 | 0.005 | 0.7 |  |\n"
                      .. "| 2 | aa | 16 | 0.001 | 0.61 |  |\n"
                      .. "| 3 | cc | 16 | 0.005 | nan | diverged, nan |\n")
  local back = siam.results.load(csv)
  check.eq(#back, 3)
  check.eq(back:columns(), r:columns())
  check.eq(back:get(3, "note"), "diverged, nan")
  os.remove(csv)
  os.remove(md)
end)

test("set, row, rows and read_csv: cells one by one, rows as tables, CSV text appended", function()
  local t = siam.results.new { "id", "lr", "acc" }
  t:add({ id = "a", lr = 0.001, acc = 0.5, note = 'has "quotes", commas' })
  t:add({ id = "b", lr = 0.005, acc = 0 / 0 })
  t:add({ id = "c", lr = 0.01, acc = 0.75, ok = true })
  t:sort("acc", true)
  check.eq(t:columns(), { "rank", "id", "lr", "acc", "note", "ok" })
  check.eq(t:get(1, "id"), "c")
  check.eq(t:get(3, "id"), "b")
  check.eq(t:get(3, "acc"), "nan")
  local csv = tmp(".csv")
  t:write_csv(csv)
  local text = slurp(csv)
  os.remove(csv)
  check.eq(text, 'rank,id,lr,acc,note,ok\n1,c,0.01,0.75,,true\n2,a,0.001,0.5,"has ""quotes"", commas",\n3,b,0.005,nan,,\n')
  local back = siam.results.new()
  check.truthy(back:read_csv(text, "x.csv") == back, "read_csv returns the table")
  check.eq(back:row(2), { rank = "2", id = "a", lr = "0.001", acc = "0.5", note = 'has "quotes", commas' })
  back:read_csv(text, "x.csv")
  check.eq(back:rows(), 6, "read_csv appends")
  check.eq(back:get(4, "id"), "c")
  local md = tmp(".md")
  t:write_markdown(md)
  check.contains(slurp(md), "| 1 | c | 0.01 | 0.75 |  | true |")
  os.remove(md)
  check.truthy(t:set(1, "note", 3) == t, "set returns the table")
  check.eq(t:get(1, "note"), "3")
  t:set(1, "note", 0.1)
  check.eq(t:get(1, "note"), "0.1")
  t:set(1, "note", false)
  check.eq(t:get(1, "note"), "false")
  t:set(1, "note", nil)
  check.eq(t:get(1, "note"), nil)
  check.eq(t:row(1), { rank = "1", id = "c", lr = "0.01", acc = "0.75", ok = "true" })
  t:set(2, "extra", "x")
  check.eq(t:columns(), { "rank", "id", "lr", "acc", "note", "ok", "extra" })
  local bad = siam.results.new()
  check.error("bad.csv:2:1: quoted field never closed", bad.read_csv, bad, 'a,b\n"open', "bad.csv")
  check.eq(#bad, 0)
  check.error("bad argument #1 to 'add' (value of 'f' must be a number, string or boolean, got function)",
              function() t:add { f = print } end)
  check.error("bad argument #1 to 'get' (row 4 out of range [1, 3])", function() t:get(4, "id") end)
  check.error("bad argument #1 to 'set' (row 0 out of range [1, 3])", function() t:set(0, "id", 1) end)
  check.error("bad argument #3 to 'set' (value of 'id' must be a number, string or boolean, got table)",
              function() t:set(1, "id", {}) end)
  check.error("bad argument #1 to 'row' (row 4 out of range [1, 3])", function() t:row(4) end)
  check.eq(t:rows(), 3, "the refused row was not added")
end)

test("sort demotes rows by a column's value: failed and diverged runs last", function()
  local r = siam.results.new { "id", "status", "val_acc" }
  r:add { id = "a", status = "done", val_acc = 0.6 }
  r:add { id = "b", status = "failed", val_acc = 0.9 }
  r:add { id = "c", status = "nan", val_acc = 0.8 }
  r:add { id = "d", status = "done", val_acc = 0.7 }
  r:add { id = "e", status = "done" }
  r:sort("val_acc", true, "status", { "failed", "nan" })
  local ids = {}
  for i = 1, #r do ids[i] = r:get(i, "id") end
  check.eq(ids, { "d", "a", "b", "c", "e" })
  check.eq(r:get(5, "rank"), "5")
  r:sort("val_acc", false, "status", { "failed" })
  ids = {}
  for i = 1, #r do ids[i] = r:get(i, "id") end
  check.eq(ids, { "a", "d", "c", "b", "e" })
  check.error("bad argument #4 to 'sort' (table expected, got no value)",
              function() r:sort("val_acc", true, "status") end)
  check.error("bad argument #4 to 'sort' (value 1 must be a string, got number)",
              function() r:sort("val_acc", true, "status", { 1 }) end)
  check.error("bad argument #4 to 'sort' (at most 8 values, got 9)",
              function() r:sort("val_acc", true, "status", { "1", "2", "3", "4", "5", "6", "7", "8", "9" }) end)
end)

test("print writes the aligned text table to stdout", function()
  local r = siam.results.new()
  r:add { a = 1, b = "x" }
  local txt = tmp(".txt")
  r:write_text(txt)
  check.eq(slurp(txt), "a  b\n-  -\n1  x\n")
  os.remove(txt)
  r:print()
end)

test("load refuses what is not CSV, naming the file, line and column", function()
  local path = tmp(".csv")
  local function load_text(text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return siam.results.load(path)
  end
  -- random bytes (seeded): the first control character
  local bytes = {}
  local x = 12345
  for i = 1, 2000 do
    x = (1103515245 * x + 12345) % 2147483648
    bytes[i] = string.char(x // 65536 % 256)
  end
  check.error_match("^[^:]+:%d+: " .. path:gsub("%p", "%%%0") .. ":1:%d+: .*not CSV text$",
                    function() return load_text(table.concat(bytes)) end)
  check.error(path .. ":2:3: a NUL byte: binary data, not CSV text",
              function() return load_text("a,b\n1,\0\n") end)
  check.error(path .. ":2: 1 field, the header has 2", function() return load_text("a,b\n1\n") end)
  check.error(path .. ":1: column 'a' appears twice in the header",
              function() return load_text("a,a\n1,2\n") end)
  -- a valid empty table stays valid, written or by hand
  siam.results.new():write_csv(path)
  check.eq(#siam.results.load(path), 0)
  check.eq(#load_text(""), 0)
  check.eq(#load_text("id,val_acc\n"), 0)
  os.remove(path)
end)

test("errors", function()
  local r = siam.results.new()
  check.error("bad argument #1 to 'add' (table expected, got number)", function() r:add(3) end)
  check.error("bad argument #1 to 'add' (column names must be strings, got a number key)",
              function() r:add { 1 } end)
  check.error("bad argument #1 to 'add' (value of 'x' must be a number, string or boolean, got table)",
              function() r:add { x = {} } end)
  r:add { x = 1 }
  check.error("bad argument #1 to 'sort' (no column named 'y')", function() r:sort("y") end)
  check.error("bad argument #1 to 'get' (row 5 out of range [1, 1])", function() r:get(5, "x") end)
  check.error_match("/no/such/dir/r%.csv", function() r:write_csv("/no/such/dir/r.csv") end)
  check.error_match("/no/such%.csv", function() siam.results.load("/no/such.csv") end)
  check.error("bad argument #1 to 'new' (column 1 must be a name, got number)",
              function() siam.results.new { 1 } end)
end)
