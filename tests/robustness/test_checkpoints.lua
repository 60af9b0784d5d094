-- Damaged checkpoints, things that are not checkpoints, and checkpoints of
-- another run given to resume: siam.load and fit{resume=} refuse each with
-- "checkpoint <path>: <what is wrong>", and a refused file changes neither
-- the model nor the file.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local F = cases.F
local train = cases.data().train
local tr, va = train:split { val = 0.25, seed = 1 }

-- A model's checkpoint (m:save) and a training run's (fit{checkpoint=},
-- one epoch at batch 8 with validation), made once.
local fixtures = F.tmpfile("")
cases.sh("mkdir -p " .. cases.shq(fixtures))
local saved = fixtures .. "/model.ckpt"
F.model():save(saved)
local SAVED = cases.read(saved)
local run_ckpt = fixtures .. "/run.ckpt"
siam.fit(F.model(), siam.optim.adam { lr = 0.003 }, tr, { epochs = 1, batch_size = 8, val = va,
                                                          checkpoint = run_ckpt })
local RUN = cases.read(run_ckpt)

-- Offsets (0-based) in a format 3 file: the header, then the architecture.
local VERSION, FLAGS, SIZE, CONV1, PARAMS, THRESHOLD, ARRAYS = 8, 12, 16, 32, 88, 104, 148

