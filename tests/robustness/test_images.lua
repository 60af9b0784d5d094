-- Bad and unusual image files, through siam.data.files (one file, its
-- message naming it) and siam.data.load (an image a pairs file names):
-- every one a clear error, or decoded to the grey value it holds.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local img = dofile(harness.dir .. "/image_bytes.lua")

-- The grey bytes of image 1 of the set made from `path` at size x size.
local function pixels(path, size, crop)
  local set = siam.data.files({ { path, path } }, { size = size or 8, crop = crop })
  return (set:images(1))
end

-- A case decoding `bytes` (written to t.dir/<file>): `expect` is the
-- message after "{dir}/<file>: ", or a number: every pixel's grey value.
local function image(name, file, bytes, expect, size)
  return {
    name = name,
    build = function(t) return cases.write(t.dir .. "/" .. file, bytes) end,
    call = function(path) return pixels(path, size) end,
    error = type(expect) == "string" and ("{dir}/" .. file .. ": " .. expect) or nil,
    check = type(expect) == "number" and function(_, _, got)
      check.eq(got, string.rep(string.char(expect), (size or 8) ^ 2))
    end or nil,
  }
end

-- A case decoding t.dir/a.png after making the links {target, name}.
local function linked(name, links, expect)
  return {
    name = name,
    build = function(t)
      for _, l in ipairs(links) do cases.sh("ln -s " .. l[1] .. " " .. cases.shq(t.dir .. "/" .. l[2])) end
      return t.dir .. "/a.png"
    end,
    call = function(path) return pixels(path) end,
    error = "{dir}/a.png: " .. expect,
  }
end

local function ramp(x) return x * 30 end
local plain = img.png { w = 8, h = 8, pixel = ramp }
local png8 = img.flat_png(8, 8, 77)

