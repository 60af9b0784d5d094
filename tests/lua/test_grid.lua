-- siam.grid (order, ids, both spec forms, errors) and siam.args.

local function key_of(c, names)
  local parts = {}
  for _, n in ipairs(names) do parts[#parts + 1] = tostring(c[n]) end
  return table.concat(parts, " ")
end

test("declared order, last key fastest, index and id", function()
  local g = siam.grid { { "batch", { 16, 32 } }, { "lr", { 0.001, 0.005 } }, { "l2", { 0, 1e-4, 5e-4 } } }
  check.eq(#g, 12)
  local want = {}
  for _, b in ipairs { 16, 32 } do
    for _, lr in ipairs { 0.001, 0.005 } do
      for _, l2 in ipairs { 0, 1e-4, 5e-4 } do want[#want + 1] = key_of({ batch = b, lr = lr, l2 = l2 }, { "batch", "lr", "l2" }) end
    end
  end
  for i, c in ipairs(g) do
    check.eq(c.index, i)
    check.eq(key_of(c, { "batch", "lr", "l2" }), want[i])
    check.truthy(c.id:match("^%x%x%x%x%x%x%x%x$"), "id " .. c.id)
  end
  check.eq(math.type(g[1].batch), "integer")
end)

test("the same grid from an 'order' list; ids are stable", function()
  local a = siam.grid { { "batch", { 16, 32 } }, { "lr", { 0.001, 0.005 } } }
  local b = siam.grid { order = { "batch", "lr" }, lr = { 0.001, 0.005 }, batch = { 16, 32 } }
  check.eq(a, b)
  -- a configuration's id depends on its own values only
  local c = siam.grid { { "batch", { 32 } }, { "lr", { 0.005, 0.1 } } }
  check.eq(c[1].id, a[4].id)
  check.truthy(a[1].id ~= a[2].id, "different configurations, different ids")
  -- fixed forever: results tables from earlier runs are matched by id
  check.eq(siam.grid { { "batch", { 16 } }, { "lr", { 0.001 } } }[1].id, a[1].id)
  check.eq(a[1].id, "83746968")
  -- a single value needs no table; strings and booleans are values too
  local d = siam.grid { { "init", "paper" }, { "augment", { true, false } } }
  check.eq(#d, 2)
  check.eq(d[2].augment, false)
  check.eq(d[1].init, "paper")
end)

test("grid errors", function()
  check.error("bad argument #1 to 'grid' (table expected, got no value)", function() siam.grid() end)
  check.error("bad argument #1 to 'grid' (a grid spec is {{name, values}, ...} or has an 'order' "
              .. "list (key 'lr' has no declared place))",
              function() siam.grid { lr = { 1, 2 } } end)
  check.error("bad argument #1 to 'grid' (key 'lr' is not in 'order')",
              function() siam.grid { order = { "batch" }, batch = { 1 }, lr = { 1 } } end)
  check.error("bad argument #1 to 'grid' ('order' names 'lr', which has no values)",
              function() siam.grid { order = { "lr" } } end)
  check.error("bad argument #1 to 'grid' (key 'lr' appears twice)",
              function() siam.grid { { "lr", { 1 } }, { "lr", { 2 } } } end)
  check.error("bad argument #1 to 'grid' ('lr' has no values)",
              function() siam.grid { { "lr", {} } } end)
  check.error("bad argument #1 to 'grid' (value 2 of 'lr' is a table (numbers, strings and booleans only))",
              function() siam.grid { { "lr", { 1, {} } } } end)
  check.error("bad argument #1 to 'grid' ('id' is reserved (every configuration gets it))",
              function() siam.grid { { "id", { 1 } } } end)
  check.error("bad argument #1 to 'grid' (the grid has no keys)", function() siam.grid {} end)
  check.error("bad argument #1 to 'grid' (entry 1 must be {name, values}, got string)",
              function() siam.grid { "lr" } end)
end)

test("args: key=value words, lists, types, unknown keys", function()
  local a = siam.args { "batch=32", "lr=0.005,0.001", "epochs=2", "name=run", "augment=true" }
  check.eq(a, { batch = 32, lr = { 0.005, 0.001 }, epochs = 2, name = "run", augment = true })
  check.eq(math.type(a.batch), "integer")
  check.eq(siam.args {}, {})
  check.error("bad argument 'batch': expected key=value (e.g. lr=0.005 or batch=16,32)",
              function() siam.args { "batch" } end)
  check.error("unknown argument 'bacth' (known: batch, lr)",
              function() siam.args({ "bacth=3" }, { "batch", "lr" }) end)
  check.error("bad argument #1 to 'args' (word 1 is a number, expected key=value)",
              function() siam.args { 3 } end)
end)
