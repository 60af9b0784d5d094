-- siam.Tensor: creation, access, reductions, elementwise operations and
-- every error message, against values computed here in plain Lua.

local function naive_sum(t)
  local s = 0
  for _, row in ipairs(t) do
    if type(row) == "table" then s = s + naive_sum(row) else s = s + row end
  end
  return s
end

test("module is preloaded, global and required", function()
  check.eq(type(siam), "table")
  check.truthy(require("siam") == siam, "require returns the global table")
  check.truthy(package.preload.siam ~= nil, "package.preload.siam")
  check.eq(type(siam.version), "string")
  check.truthy(siam.version:match("^%d+%.%d+%.%d+$"), "version looks like x.y.z")
  check.eq(siam.lua_version, "Lua 5.4.4")
  check.eq(type(siam.has_cuda), "boolean")
end)

test("config holds the defaults without long options", function()
  check.eq(siam.config, { device = "auto", threads = 0, seed = 0, quiet = false, tf32 = false,
                          cudnn_algo = "heuristic" })
end)

test("tensor from a nested table: shape, values, round trip", function()
  local src = { { 1, 2, 3 }, { 4, 5, 6 } }
  local t = siam.tensor(src)
  check.eq(t:shape(), { 2, 3 })
  check.eq(t:dim(), 2)
  check.eq(t:numel(), 6)
  check.eq(#t, 2)
  check.eq(t:totable(), { { 1.0, 2.0, 3.0 }, { 4.0, 5.0, 6.0 } })
  check.eq(t:get(2, 1), 4.0)
  check.eq(t:get(1, 3), 3.0)
  local cube = siam.tensor { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } }
  check.eq(cube:shape(), { 2, 2, 2 })
  check.eq(cube:get(2, 1, 2), 6.0)
  check.eq(siam.tensor { 7 }:shape(), { 1 })
end)

test("values are stored as float32", function()
  local t = siam.tensor { 0.1, 1e40, 16777217 }
  check.eq(t:get(1), string.unpack("f", string.pack("f", 0.1)))
  check.eq(t:get(2), math.huge)
  check.eq(t:get(3), 16777216.0)
end)

test("zeros and ones take sizes or a shape table", function()
  local z = siam.zeros(3, 4)
  check.eq(z:shape(), { 3, 4 })
  check.eq(z:sum(), 0.0)
  check.eq(siam.zeros { 2, 5, 1 }:shape(), { 2, 5, 1 })
  local o = siam.ones(2, 3)
  check.eq(o:totable(), { { 1.0, 1.0, 1.0 }, { 1.0, 1.0, 1.0 } })
  check.eq(siam.ones(1, 2, 1, 3):numel(), 6)
end)

test("set writes one element and returns the tensor", function()
  local t = siam.zeros(2, 3)
  check.truthy(t:set(2, 3, 5.5) == t, "set returns self")
  t:set(1, 1, -1):set(1, 2, 2)
  check.eq(t:totable(), { { -1.0, 2.0, 0.0 }, { 0.0, 0.0, 5.5 } })
end)