cases.run {
  -- damaged and empty files
  image("an empty file", "a.png", "", "empty file (0 bytes), not an image"),
  image("a text file named .jpg", "a.jpg", "just some notes\n",
        "not a readable image (unknown image type)"),
  image("a PNG signature and nothing more", "a.png", img.PNG_SIGNATURE,
        "truncated or corrupt PNG (no IHDR header after the signature)"),
  image("a PNG cut inside its pixel data", "a.png", png8:sub(1, #png8 - 30),
        "truncated PNG (chunk IDAT declares 83 bytes, 65 are left)"),
  image("a PNG cut after its header", "a.png", png8:sub(1, 40), "truncated PNG (no IEND chunk)"),
  image("a PNG whose compressed data is damaged", "a.png", png8:sub(1, 41) .. "\0\0" .. png8:sub(44),
        "corrupt image (bad compression)"),
  image("a PNG with an unknown critical chunk whose type is a terminal escape", "a.png",
        png8:sub(1, 33) .. img.chunk("\27[2J", "") .. png8:sub(34),
        "corrupt image (\\x1b[2J PNG chunk not known)"),
  image("a JPEG cut before its end marker", "a.jpg", img.jpeg { value = 128 }:sub(1, -3),
        "truncated JPEG (no end-of-image marker)"),
  image("a JPEG whose header is overwritten", "a.jpg",
        "\255\216" .. string.rep("A", 30) .. img.jpeg { value = 128 }:sub(33),
        "not a readable image (a corrupt JPEG header)"),
  -- sizes out of range
  image("a PNG header claiming 100000x100000", "a.png",
        img.PNG_SIGNATURE .. img.chunk("IHDR", string.pack(">I4I4BBBBB", 100000, 100000, 8, 0, 0, 0, 0))
        .. img.chunk("IEND", ""), "image size 100000x100000 out of range (1..8192)"),
  image("a PNG of width 0", "a.png",
        img.PNG_SIGNATURE .. img.chunk("IHDR", string.pack(">I4I4BBBBB", 0, 8, 8, 0, 0, 0, 0))
        .. img.chunk("IEND", ""), "image size 0x8 out of range (1..8192)"),
  image("a JPEG frame header claiming 65500x65500", "a.jpg",
        img.jpeg { value = 128, w = 65500, h = 65500 }, "image size 65500x65500 out of range (1..8192)"),
  image("a JPEG frame of width 0", "a.jpg", img.jpeg { value = 128, w = 0 },
        "image size 0x8 out of range (1..8192)"),
  image("an image 9000 pixels wide", "a.png", img.flat_png(9000, 1, 5),
        "image size 9000x1 out of range (1..8192)"),
  {
    name = "a crop larger than the image",
    build = function(t) return cases.write(t.dir .. "/a.png", png8) end,
    call = function(path) return pixels(path, 8, 24) end,
    error = "{dir}/a.png: crop 24 is larger than the 8x8 image",
  },
  -- unusual but sound images decode to what they hold
  image("a 1x1 image, scaled up", "a.png", img.flat_png(1, 1, 200), 200, 32),
  image("a 16-bit grey PNG (the high byte is kept)", "a.png",
        img.png { w = 8, h = 8, depth = 16, pixel = function() return 0x369C end }, 0x36),
  image("a palette PNG (the colour's luma)", "a.png",
        img.png { w = 8, h = 8, color = 3, palette = "\255\0\0", pixel = function() return 0 end },
        (77 * 255) >> 8),
  image("an RGBA PNG (alpha ignored)", "a.png",
        img.png { w = 8, h = 8, color = 6, pixel = function() return 0, 255, 0, 0 end },
        (150 * 255) >> 8),
  image("a grey + alpha PNG", "a.png",
        img.png { w = 8, h = 8, color = 4, pixel = function() return 90, 7 end }, 90),
  {
    name = "an interlaced PNG decodes as its plain twin",
    build = function(t)
      return { cases.write(t.dir .. "/i.png", img.png { w = 8, h = 8, interlace = 1, pixel = ramp }),
               cases.write(t.dir .. "/p.png", plain) }
    end,
    call = function(paths) return pixels(paths[1]), pixels(paths[2]) end,
    check = function(_, _, interlaced, flat)
      check.eq(interlaced, flat)
      check.eq({ interlaced:byte(1, 8) }, { 0, 30, 60, 90, 120, 150, 180, 210 })
    end,
  },
  image("a CMYK JPEG (Adobe), C=M=Y=K=200", "a.jpg", img.jpeg { comps = 4, adobe = 0, value = 200 },
        157),
  image("a grey JPEG", "a.jpg", img.jpeg { value = 40 }, 40),
  image("a PNG named .jpg", "a.jpg", png8, 77),
  image("a GIF", "a.gif", "GIF89a\1\0\1\0\128\0\0\255\255\255\0\0\0,\0\0\0\0\1\0\1\0\0\2\2D\1\0;",
        255),
  image("a PNG with a wrong chunk checksum (the decoder does not check it)", "a.png",
        png8:sub(1, 30) .. "\0" .. png8:sub(32), 77),
  -- things that are not image files
  {
    name = "a directory as an image",
    call = function(_, t) return pixels(t.dir) end,
    error = "{dir}: not a regular file (a directory)",
  },
  {
    name = "a character device as an image",
    call = function() return pixels("/dev/null") end,
    error = "/dev/null: not a regular file (a character device)",
  },
  linked("a symbolic link loop as an image", { { "b.png", "a.png" }, { "a.png", "b.png" } },
         "cannot open image: Too many levels of symbolic links"),
  linked("a dangling symbolic link as an image", { { "gone.png", "a.png" } },
         "cannot open image: No such file or directory"),
  {
    name = "a file name with control characters is shown escaped",
    build = function(t) return cases.write(t.dir .. "/a\27[1m\n.png", "") end,
    call = function(path) return pixels(path) end,
    error = "{dir}/a\\x1b[1m\\n.png: empty file (0 bytes), not an image",
  },
  {
    name = "a FIFO as an image is refused at once",
    build = function(t)
      cases.sh("mkfifo " .. cases.shq(t.dir .. "/a.png"))
      return t.dir .. "/a.png"
    end,
    child = function(path)
      return { "-e", string.format("local ok, e = pcall(siam.data.files, {{%q, %q}}) "
                                   .. "io.stderr:write(e, '\\n') os.exit(ok and 0 or 3)", path, path) }
    end,
    timeout = 20, status = 3, stderr = "{dir}/a.png: not a regular file (a FIFO)\n",
  },
  -- the same faults where a pairs file names the image
  {
    name = "a set's image that is a FIFO is refused at once",
    build = function(t)
      local set = cases.copy_set(t)
      local p = set.images .. "/Face_0001/Face_0001_0001.png"
      os.remove(p)
      cases.sh("mkfifo " .. cases.shq(p))
      t.vars.p = p
      return set
    end,
    child = function(set)
      return { "-e", string.format("local ok, e = pcall(siam.data.load, {pairs = %q, images = %q, "
                                   .. "size = 32, cache = false}) io.stderr:write(e, '\\n') "
                                   .. "os.exit(ok and 0 or 3)", set.train, set.images) }
    end,
    timeout = 20, status = 3,
    check = function(t, set, _, err)
      -- "<pairs file>:<first line naming it>: <image> is not a regular file (a FIFO)"
      local line = err:match("^" .. set.train:gsub("%p", "%%%0") .. ":(%d+): ")
      check.truthy(line, err)
      check.eq(err, set.train .. ":" .. line .. ": " .. t.vars.p .. " is not a regular file (a FIFO)\n")
    end,
  },
  {
    name = "a set's image that is cut short names the file",
    build = function(t)
      local set = cases.copy_set(t)
      local p = set.images .. "/Face_0002/Face_0002_0001.png"
      local bytes = cases.read(p)
      cases.write(p, bytes:sub(1, #bytes // 2))
      t.vars.p = p
      return set
    end,
    call = function(set)
      return siam.data.load { pairs = set.train, images = set.images, size = 32, cache = false }
    end,
    error = "{p}: truncated PNG (chunk IDAT declares 1067 bytes, 517 are left)",
  },
}

test("cleanup", cases.cleanup)
