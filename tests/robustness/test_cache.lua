-- A damaged or stale image cache, and images changed behind it: the load
-- must give the pixels on disk now (the fingerprint of a load without the
-- cache), say why it did not use the cache (set:info().cache), and leave a
-- cache the next load uses.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local img = dofile(harness.dir .. "/image_bytes.lua")

-- A copy of the synthetic set with its training pairs cached in t.dir/cache;
-- t.vars.cache is the cache file.
local function cached(t)
  local set = cases.copy_set(t)
  set.cache = t.dir .. "/cache"
  local first = siam.data.load { pairs = set.train, images = set.images, size = 32, cache = set.cache }
  check.eq(first:info().cache, "cache rebuilt (no cache file)")
  local files = siam.io.list(set.cache)
  check.eq(#files, 1)
  set.file = set.cache .. "/" .. files[1]
  set.good = cases.read(set.file)
  t.vars.cache = set.file
  return set
end

local function load(set)
  return siam.data.load { pairs = set.train, images = set.images, size = 32, cache = set.cache }
end

-- The case: `damage(set, t)` changes the cache or the images, then a load
-- must say `note` and give what a load without the cache gives.
local function rebuilt(name, damage, note, same_file)
  return {
    name = name,
    build = function(t)
      local set = cached(t)
      damage(set, t)
      return set
    end,
    call = load,
    check = function(t, set, got)
      check.eq(got:info().cache, cases.fill(note, t))
      local fresh = siam.data.load { pairs = set.train, images = set.images, size = 32, cache = false }
      check.eq(got:fingerprint(), fresh:fingerprint())
      check.eq(load(set):info().cache, "hit")
      if same_file then check.eq(cases.read(set.file), set.good, "the cache written again") end
    end,
  }
end

-- A build putting what `command` (mkdir, mkfifo) makes where the cache
-- file was.
local function in_place_of_cache(command)
  return function(t)
    local set = cached(t)
    os.remove(set.file)
    cases.sh(command .. " " .. cases.shq(set.file))
    return set
  end
end

-- Rewrites an image with other pixels but the same size, then puts its
-- modification time back: only the bytes differ.
local function change_in_place(set)
  local p = set.images .. "/Face_0001/Face_0001_0001.png"
  cases.sh("cp -p " .. cases.shq(p) .. " " .. cases.shq(p .. ".was"))
  local before = #cases.read(p)
  local other = img.flat_png(32, 32, 9)
  check.truthy(#other <= before, "the stand-in fits")
  cases.write(p, other .. string.rep("\0", before - #other)) -- PNG ignores what follows IEND
  cases.sh("touch -r " .. cases.shq(p .. ".was") .. " " .. cases.shq(p) .. " && rm " .. cases.shq(p .. ".was"))
end

cases.run {
  rebuilt("a cache file cut in half", function(set, t)
    cases.write(set.file, set.good:sub(1, #set.good // 2))
    t.vars.half, t.vars.size = #set.good // 2, #set.good
  end, "cache rebuilt (truncated: {half} bytes, expected {size})", true),
  rebuilt("an empty cache file", function(set) cases.write(set.file, "") end,
          "cache rebuilt (corrupt: empty cache file)", true),
  rebuilt("a flipped bit among the cached pixels", function(set)
    cases.write(set.file, cases.flip(set.good, #set.good - 100, 0x10))
  end, "cache rebuilt (corrupt: checksum mismatch)", true),
  rebuilt("another cache format version", function(set)
    cases.write(set.file, cases.flip(set.good, 9, 0x01))
  end, "cache rebuilt (stale: cache format version differs)", true),
  rebuilt("not a cache file at all", function(set) cases.write(set.file, string.rep("x", 100)) end,
          "cache rebuilt (corrupt: not a siamlua image cache (bad magic))", true),
  rebuilt("bytes appended to the cache file", function(set, t)
    cases.write(set.file, set.good .. "xyz")
    t.vars.more, t.vars.size = #set.good + 3, #set.good
  end, "cache rebuilt (corrupt: {more} bytes, expected {size})", true),
  rebuilt("an image replaced (new size and time)", function(set)
    cases.write(set.images .. "/Face_0001/Face_0001_0001.png", img.flat_png(32, 32, 9))
  end, "cache rebuilt (stale: the image files changed (names, sizes or times))"),
  rebuilt("an image changed in place with its size and time restored", change_in_place,
          "cache rebuilt (stale: an image file's contents changed (same names, sizes and times))"),
  rebuilt("the pairs file changed", function(set)
    local text = cases.read(set.train)
    cases.write(set.train, text:gsub("\n", "\r\n"))
  end, "cache rebuilt (stale: the pairs file changed)"),
  {
    name = "a directory where the cache file goes",
    build = in_place_of_cache("mkdir"),
    call = load,
    check = function(t, set, got)
      check.eq(got:info().cache, cases.fill("cache not written: cannot write cache {cache}: Is a "
                                            .. "directory", t))
      check.eq(got:fingerprint(), siam.data.load { pairs = set.train, images = set.images, size = 32,
                                                   cache = false }:fingerprint())
    end,
  },
  {
    name = "a file where the cache directory goes",
    build = function(t)
      local set = cases.copy_set(t)
      set.cache = cases.write(t.dir .. "/cache", "not a directory")
      return set
    end,
    call = load,
    check = function(t, _, got)
      check.eq(got:info().cache, cases.fill("cache not used: cache directory {dir}/cache exists "
                                            .. "and is not a directory", t))
      check.eq(cases.read(t.dir .. "/cache"), "not a directory", "the file is left alone")
    end,
  },
  {
    name = "a FIFO where the cache file goes is not waited on",
    build = in_place_of_cache("mkfifo"),
    child = function(set)
      return { "-e", string.format("local s = siam.data.load{pairs = %q, images = %q, size = 32, "
                                   .. "cache = %q} print(s:info().cache)", set.train, set.images,
                                   set.cache) }
    end,
    timeout = 20, status = 0,
    -- the cache written then replaces the FIFO, and is used next time
    stdout = "cache rebuilt (unreadable: a FIFO)\n",
    check = function(_, set) check.eq(load(set):info().cache, "hit") end,
  },
}

test("cleanup", cases.cleanup)
