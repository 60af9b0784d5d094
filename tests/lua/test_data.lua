-- siam.data and siam.PairSet: the synthetic set, load, find, files, split,
-- take, folds, pair, summary, batches, augmentation settings, and errors.
local F = dofile(harness.dir .. "/api_fixture.lua")
local train, testset, info = F.sets()

test("synthetic set: sizes, labels, where it lives", function()
  check.eq(#train, 80)
  check.eq(#testset, 40)
  local i = train:info()
  check.eq(i.matched, 40)
  check.eq(i.mismatched, 40)
  check.eq(i.height, 32)
  check.eq(i.width, 32)
  check.eq(i.folds, 1)
  check.eq(info.synthetic, true)
  check.eq(info.origin, "synthetic")
  check.contains(info.message, "SYNTHETIC face set (24 people x 4 images, seed 1)")
  check.contains(tostring(train), "siam.PairSet(80 pairs: 40 matched, 40 mismatched;")
end)

test("pair(i): names, people, label, fold", function()
  local p = train:pair(1)
  check.eq(p.label, 1)
  check.eq(p.person_a, p.person_b)
  check.truthy(p.a:match("^Face_%d+/Face_%d+_%d+%.png$"), "name " .. p.a)
  check.eq(p.fold, 1)
  local q = train:pair(80)
  check.eq(q.label, 0)
  check.truthy(q.person_a ~= q.person_b, "mismatched pair has two people")
  check.error("bad argument #1 to 'pair' (pair index 81 out of range [1, 80])",
              function() return train:pair(81) end)
  check.error("bad argument #1 to 'pair' (number expected, got no value)", function() return train:pair() end)
end)

test("load reads View 1 from the directory find/synthetic reported", function()
  local tr, te = siam.data.load { root = info.dir, size = 32, cache = F.cache }
  check.eq(#tr, 80)
  check.eq(#te, 40)
  check.eq(tr:pair(7), train:pair(7))
  local one = siam.lfw { pairs = info.test, images = info.images, size = 32, cache = false }
  check.eq(#one, 40)
  check.error_match("no pairs.txt there", function() return siam.data.load({ root = info.dir, view = 2 }) end)
  check.error_match("^.*/nowhere: no such directory$", function() return siam.data.load({ root = "/nowhere" }) end)
  check.error("bad argument #1 to 'load' (unknown option 'pair'; did you mean 'pairs'?)",
              function() return siam.data.load({ root = info.dir, pair = "x" }) end)
  check.error("bad argument #1 to 'load' (option 'view' must be in [1, 2], got 3)",
              function() return siam.data.load({ root = info.dir, view = 3 }) end)
  check.error("bad argument #1 to 'load' (table expected, got string)", function() return siam.data.load("x") end)
  check.error("bad argument #1 to 'load' (give 'root' (an LFW directory), or both 'pairs' "
              .. "and 'images')", function() return siam.data.load({}) end)
end)

test("find with an explicit path says it is that path", function()
  local tr, te, where = siam.data.find { path = info.dir, size = 32, cache = F.cache,
                                         quiet = true }
  check.eq(#tr + #te, 120)
  check.eq(where.origin, "path")
  check.eq(where.synthetic, false)
  check.contains(where.message, "data: LFW at " .. info.dir .. " (the path given)")
  check.error_match("LFW path given: /nowhere: no such directory", siam.data.find,
                    { path = "/nowhere" })
end)

test("split: stratified, seeded, disjoint", function()
  local a, b = train:split { val = 0.25, seed = 3 }
  check.eq(#a, 60)
  check.eq(#b, 20)
  check.eq(b:info().matched, 10)
  local a2, b2 = train:split { val = 0.25, seed = 3 }
  for i = 1, #b do check.eq(b2:pair(i), b:pair(i)) end
  local _, b3 = train:split { val = 0.25, seed = 4 }
  local same = 0
  for i = 1, #b do if b3:pair(i).a == b:pair(i).a and b3:pair(i).b == b:pair(i).b then same = same + 1 end end
  check.truthy(same < #b, "another seed gives another split")
  local c, d, dropped = train:split { val = 0.3, seed = 1, disjoint = true }
  check.eq(c:summary(d).shared_people, 0)
  check.eq(#c + #d + dropped, 80)
  check.error("bad argument #1 to 'split' (option 'val' must be in (0, 1), got 1.0)",
              function() return train:split({ val = 1 }) end)
  check.error("bad argument #1 to 'split' (unknown option 'vals'; did you mean 'val'?)",
              function() return train:split({ vals = 0.1 }) end)
  check.truthy(a2 ~= nil)
end)

test("split{balanced}: held-out people, balanced pairs of their own images, seeded", function()
  local tr, val, dropped = train:split { balanced = 8, people = 0.25, seed = 2 }
  check.eq({ #val, val:info().matched, #tr + dropped }, { 8, 4, 80 })
  check.eq(tr:summary(val).shared_people, 0)
  check.contains(tostring(val), "#val-bal)")
  local held = {}
  for i = 1, #val do
    local p = val:pair(i)
    check.eq(p.person_a == p.person_b, p.label == 1, "pair " .. i .. "'s label")
    held[p.person_a], held[p.person_b] = true, true
  end
  -- the training side is every pair of the file without a held-out person
  local kept = 0
  for i = 1, #train do
    local p = train:pair(i)
    if not held[p.person_a] and not held[p.person_b] then kept = kept + 1 end
  end
  check.truthy(#tr <= kept, "training pairs with a held-out person")
  local _, again = train:split { balanced = 8, people = 0.25, seed = 2 }
  for i = 1, #val do check.eq(again:pair(i), val:pair(i)) end
  local _, most = train:split { balanced = 2000, people = 0.25, exact = false, seed = 2 }
  check.truthy(#most > 8 and #most < 2000 and most:info().matched * 2 == #most,
               "exact = false: the most the people allow, balanced (" .. #most .. ")")
  check.error_match("allow %d+ matched and %d+ mismatched pairs: 2000 balanced pairs need 1000 "
                    .. "of each %(ask for fewer, or hold out more people%)",
                    function() return train:split { balanced = 2000, people = 0.25 } end)
  check.error("bad argument #1 to 'split' (option 'balanced' must be even (as many matched as "
              .. "mismatched pairs), got 7)", function() return train:split { balanced = 7 } end)
  check.error("bad argument #1 to 'split' (option 'val' (a share of the pairs) does not apply "
              .. "with 'balanced'; 'people' is the share of people held out)",
              function() return train:split { balanced = 8, val = 0.2 } end)
  check.error("bad argument #1 to 'split' (a 'balanced' split is always identity-disjoint "
              .. "(disjoint = false given))",
              function() return train:split { balanced = 8, disjoint = false } end)
  check.error("bad argument #1 to 'split' (options 'people' and 'exact' go with 'balanced')",
              function() return train:split { people = 0.3 } end)
  check.error("bad argument #1 to 'split' (option 'people' must be in (0, 1), got 1.0)",
              function() return train:split { balanced = 8, people = 1 } end)
end)

test("take: a stratified subset of n pairs", function()
  local s = train:take(20, 5)
  check.eq(#s, 20)
  check.eq(s:info().matched, 10)
  check.eq(#train:take(80), 80)
  check.error("bad argument #1 to 'take' (count must be in [1, 80], got 0)", function() return train:take(0) end)
end)

test("folds: one for View 1; fold(k) checks k", function()
  check.eq(train:folds(), 1)
  local tr, te = train:fold(1)
  check.eq(#te, 80)
  check.eq(#tr, 0)
  check.error("bad argument #1 to 'fold' (fold 2 out of range [1, 1])", function() return train:fold(2) end)
end)

test("summary: the seed report's numbers", function()
  local s = train:summary()
  check.eq(s.pairs, 80)
  check.eq(s.matched, 40)
  check.eq(s.people, 16) -- 24 people, 8 reserved for the test pairs
  check.truthy(s.images <= 64 and s.images > 16, "images " .. s.images)
  check.eq(s.shared_people, nil)
  check.eq(train:summary(testset).shared_people, 0)
  check.error("bad argument #1 to 'summary' (siam.PairSet expected, got number)", function() return train:summary(3) end)
end)

test("batches: shapes, order, labels, pixel range, drop_last", function()
  local sizes, labels = {}, {}
  for a, b, l in train:batches { size = 32 } do
    check.eq(a:shape(), { l:numel(), 1, 32, 32 })
    check.eq(b:shape(), { l:numel(), 1, 32, 32 })
    sizes[#sizes + 1] = l:numel()
    for i = 1, l:numel() do labels[#labels + 1] = l:get(i) end
    check.truthy(a:min() >= 0 and a:max() <= 1, "pixels in [0, 1]")
    -- x/255 exactly: 255 * x is a whole number
    local v = a:get(1, 1, 16, 16) * 255
    check.near(v, math.floor(v + 0.5), 1e-3)
  end
  check.eq(sizes, { 32, 32, 16 })
  for i = 1, 80 do check.eq(labels[i], train:pair(i).label + 0.0) end
  local n = 0
  for _ in train:batches { size = 32, drop_last = true } do n = n + 1 end
  check.eq(n, 2)
  -- a shuffled order is a permutation, fixed by the seed
  local function order(seed)
    local sum, first = 0, nil
    for _, _, l in train:batches { size = 80, shuffle = true, seed = seed } do
      sum = l:sum()
      first = l:totable()
    end
    return sum, first
  end
  local s1, o1 = order(7)
  local s2, o2 = order(7)
  check.eq(s1, 40.0)
  check.eq(o1, o2)
  check.error("bad argument #1 to 'batches' (option 'size' must be in [1, 1048576], got 0)",
              function() return train:batches({ size = 0 }) end)
  -- the set closed between two batches
  local part = train:take(40)
  local next_batch = part:batches { size = 8 }
  check.eq(select(3, next_batch()):numel(), 8)
  part:close()
  check.error("batches: the pair set was closed during iteration", next_batch)
end)

test("augmentation settings: paper defaults, overrides, errors, effect", function()
  local a = siam.data.augment()
  check.eq(a.enabled, true)
  check.near(a.rotate_deg, 10)
  check.near(a.shear, 0.3, 1e-7)
  check.near(a.scale_min, 0.8, 1e-7)
  check.near(a.p_component, 0.5)
  check.eq(a.p_flip, 0.0)
  local b = siam.data.augment { rotate_deg = 5, p_flip = 0.5 }
  check.eq(b.rotate_deg, 5.0)
  check.eq(b.p_flip, 0.5)
  check.eq(siam.data.augment { enabled = false }.enabled, false)
  check.error("bad argument #1 to 'augment' (unknown augment option 'rotate')",
              function() return siam.data.augment({ rotate = 5 }) end)
  check.error("bad argument #1 to 'augment' (augment option 'p_flip' must be in [0, 1], got 2.0)",
              function() return siam.data.augment({ p_flip = 2 }) end)
  check.error("bad argument #1 to 'augment' (augment needs 0 < scale_min <= scale_max, got 1.5 and 1.2)",
              function() return siam.data.augment({ scale_min = 1.5 }) end)
  local plain, aug
  for x in train:batches { size = 4 } do plain = x break end
  for x in train:batches { size = 4, augment = { p_component = 1 } } do aug = x break end
  local diff = 0
  for i = 1, 32 do diff = diff + math.abs(plain:get(1, 1, i, i) - aug:get(1, 1, i, i)) end
  check.truthy(diff > 0, "augmentation changes the pixels")
  check.truthy(aug:min() >= 0 and aug:max() <= 1, "augmented pixels stay in [0, 1]")
end)

test("files: pairs of image files decode like the loader", function()
  local p = train:pair(3)
  local set = siam.data.files({ { info.images .. "/" .. p.a, info.images .. "/" .. p.b, 1 } },
                              { size = 32 })
  check.eq(#set, 1)
  check.eq(set:pair(1).label, 1)
  check.eq(set:pair(1).a, info.images .. "/" .. p.a)
  local x1, x2
  for a in set:batches { size = 1 } do x1 = a end
  for a in train:batches { size = 3 } do x2 = a break end
  for i = 1, 32, 5 do
    for j = 1, 32, 5 do check.eq(x1:get(1, 1, i, j), x2:get(3, 1, i, j)) end
  end
  check.error_match("/no/such%.jpg", function() return siam.data.files({ { "/no/such.jpg", "/no/such.jpg" } }) end)
  local junk = F.tmpfile(".jpg")
  local f = assert(io.open(junk, "w"))
  f:write("not an image at all")
  f:close()
  check.error_match(junk:gsub("%p", "%%%0"), function() return siam.data.files({ { junk, junk } }) end)
  os.remove(junk)
  check.error("bad argument #1 to 'files' (pair 1: image 2 must be a path, got nil)",
              function() return siam.data.files({ { "a" } }) end)
  check.error("bad argument #1 to 'files' (at least one pair expected)", function() return siam.data.files({}) end)
end)

test("files: a FIFO, a directory or a device is refused by name, without waiting", function()
  local support = dofile(harness.dir .. "/support.lua")
  support.interpreter = harness.interpreter
  local dir = support.tmpdir()
  local fifo = dir .. "/pipe.png"
  check.eq(os.execute("mkfifo " .. support.shq(fifo)), true)
  local good = info.images .. "/" .. train:pair(1).a
  -- in a child process with a time limit: the old reader blocked on the open
  local out, err, code = support.run({ "-e", string.format(
    "local ok, e = pcall(siam.data.files, {{%q, %q}}, {size = 32}) print(ok, e)", good, fifo) },
    { timeout = 20 })
  check.eq(code, 0, "stderr: " .. err)
  check.eq(out, "false\t" .. fifo .. ": not a regular file (a FIFO)\n")
  check.error(dir .. ": not a regular file (a directory)",
              function() return siam.data.files({ { good, dir } }, { size = 32 }) end)
  check.error("/dev/null: not a regular file (a character device)",
              function() return siam.data.files({ { "/dev/null", good } }, { size = 32 }) end)
  support.cleanup()
end)

test("crop: each source cut to its centred square; a model keeps its training crop", function()
  local ctr, cte = siam.data.load { root = info.dir, size = 32, crop = 16, cache = F.cache }
  check.eq(ctr:info().crop, 16)
  check.eq(train:info().crop, 0)
  -- the loader's cropped pixels are the files' own, decoded with the same crop
  local p = ctr:pair(3)
  local one = siam.data.files({ { info.images .. "/" .. p.a, info.images .. "/" .. p.b } },
                              { size = 32, crop = 16 })
  check.eq(one:info().crop, 16)
  local a, b = ctr:images(3)
  local fa, fb = one:images(1)
  check.eq(fa, a)
  check.eq(fb, b)
  check.truthy(a ~= (train:images(3)), "the crop changes the pixels")

  local m = F.model()
  check.eq(m.crop, nil)
  siam.evaluate(m, testset, { examples = 0 }) -- an untrained model takes any crop
  siam.fit(m, siam.optim.adam(), ctr:take(16), { epochs = 1, batch_size = 8 })
  check.eq(m.crop, 16)
  check.error("bad argument #2 to 'evaluate' (the pair set's images are cropped to 0, the "
              .. "model was trained on images cropped to 16 (0: whole image); load the set with "
              .. "crop=16)", function() return siam.evaluate(m, testset) end)
  check.error_match("cropped to 0, the model was trained on images cropped to 16",
                    function() return siam.fit(m, siam.optim.adam(), ctr, { val = testset }) end)
  local path = F.tmpfile(".ckpt")
  m:save(path)
  local back = siam.load(path)
  check.eq(back.crop, 16)
  check.eq(siam.evaluate(back, cte).accuracy, siam.evaluate(m, cte).accuracy)
  os.remove(path)

  check.error_match("crop 33 is larger than the 32x32 image",
                    function() return siam.data.load { root = info.dir, size = 32, crop = 33,
                                                      cache = F.cache } end)
  check.error("bad argument #1 to 'load' (option 'crop' must be in [0, 8192], got -1)",
              function() return siam.data.load { root = info.dir, crop = -1 } end)
end)

test("close frees the set; using it afterwards is an error", function()
  local s = train:take(4)
  s:close()
  s:close()
  check.eq(tostring(s), "siam.PairSet (closed)")
  check.error("calling 'info' on bad self (siam.PairSet is closed)", function() return s:info() end)
  do local t <close> = train:take(2) end
end)

test("fingerprint: the content of a set, not where it lies; file_hash of a pairs file", function()
  local fp = train:fingerprint()
  check.truthy(fp:match("^%x+$") and #fp == 16, "16 hex digits: " .. fp)
  check.eq(train:take(#train):fingerprint(), fp)
  check.eq(#train:take(#train - 1), #train - 1) -- once #train: both classes rounded up
  check.truthy(train:take(#train - 1):fingerprint() ~= fp, "a subset is another set")
  check.truthy(testset:fingerprint() ~= fp, "the test set is another set")
  local again = siam.data.load { root = info.dir, size = 32, cache = false }
  check.eq(again:fingerprint(), fp)
  local bigger = siam.data.load { root = info.dir, size = 33, cache = false }
  check.truthy(bigger:fingerprint() ~= fp, "another size is another set")
  local h = siam.io.file_hash(info.train)
  check.truthy(h:match("^%x+$") and #h == 16, "16 hex digits: " .. h)
  check.eq(siam.io.file_hash(info.train), h)
  check.truthy(siam.io.file_hash(info.test) ~= h, "two files, two hashes")
  local none, msg = siam.io.file_hash(info.dir .. "/missing.txt")
  check.eq(none, nil)
  check.eq(msg, info.dir .. "/missing.txt: cannot open it: No such file or directory")
  check.eq(select(2, siam.io.file_hash(info.dir)), info.dir .. ": not a regular file (a directory)")
  -- a FIFO is refused at once, never read (it would wait for a writer)
  local fifo = info.dir .. "/pairs.fifo"
  os.remove(fifo)
  local support = dofile(harness.dir .. "/support.lua")
  check.eq(os.execute("mkfifo " .. support.shq(fifo)), true)
  check.eq(select(2, siam.io.file_hash(fifo)), fifo .. ": not a regular file (a FIFO)")
  os.remove(fifo)
end)

test("cleanup", F.cleanup)