-- FNV-1a 64 of every byte before the checksum, and the stored one.
local function checksums(s)
  local h = -3750763034362895579
  for i = 1, #s - 8 do h = (h ~ s:byte(i)) * 1099511628211 end
  return string.unpack("<i8", s, #s - 7), h
end

-- A 64-bit integer read as unsigned, in decimal.
local function unsigned(n)
  if n >= 0 then return tostring(n) end
  local q = (n >> 1) // 5
  return tostring(q) .. tostring(n - q * 10)
end

local function mismatch(s)
  local stored, computed = checksums(s)
  return string.format("checksum mismatch (file corrupted): stored %016x, computed %016x", stored,
                       computed)
end

-- A case loading `bytes` (a function of t, or a string) with siam.load;
-- `expect` the message after "checkpoint {dir}/x.ckpt: " (a function of
-- the bytes, or a string).
local function damaged(name, bytes, expect)
  return {
    name = name,
    build = function(t)
      local b = type(bytes) == "function" and bytes(t) or bytes
      t.vars.msg = type(expect) == "function" and expect(b) or expect
      return cases.write(t.dir .. "/x.ckpt", b)
    end,
    call = function(path) return siam.load(path) end,
    error = "checkpoint {dir}/x.ckpt: {msg}",
    check = function(t, path) check.eq(cases.read(path), cases.read(t.dir .. "/x.ckpt")) end,
  }
end

local norms = cases.norms

-- A resume of the run's checkpoint (or `file`) by a run that differs:
-- `setup()` gives model, optimizer, training set and fit options.
local function resume(name, setup, expect, file)
  return {
    name = name,
    build = function(t)
      local p = cases.write(t.dir .. "/run.ckpt", file or RUN)
      local m, opt, set, opts = setup()
      opts.resume = p
      t.vars.msg = type(expect) == "function" and expect() or expect
      return { path = p, m = m, opt = opt, set = set, opts = opts, before = norms(m) }
    end,
    call = function(r) return siam.fit(r.m, r.opt, r.set, r.opts) end,
    error = "checkpoint {dir}/run.ckpt: {msg}",
    check = function(_, r)
      check.eq(norms(r.m), r.before, "the model is unchanged")
      check.eq(r.opt.steps, 0, "the optimizer is unchanged")
      check.eq(cases.read(r.path), file or RUN, "the file is unchanged")
    end,
  }
end

local function same(extra)
  return function()
    local opts = { epochs = 2, batch_size = 8, val = va }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return F.model(), siam.optim.adam { lr = 0.003 }, tr, opts
  end
end

local function fifo_child(call)
  return function(path)
    return { "-e", string.format("local F = dofile('tests/lua/api_fixture.lua') local tr = F.sets() "
                                 .. "local ok, e = pcall(function() %s end) "
                                 .. "io.stderr:write((e:gsub('^[^:]+:%%d+: ', '')), '\\n') "
                                 .. "F.cleanup() os.exit(ok and 0 or 3)", call:format(path)) }
  end
end

local function make_fifo(t)
  local p = t.dir .. "/x.ckpt"
  cases.sh("mkfifo " .. cases.shq(p))
  return p
end

cases.run {
  -- cut, empty or grown
  damaged("an empty file", "", "truncated: 0 bytes, shorter than the 24-byte header"),
  damaged("a file cut inside the header", SAVED:sub(1, 10),
          "truncated: 10 bytes, shorter than the 24-byte header"),
  damaged("a file missing its last 100 bytes", SAVED:sub(1, -101),
          ("truncated: %d bytes, the header says %d"):format(#SAVED - 100, #SAVED)),
  damaged("three bytes appended", SAVED .. "abc",
          ("3 unexpected bytes after the declared end (%d bytes)"):format(#SAVED)),
  -- every header field flipped
  damaged("the magic flipped", cases.flip(SAVED, 1, 0x20), "not a siamlua checkpoint (bad magic)"),
  damaged("the version field flipped", cases.flip(SAVED, VERSION + 1, 0x04),
          "format version 7 is not supported (this build reads versions 1 to 3); its checksum does "
          .. "not match either: the file is damaged"),
  damaged("a version from a newer build (checksum sound)",
          cases.seal(SAVED, VERSION, string.pack("<I4", 4)),
          "format version 4 is not supported (this build reads versions 1 to 3) (written by a newer "
          .. "siamlua?)"),
  damaged("the section flags flipped", cases.flip(SAVED, FLAGS + 1, 0x08), mismatch),
  damaged("an unknown section flag (checksum sound)", cases.seal(SAVED, FLAGS, string.pack("<I4", 16)),
          "unknown section flags 0x10 (written by a newer siamlua?)"),
  damaged("the size field flipped in a complete file", cases.flip(SAVED, SIZE + 2, 0x01),
          ("the header's size field says %s bytes, but the file's %d bytes are complete (its "
           .. "checksum matches that size): the size field is damaged"):format(unsigned(#SAVED ~ 256),
                                                                             #SAVED)),
  damaged("the size field's top byte flipped", cases.flip(SAVED, SIZE + 8, 0x80),
          ("the header's size field says %s bytes, but the file's %d bytes are complete (its "
           .. "checksum matches that size): the size field is damaged")
          :format(unsigned(#SAVED ~ (1 << 63)), #SAVED)),
  damaged("the checksum flipped", cases.flip(SAVED, #SAVED, 0x01), mismatch),
  damaged("a weight flipped", cases.flip(SAVED, ARRAYS + 41, 0x01), mismatch),
  -- sound checksums over values out of range
  damaged("conv1 with 100000 channels (resealed)", cases.seal(SAVED, CONV1, string.pack("<I4", 100000)),
          "architecture: model config: conv1 has 100000 channels, more than 65536"),
  damaged("a parameter count that disagrees (resealed)",
          cases.seal(SAVED, PARAMS, string.pack("<I8", 10 ^ 12 // 1)),
          "the architecture gives 2161 parameters and 72 BN values, the header declares "
          .. "1000000000000 and 72"),
  damaged("a threshold of 1.5 (resealed)", cases.seal(SAVED, THRESHOLD, string.pack("<d", 1.5)),
          "model metadata: threshold 1.5 is outside [0, 1]"),
  damaged("a NaN weight (resealed)", cases.seal(SAVED, ARRAYS + 8, string.pack("<f", 0 / 0)),
          "parameter conv1.weight holds 1 non-finite value (NaN/Inf): the run that wrote it diverged"),
  damaged("text instead of a checkpoint", "these are my notes\n", "not a siamlua checkpoint (bad magic)"),
  -- not a file
  {
    name = "a missing file",
    call = function(_, t) return siam.load(t.dir .. "/none.ckpt") end,
    error = "checkpoint {dir}/none.ckpt: cannot open: No such file or directory",
  },
  {
    name = "a directory given to siam.load",
    call = function(_, t) return siam.load(t.dir) end,
    error = "checkpoint {dir}: is a directory",
  },
  {
    name = "a directory given to fit{resume=}",
    build = function() return F.model() end,
    call = function(m, t)
      return siam.fit(m, siam.optim.adam(), tr, { epochs = 1, batch_size = 8, resume = t.dir })
    end,
    error = "checkpoint {dir}: is a directory",
  },
  {
    name = "a FIFO given to siam.load is refused at once",
    build = make_fifo,
    child = fifo_child("siam.load(%q)"),
    timeout = 20, status = 3, stderr = "checkpoint {dir}/x.ckpt: not a regular file (a FIFO)\n",
  },
  {
    name = "a FIFO given to fit{resume=} is refused at once",
    build = make_fifo,
    child = fifo_child("siam.fit(F.model(), siam.optim.adam(), tr, {epochs = 1, resume = %q})"),
    timeout = 20, status = 3, stderr = "checkpoint {dir}/x.ckpt: not a regular file (a FIFO)\n",
  },
  -- another run's checkpoint given to resume
  resume("resume with another architecture", function()
    local _, opt, set, opts = same()()
    return F.model { channels = { 4, 6, 8, 16 } }, opt, set, opts
  end, "architecture mismatch: conv2 has 8 channels in the file, 6 in the model"),
  resume("resume with another optimizer", function()
    local m, _, set, opts = same()()
    return m, siam.optim.sgd { lr = 0.01 }, set, opts
  end, "optimizer mismatch: adam in the file, sgd given"),
  resume("resume with SGD momentum where the file has none", function()
    local m, _, set, opts = same()()
    return m, siam.optim.sgd { lr = 0.01, momentum = 0.9 }, set, opts
  end, "optimizer mismatch: adam in the file, sgd given"),
  resume("resume from a model's checkpoint (no training state)", same(),
         "the file has no optimizer state", SAVED),
  resume("resume with another batch size", same { batch_size = 16 },
         "resume: the checkpoint was trained with batch size 8, this run asks for 16"),
  resume("resume on another training set", function()
    local m, opt, _, opts = same()()
    return m, opt, va, opts
  end, function()
    return ("resume: the checkpoint's training set (%d pairs, fingerprint %s) is not this run's "
            .. "(%d pairs, fingerprint %s)"):format(#tr, tr:fingerprint(), #va, va:fingerprint())
  end),
  resume("resume without the validation set", function()
    local m, opt, set, opts = same()()
    opts.val = nil
    return m, opt, set, opts
  end, function()
    return ("resume: the checkpoint's validation set (%d pairs, fingerprint %s) is not this run's "
            .. "(none)"):format(#va, va:fingerprint())
  end),
  resume("resume with a damaged file", same(), function() return mismatch(cases.flip(RUN, 200, 1)) end,
         cases.flip(RUN, 200, 1)),
  -- saving where it cannot
  {
    name = "saving into a missing folder",
    call = function(_, t) return F.model():save(t.dir .. "/no/such/m.ckpt") end,
    error = "checkpoint {dir}/no/such/m.ckpt: atomic write {dir}/no/such/m.ckpt: cannot create temp "
            .. "file {dir}/no/such/m.ckpt.tmp.XXXXXX: No such file or directory",
    mask_temp = true,
  },
  {
    name = "saving over a directory",
    build = function(t)
      cases.sh("mkdir " .. cases.shq(t.dir .. "/m.ckpt"))
      return t.dir .. "/m.ckpt"
    end,
    call = function(path) return F.model():save(path) end,
    error = "checkpoint {dir}/m.ckpt: atomic write {dir}/m.ckpt: rename of {dir}/m.ckpt.tmp.XXXXXX "
            .. "failed: Is a directory",
    mask_temp = true,
    check = function(t) check.eq(siam.io.list(t.dir), { "m.ckpt" }, "no temp file left") end,
  },
}

test("cleanup", function()
  cases.sh("rm -rf " .. cases.shq(fixtures))
  cases.cleanup()
end)
