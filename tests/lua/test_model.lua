-- siam.Model: construction and its options, parameters, forward on sets
-- and tensors, train/eval, the threshold, save/load round trips, errors.
local F = dofile(harness.dir .. "/api_fixture.lua")
local train, testset = F.sets()

-- Parameters of the reduced configuration: conv k has Co*Ci*K*K + Co
-- weights and biases, BN 2*Co, fc 16*1*1*32 + 32 (conv4 output is 1x1 at
-- 32x32 input: 32-5+1=28 ->14, -3+1=12 -> 6, -3+1=4 -> 2, -2+1 = 1), out 32+1.
local function expected_numel()
  local ch, k, cin, n = { 4, 8, 8, 16 }, { 5, 3, 3, 2 }, 1, 0
  for i = 1, 4 do
    n = n + ch[i] * cin * k[i] * k[i] + ch[i] + 2 * ch[i]
    cin = ch[i]
  end
  return n + 16 * 32 + 32 + 32 + 1
end

test("construction: options, defaults, tostring", function()
  local m = F.model()
  check.eq(m.numel, expected_numel())
  check.eq(m.config, { size = 32, channels = { 4, 8, 8, 16 }, kernels = { 5, 3, 3, 2 }, fc = 32,
                       dropout = 0.0, head = "l1", embed = "sigmoid" })
  check.eq(m.init, "pytorch")
  check.eq(m.device, "cpu")
  check.eq(m.threshold, 0.5)
  check.eq(m.training, true)
  check.eq(m.seed, 1)
  check.contains(tostring(m), "siam.Model(32x32, conv 4/8/8/16, fc 32, " .. expected_numel()
                 .. " parameters")
  -- the paper's layers by default (fc narrowed to keep the test fast): conv
  -- 6464 + 401536 + 262272 + 524544, BN 2*(64+128+128+256), fc 9216*8 + 8,
  -- out 8 + 1 (with fc = 4096: 38,951,745 + 1,152)
  local paper = siam.model { device = "cpu", batch = 1, fc = 8, init = "pytorch" }
  check.eq(paper.numel, 1194816 + 1152 + 73736 + 9)
  check.eq(paper.config.size, 105)
  check.eq(paper.config.kernels, { 10, 7, 4, 4 })
  check.eq(siam.model { size = 32, channels = { 4, 8, 8, 16 }, kernels = { 5, 3, 3, 2 }, fc = 32,
                       device = "cpu" }.init, "paper")
  paper:close()
end)

test("errors name the option", function()
  check.error("bad argument #1 to 'model' (option 'init' must be one of 'paper', 'pytorch', "
              .. "'crosscheck', got 'xavier')", function() return siam.model { init = "xavier" } end)
  check.error("bad argument #1 to 'model' (unknown option 'dropuot'; did you mean 'dropout'?)",
              function() return siam.model { dropuot = 0.1 } end)
  check.error("bad argument #1 to 'model' (option 'dropout' must be in [0, 1), got 1.0)",
              function() return siam.model { dropout = 1 } end)
  check.error("bad argument #1 to 'model' (option 'channels' must be a table of 4 integers)",
              function() return siam.model { channels = { 1, 2 } } end)
  check.error("bad argument #1 to 'model' (option 'seed' must be in [0, 9223372036854775807], got -1)",
              function() return siam.model { seed = -1 } end)
  check.error_match("bad argument #1 to 'model' %(model config: ",
                    function() return siam.model { size = 8 } end)
  if not siam.has_cuda then
    check.error("device 'cuda': this siamlua was built without CUDA (make CUDA=1)",
                function() return siam.model { device = "cuda" } end)
  end
  local m = F.model()
  check.error("siam.Model: field 'numel' cannot be set (only 'threshold' and 'tta')",
              function() m.numel = 3 end)
  check.error("siam.Model: threshold must be in [0, 1], got 2.0", function() m.threshold = 2 end)
end)

test("same seed, same weights; another seed, other weights", function()
  local a, b, c = F.model(), F.model(), F.model { seed = 2 }
  check.eq(a:parameter("conv1.weight"):totable(), b:parameter("conv1.weight"):totable())
  check.truthy(a:parameters()[1].norm ~= c:parameters()[1].norm, "seed changes conv1")
end)