test("indexing: a value in 1-D, a row copy in N-D", function()
  local v = siam.tensor { 10, 20, 30 }
  check.eq(v[2], 20.0)
  check.eq(#v, 3)
  local m = siam.tensor { { 1, 2 }, { 3, 4 }, { 5, 6 } }
  local row = m[3]
  check.eq(row:shape(), { 2 })
  check.eq(row:totable(), { 5.0, 6.0 })
  row:set(1, 99)
  check.eq(m:get(3, 1), 5.0, "the row is a copy")
  check.eq(m.nosuchmethod, nil)
end)

test("reductions match plain Lua", function()
  local src = { { 1.5, -2, 3 }, { 4, 0.25, -6 } }
  local t = siam.tensor(src)
  check.near(t:sum(), naive_sum(src))
  check.near(t:mean(), naive_sum(src) / 6)
  local sq = 0
  for _, r in ipairs(src) do for _, x in ipairs(r) do sq = sq + x * x end end
  check.near(t:norm(), math.sqrt(sq))
  local mx, imx = t:max()
  local mn, imn = t:min()
  check.eq({ mx, imx }, { 4.0, 4 })
  check.eq({ mn, imn }, { -6.0, 6 })
end)

test("max and min: first position on ties, NaN skipped", function()
  local _, i = siam.tensor { 3, 1, 3, 1 }:max()
  check.eq(i, 1)
  local _, j = siam.tensor { 3, 1, 3, 1 }:min()
  check.eq(j, 2)
  local v, k = siam.tensor { 0 / 0, 2, 5 }:max()
  check.eq({ v, k }, { 5.0, 3 })
  local w = siam.tensor { 0 / 0 }:min()
  check.truthy(w ~= w, "all-NaN min is NaN")
end)

test("sums accumulate in double", function()
  local t = siam.zeros(100000)
  for i = 1, 100000 do t:set(i, 0.1) end
  local f = string.unpack("f", string.pack("f", 0.1))
  check.near(t:sum(), f * 100000, 1e-6)
end)

test("elementwise add, sub, mul, scale with tensors and numbers", function()
  local a = siam.tensor { { 1, 2 }, { 3, 4 } }
  local b = siam.tensor { { 10, 20 }, { 30, 40 } }
  check.eq(a:add(b):totable(), { { 11.0, 22.0 }, { 33.0, 44.0 } })
  check.eq(b:sub(a):totable(), { { 9.0, 18.0 }, { 27.0, 36.0 } })
  check.eq(a:mul(b):totable(), { { 10.0, 40.0 }, { 90.0, 160.0 } })
  check.eq(a:scale(0.5):totable(), { { 0.5, 1.0 }, { 1.5, 2.0 } })
  check.eq(a:add(1):totable(), { { 2.0, 3.0 }, { 4.0, 5.0 } })
  check.eq(a:totable(), { { 1.0, 2.0 }, { 3.0, 4.0 } }, "operands unchanged")
end)

test("operators + - * and unary minus", function()
  local a = siam.tensor { 1, 2, 3 }
  local b = siam.tensor { 4, 5, 6 }
  check.eq((a + b):totable(), { 5.0, 7.0, 9.0 })
  check.eq((b - a):totable(), { 3.0, 3.0, 3.0 })
  check.eq((a * b):totable(), { 4.0, 10.0, 18.0 })
  check.eq((2 * a):totable(), { 2.0, 4.0, 6.0 })
  check.eq((a * 2):totable(), { 2.0, 4.0, 6.0 })
  check.eq((10 - a):totable(), { 9.0, 8.0, 7.0 })
  check.eq((a - 1):totable(), { 0.0, 1.0, 2.0 })
  check.eq((1 + a):totable(), { 2.0, 3.0, 4.0 })
  check.eq((-a):totable(), { -1.0, -2.0, -3.0 })
end)

test("tostring shows shape and the first values", function()
  check.eq(tostring(siam.tensor { { 1, 2.5 }, { -3, 1e-7 } }),
           "siam.Tensor (2,2) {1, 2.5, -3, 1e-07}")
  check.eq(tostring(siam.zeros(3, 4)),
           "siam.Tensor (3,4) {0, 0, 0, 0, 0, 0, 0, 0, ... (12 values)}")
  check.eq(tostring(siam.ones(8)), "siam.Tensor (8) {1, 1, 1, 1, 1, 1, 1, 1}")
end)

test("close frees the data; the closed tensor says so", function()
  local kept
  do
    local t <close> = siam.tensor { 1, 2 }
    kept = t
    check.eq(t:sum(), 3.0)
  end
  check.eq(tostring(kept), "siam.Tensor (closed)")
  check.error("calling 'sum' on bad self (siam.Tensor is closed)", function() return kept:sum() end)
  check.error("bad argument #1 to 'add' (siam.Tensor is closed)",
              function() return siam.tensor { 1, 2 }:add(kept) end)
  getmetatable(kept).__close(kept)
  check.eq(tostring(kept), "siam.Tensor (closed)", "closing twice is harmless")
end)

test("garbage collection of many tensors", function()
  for _ = 1, 200 do siam.zeros(1000) end
  collectgarbage()
  collectgarbage()
  check.eq(siam.zeros(2):sum(), 0.0)
end)

test("tensors made from Lua live on the CPU context", function()
  check.eq(siam.zeros(2):device(), "cpu")
  check.eq(siam.tensor { 1 }:device(), "cpu")
  check.eq(siam.tensor { 1 }:add(1):device(), "cpu")
end)

test("metatable is named siam.Tensor", function()
  local mt = getmetatable(siam.zeros(1))
  check.eq(mt.__name, "siam.Tensor")
  check.eq(type(mt.__gc), "function")
  check.eq(type(mt.__close), "function")
end)

-- Error messages, each exactly.

test("errors: tensor()", function()
  check.error("bad argument #1 to 'tensor' (table expected, got number)",
              function() return siam.tensor(3) end)
  check.error("bad argument #1 to 'tensor' (table expected, got no value)",
              function() return siam.tensor() end)
  check.error("bad argument #1 to 'tensor' (empty table: a tensor needs values)",
              function() return siam.tensor {} end)
  check.error("bad argument #1 to 'tensor' (empty table at [1]: a tensor needs values)",
              function() return siam.tensor { {}, {} } end)
  check.error("bad argument #1 to 'tensor' (ragged table: element [2] has 1 value, expected 2)",
              function() return siam.tensor { { 1, 2 }, { 3 } } end)
  check.error("bad argument #1 to 'tensor' (ragged table: element [1][2] has 3 values, expected 2)",
              function() return siam.tensor { { { 1, 2 }, { 3, 4, 5 } } } end)
  check.error("bad argument #1 to 'tensor' (element [2][2] is a string, expected a number)",
              function() return siam.tensor { { 1, 2 }, { 3, "x" } } end)
  check.error("bad argument #1 to 'tensor' (element [2] is a number, expected a table)",
              function() return siam.tensor { { 1, 2 }, 3 } end)
  check.error("bad argument #1 to 'tensor' (element [2] is a table, expected a number)",
              function() return siam.tensor { 1, { 2 } } end)
  check.error("bad argument #1 to 'tensor' (element [1] is a boolean, expected a number)",
              function() return siam.tensor { true } end)
  check.error("bad argument #1 to 'tensor' (more than 4 nested levels)",
              function() return siam.tensor { { { { { 1 } } } } } end)
  check.eq(siam.tensor { { { { 1 } } } }:shape(), { 1, 1, 1, 1 })
end)

test("errors: zeros() and ones()", function()
  check.error("bad argument #1 to 'zeros' (shape expected)", function() return siam.zeros() end)
  check.error("bad argument #1 to 'zeros' (size must be in [1, 2147483647], got 0)",
              function() return siam.zeros(0) end)
  check.error("bad argument #2 to 'ones' (size must be in [1, 2147483647], got -3)",
              function() return siam.ones(2, -3) end)
  check.error("bad argument #2 to 'zeros' (number expected, got string)",
              function() return siam.zeros(2, "a") end)
  check.error("bad argument #1 to 'zeros' (number has no integer representation)",
              function() return siam.zeros(2.5) end)
  check.error("bad argument #1 to 'zeros' (size 2 must be in [1, 2147483647], got 0)",
              function() return siam.zeros { 2, 0 } end)
  check.error("bad argument #1 to 'zeros' (a shape has 1 to 4 sizes, got 0)",
              function() return siam.zeros {} end)
  check.error("bad argument #1 to 'zeros' (size 2 is not an integer)",
              function() return siam.zeros { 2, "x" } end)
  check.error("bad argument #5 to 'zeros' (a shape has 1 to 4 sizes)",
              function() return siam.zeros(1, 1, 1, 1, 1) end)
  check.error("bad argument #1 to 'zeros' (a shape has 1 to 4 sizes, got 5)",
              function() return siam.zeros { 1, 1, 1, 1, 1 } end)
  check.error("bad argument #2 to 'zeros' (size must be in [1, 2147483647], got 2147483648)",
              function() return siam.zeros(4, 1 << 31) end)
  check.error("siam_tensor_new: shape too large at dimension 2",
              function() return siam.zeros(1 << 30, 1 << 30, 1 << 30, 1 << 30) end)
end)

test("errors: get() and set()", function()
  local t = siam.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
  check.error("get: a 2-dimensional tensor takes 2 indices, got 1", function() return t:get(1) end)
  check.error("get: a 1-dimensional tensor takes 1 index, got 0",
              function() return siam.zeros(2):get() end)
  check.error("bad argument #1 to 'get' (index 3 out of range [1, 2] for dimension 1)",
              function() return t:get(3, 1) end)
  check.error("bad argument #2 to 'get' (index 0 out of range [1, 3] for dimension 2)",
              function() return t:get(1, 0) end)
  check.error("bad argument #2 to 'get' (number has no integer representation)",
              function() return t:get(1, 1.5) end)
  check.error("bad argument #1 to 'get' (number expected, got string)",
              function() return t:get("a", 1) end)
  check.error("set: a 2-dimensional tensor takes 2 indices, got 1", function() return t:set(1, 1) end)
  check.error("bad argument #3 to 'set' (number expected, got string)",
              function() return t:set(1, 1, "x") end)
  check.error("bad argument #2 to 'set' (index 4 out of range [1, 3] for dimension 2)",
              function() return t:set(1, 4, 0) end)
  check.error("bad argument #1 to 'get' (siam.Tensor expected, got table)",
              function() return t.get({}, 1) end)
  check.error("calling 'get' on bad self (siam.Tensor expected, got table)",
              function() local o = { get = t.get } return o:get(1) end)
end)

test("errors: indexing", function()
  local t = siam.tensor { { 1, 2 }, { 3, 4 } }
  check.error("index 5 out of range [1, 2]", function() return t[5] end)
  check.error("index 0 out of range [1, 2]", function() return t[0] end)
  check.error("tensor index must be an integer, got 1.5", function() return t[1.5] end)
end)

test("errors: elementwise and reductions", function()
  local a = siam.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
  check.error("bad argument #1 to 'add' (shape mismatch: (2,3) and (3,2))",
              function() return a:add(siam.zeros(3, 2)) end)
  check.error("bad argument #1 to 'sub' (shape mismatch: (2,3) and (6))",
              function() return a:sub(siam.zeros(6)) end)
  check.error("bad argument #1 to 'mul' (siam.Tensor expected, got string)",
              function() return a:mul("x") end)
  check.error("bad argument #1 to 'scale' (number expected, got siam.Tensor)",
              function() return a:scale(a) end)
  check.error("bad argument #1 to 'scale' (number expected, got no value)",
              function() return a:scale() end)
  check.error("bad argument #1 to 'sum' (siam.Tensor expected, got number)",
              function() return a.sum(3) end)
  check.error("bad argument #2 to 'add' (siam.Tensor expected, got table)",
              function() return a + {} end)
  check.error("bad argument #2 to 'mul' (shape mismatch: (2,3) and (1))",
              function() return a * siam.zeros(1) end)
end)