test("parameters: PyTorch names, shapes, norms", function()
  local m = F.model()
  local ps = m:parameters()
  check.eq(#ps, 20)
  check.eq(ps[1].name, "conv1.weight")
  check.eq(ps[1].shape, { 4, 1, 5, 5 })
  check.eq(ps[3].name, "bn1.weight")
  check.eq(ps[17].name, "fc.weight")
  check.eq(ps[17].shape, { 32, 16 })
  check.eq(ps[20].name, "out.bias")
  local total = 0
  for _, p in ipairs(ps) do total = total + p.numel end
  check.eq(total, m.numel)
  -- norm against the tensor copy; BN weight is all ones
  local w = m:parameter("conv1.weight")
  local s = 0
  for _, v in ipairs(w:totable()) do for _, r in ipairs(v) do for _, q in ipairs(r) do
    for _, x in ipairs(q) do s = s + x * x end end end end
  check.near(ps[1].norm, math.sqrt(s), 1e-9)
  check.near(ps[3].norm, 2.0, 1e-12) -- sqrt(4 ones)
  -- PyTorch init: |w| <= 1/sqrt(fan_in) = 1/5 for conv1
  check.truthy(w:max() <= 0.2 and w:min() >= -0.2, "U(-1/5, 1/5)")
  check.eq(ps[1].grad_norm, 0.0)
  check.error("bad argument #1 to 'parameter' (no parameter named 'conv9.weight')",
              function() return m:parameter("conv9.weight") end)
end)

test("forward on a set: probabilities in (0, 1), deterministic, eval mode", function()
  local m = F.model()
  local p = m:forward(testset)
  check.eq(#p, 40)
  for i = 1, #p do check.truthy(p[i] > 0 and p[i] < 1, "p in (0, 1)") end
  check.eq(m:forward(testset), p)
  check.eq(m.training, true) -- forward on a set does not change the mode
end)

test("forward on tensors equals forward on the set (eval mode)", function()
  local m = F.model()
  m:eval()
  local p = m:forward(testset)
  local i = 0
  for a, b in testset:batches { size = 16 } do
    local q = m:forward(a, b)
    for j = 1, #q do check.near(q[j], p[i + j], 1e-6) end
    i = i + #q
  end
  check.eq(i, 40)
  -- a batch larger than the model was sized for grows it
  for a, b in testset:batches { size = 40 } do check.eq(#m:forward(a, b), 40) end
  check.eq(m.batch, 40)
  check.error("bad argument #1 to 'forward' (siam.PairSet or siam.Tensor expected, got number)",
              function() return m:forward(3) end)
  check.error("bad argument #1 to 'forward' (images must be Bx1x32x32, got (2,3))",
              function() return m:forward(siam.zeros(2, 3), siam.zeros(2, 3)) end)
  local big = F.model { size = 40 }
  check.error("bad argument #1 to 'forward' (the pair set's images are 32x32, the model takes 40x40)",
              function() return big:forward(testset) end)
end)

test("train and eval switch the mode and return the model", function()
  local m = F.model()
  check.truthy(m:eval() == m, "eval returns the model")
  check.eq(m.training, false)
  check.eq(m:train().training, true)
end)

test("save and load: same probabilities, metadata kept in the file, errors", function()
  local m = F.model { dropout = 0.2, seed = 7 }
  m.threshold = 0.625
  m.tta = "flip"
  local path = F.tmpfile(".ckpt")
  check.truthy(m:save(path) == m, "save returns the model")
  check.eq(io.open(path .. ".meta"), nil) -- one file: no sidecar
  local m2 = siam.load(path)
  check.eq(m2.threshold, 0.625)
  check.eq(m2.tta, "flip")
  check.eq(m2.init, "pytorch")
  check.eq(m2.seed, 7)
  check.eq(m2.crop, nil)
  check.eq(m2.config.dropout, m.config.dropout)
  check.eq(m2.training, false)
  check.eq(m2:forward(testset), m:forward(testset))
  local f = assert(io.open(path, "r+b"))
  f:seek("set", 100)
  f:write("\255\255\255")
  f:close()
  check.error_match("checkpoint .*: checksum mismatch", function() return siam.load(path) end)
  os.remove(path)
  check.error_match("checkpoint " .. path:gsub("%p", "%%%0") .. ": cannot open",
                    function() return siam.load(path) end)
  f = assert(io.open(path, "w"))
  f:write("hello")
  f:close()
  check.error("checkpoint " .. path .. ": not a siamlua checkpoint (bad magic)",
              function() return siam.load(path) end)
  os.remove(path)
  check.error_match("/no/such/dir/m%.ckpt", function() return m:save("/no/such/dir/m.ckpt") end)
end)

test("a stale .meta beside a checkpoint is removed by save and never read", function()
  local m = F.model()
  local path = F.tmpfile(".ckpt")
  F.write(path .. ".meta", "threshold 0.9\n")
  m.threshold = 0.25
  m:save(path)
  check.eq(io.open(path .. ".meta"), nil)
  F.write(path .. ".meta", "threshold 0.9\n")
  check.eq(siam.load(path).threshold, 0.25)
  os.remove(path .. ".meta")
  os.remove(path)
end)

test("format 2 files (the previous build's) load with their .meta; a misspelt key is an error",
     function()
  -- tests/fixtures/model-v2.ckpt and its .meta: written by the format 2 build
  local path = F.tmpfile(".ckpt")
  F.write(path, F.read(harness.dir .. "/../fixtures/model-v2.ckpt"))
  F.write(path .. ".meta", F.read(harness.dir .. "/../fixtures/model-v2.ckpt.meta"))
  local m = siam.load(path)
  check.eq(m.threshold, 0.625)
  check.eq(m.tta, "flip")
  check.eq(m.init, "pytorch")
  check.eq(m.seed, 5)
  check.eq(m.config.head, "rich")
  check.eq(m.numel, 132)
  F.write(path .. ".meta", "treshold 0.73\n")
  check.error("checkpoint " .. path .. ": " .. path .. ".meta:1: unknown key 'treshold' (a .meta "
              .. "file holds threshold, init, seed, crop and tta)", function() return siam.load(path) end)
  F.write(path .. ".meta", "threshold 0.7\ntta sideways\n")
  check.error("checkpoint " .. path .. ": " .. path .. ".meta:2: bad tta 'sideways' (expected none "
              .. "or flip)", function() return siam.load(path) end)
  os.remove(path .. ".meta")
  check.eq(siam.load(path).threshold, 0.5) -- no sidecar: the defaults
  m:save(path) -- now format 3, which holds the threshold itself
  os.remove(path)
end)

-- conv1 of 8192 channels: a 3 MB model whose activations at batch 4096
-- (8192 images of 8192 x 28 x 28) need hundreds of GiB.
local wide = { channels = { 8192, 8, 8, 16 }, batch = 1 }

test("a batch that cannot fit is refused with the memory it needs, before allocating", function()
  local pattern = "model: batch 4096 needs [%d.]+ [KMGTPE]i?B %(activations [%d.]+ [KMGTPE]i?B, "
                  .. "parameters, gradients and BN statistics [%d.]+ [KMGTPE]i?B%); this machine "
                  .. "has [%d.]+ [KMGTPE]i?B available$"
  local function refused(f)
    local ok, e = pcall(f)
    check.eq(ok, false)
    check.truthy(tostring(e):match(pattern), "got: " .. tostring(e))
  end
  refused(function() return F.model { channels = wide.channels, batch = 4096 } end)
  local m = F.model(wide)
  refused(function() return siam.fit(m, siam.optim.adam(), train, { batch_size = 4096 }) end)
  check.eq(m.batch, 1) -- the model is as it was
  local path = F.tmpfile(".ckpt")
  m:save(path)
  local ok, e = pcall(siam.load, path, { batch = 4096 })
  check.eq(ok, false)
  check.truthy(e:match("checkpoint .-: model: batch 4096 needs .* available$"), e)
  check.eq(siam.load(path, { batch = 2 }).batch, 2)
  os.remove(path)
end)

test("a bit flipped in the architecture is a checksum error, not a huge model", function()
  local m = F.model()
  local path = F.tmpfile(".ckpt")
  m:save(path)
  local s = F.read(path)
  -- byte 35: the top byte of conv1's channel count (4 becomes 1073741828)
  F.write(path, s:sub(1, 35) .. string.char(s:byte(36) ~ 0x40) .. s:sub(37))
  check.error_match("checkpoint .*: checksum mismatch %(file corrupted%)",
                    function() return siam.load(path) end)
  os.remove(path)
end)

test("a checkpoint holding NaN or Inf weights is refused, naming the parameter", function()
  local m = F.model()
  local path = F.tmpfile(".ckpt")
  m:save(path)
  -- model-only file: the parameters end 8 + 72 * 4 bytes before the end (72
  -- BN statistics, then the checksum); conv2.weight starts 112 floats in
  local size = #F.read(path)
  local params = size - 8 - (m.numel + 72) * 4
  F.patch_sealed(path, params + 112 * 4, string.pack("<f", 0 / 0) .. string.pack("<f", 1 / 0))
  check.error("checkpoint " .. path .. ": parameter conv2.weight holds 2 non-finite values "
              .. "(NaN/Inf): the run that wrote it diverged", function() return siam.load(path) end)
  os.remove(path)
end)

test("close", function()
  local m = F.model()
  m:close()
  m:close()
  check.eq(tostring(m), "siam.Model (closed)")
  check.error("calling 'forward' on bad self (siam.Model is closed)",
              function() return m:forward(testset) end)
end)

test("cleanup", F.cleanup)
