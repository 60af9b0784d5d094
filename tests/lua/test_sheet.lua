-- The image sheet of a pair set: set:images(i) gives a pair's exact pixels,
-- siam.io.sheet draws the TP/FP/TN/FN sheet from a set and probabilities in
-- C, and its PNG is byte for byte the one siam.io.image_sheet composes from
-- those pixels (whose cell placement test_image_sheet.c checks pixel by
-- pixel); argument errors.
local sio = siam.io
local F = 40 -- face side; images are written at this size, so none is resized

local dir = os.tmpname()
os.remove(dir)
assert(sio.mkdir_p(dir .. "/P"))

local read = dofile(harness.dir .. "/support.lua").read

-- Image k: a distinct pattern, byte (k * 37 + i * 7 + i // F) % 256.
local function face(k)
  local t = {}
  for i = 0, F * F - 1 do t[#t + 1] = string.char((k * 37 + i * 7 + i // F) % 256) end
  return table.concat(t)
end

-- Binary PGM (P5): stb_image reads it, and it holds exactly these bytes.
local function write_pgm(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(string.format("P5\n%d %d\n255\n", F, F), bytes)
  f:close()
end

local faces = {}
for k = 1, 6 do
  faces[k] = face(k)
  write_pgm(string.format("%s/P/img%d.pgm", dir, k), faces[k])
end
local function img(k) return string.format("%s/P/img%d.pgm", dir, k) end
-- Pairs (a, b, label): 1 2 1 | 3 4 1 | 5 6 0 | 2 5 0 | 6 1 1
local spec = { { 1, 2, 1 }, { 3, 4, 1 }, { 5, 6, 0 }, { 2, 5, 0 }, { 6, 1, 1 } }
local list = {}
for i, s in ipairs(spec) do list[i] = { img(s[1]), img(s[2]), s[3] } end
local set = siam.data.files(list, { size = F })
-- threshold 0.5: pair 1 TP (0.9), 2 TP (0.6), 3 FP (0.8), 4 TN (0.3), 5 FN (0.1)
local probs = { 0.9, 0.6, 0.8, 0.3, 0.1 }

test("set:images(i): the pair's two faces, exact bytes, and their size", function()
  for i, s in ipairs(spec) do
    local a, b, h, w = set:images(i)
    check.eq(h, F)
    check.eq(w, F)
    check.truthy(a == faces[s[1]], "pair " .. i .. " face a")
    check.truthy(b == faces[s[2]], "pair " .. i .. " face b")
  end
  check.error("bad argument #1 to 'images' (pair index 0 out of range [1, 5])",
              function() return set:images(0) end)
  check.error("bad argument #1 to 'images' (pair index 6 out of range [1, 5])",
              function() return set:images(6) end)
  check.error("bad argument #1 to 'images' (number expected, got no value)",
              function() return set:images() end)
  check.error("bad argument #1 to 'images' (siam.PairSet expected, got table)",
              function() return set.images({}, 1) end)
end)

test("siam.io.sheet: the chosen pairs, the layout's size, the same PNG as composed by hand", function()
  local path = dir .. "/sheet.png"
  local rows, h, w = sio.sheet(set, probs, path, { threshold = 0.5, per_kind = 2 })
  check.eq(rows, {
    { label = "TP most sure", indices = { 1, 2 } }, { label = "TP least sure", indices = { 2, 1 } },
    { label = "FP most sure", indices = { 3 } }, { label = "FP least sure", indices = { 3 } },
    { label = "TN most sure", indices = { 4 } }, { label = "TN least sure", indices = { 4 } },
    { label = "FN most sure", indices = { 5 } }, { label = "FN least sure", indices = { 5 } },
  })
  local png = read(path)
  check.eq(png:sub(1, 8), "\137PNG\r\n\26\n")
  local pw, ph = string.unpack(">I4>I4", png, 17)
  check.eq(ph, h)
  check.eq(pw, w)
  -- image_sheet.c: a title line (24 text pixels + 8 margin), then 8 rows
  -- of (face + 24 text) pixels with 8-pixel margins; a label column (8 +
  -- "TP least sure", 2 x 72 pixels, + 8), then 2 cells each 8 + the wider
  -- of 2 faces + 2 gap (82) and "p=0.000" + margins (2 x 39 + 16 = 94);
  -- the sheet as wide as the title when that is wider.
  check.eq(h, 8 + 24 + 8 + 8 * (F + 24 + 8))
  check.truthy(w >= 8 + 144 + 8 + 2 * (94 + 8), "the cells fit")
  -- The same sheet composed in Lua from set:images: identical bytes.
  local by_hand = {}
  for r, row in ipairs(rows) do
    local cells = {}
    for c = 1, 2 do
      local i = row.indices[c]
      if i then
        local a, b = set:images(i)
        cells[c] = { a = a, b = b, prob = probs[i] }
      else
        cells[c] = false
      end
    end
    by_hand[r] = { label = row.label, pairs = cells }
  end
  sio.image_sheet(dir .. "/by_hand.png", by_hand, F, F,
                  "pairs, threshold 0.500")
  check.truthy(read(dir .. "/by_hand.png") == png, "siam.io.sheet == image_sheet of set:images")
  -- A different threshold moves pairs between categories: 0.85 makes pair
  -- 3 a TN and pair 2 an FN.
  local rows2 = sio.sheet(set, probs, dir .. "/sheet2.png", { threshold = 0.85, per_kind = 1 })
  check.eq(rows2[5], { label = "TN most sure", indices = { 4 } })
  check.eq(rows2[6], { label = "TN least sure", indices = { 3 } })
  check.eq(rows2[7], { label = "FN most sure", indices = { 5 } })
  check.eq(rows2[8], { label = "FN least sure", indices = { 2 } })
end)

-- Called through a named field, so that Lua names the function in the message.
local function sheet(...) return sio.sheet(...) end

test("siam.io.sheet: defaults and argument errors", function()
  local rows, h, w = sio.sheet(set, probs, dir .. "/d.png", { per_kind = 5, title = "t" })
  check.eq(#rows, 8)
  check.eq(h, 8 + 24 + 8 + 8 * (F + 24 + 8))
  check.eq(w, 8 + 144 + 8 + 5 * (94 + 8), "five cells, wider than 't, threshold ...'")
  sio.sheet(set, probs, dir .. "/d.png")
  sio.sheet(set, probs, dir .. "/d3.png", { per_kind = 3 })
  sio.sheet(set, probs, dir .. "/d1.png", { per_kind = 1 })
  check.truthy(read(dir .. "/d.png") == read(dir .. "/d3.png"), "three cells per row by default")
  check.truthy(read(dir .. "/d.png") ~= read(dir .. "/d1.png"), "per_kind changes the sheet")
  check.error("bad argument #1 to 'sheet' (siam.PairSet expected, got table)",
              sheet, {}, probs, dir .. "/e.png")
  check.error("bad argument #2 (list of 5 numbers expected, got 2)",
              sheet, set, { 0.1, 0.2 }, dir .. "/e.png")
  check.error("bad argument #2 (item 2 must be a number, got string)",
              sheet, set, { 0.1, "x", 0.3, 0.4, 0.5 }, dir .. "/e.png")
  check.error("bad argument #3 to 'sheet' (string expected, got nil)", sheet, set, probs, nil)
  check.error("bad argument #4 to 'sheet' (unknown option 'per_kinds'; did you mean 'per_kind'?)",
              sheet, set, probs, dir .. "/e.png", { per_kinds = 2 })
  check.error("bad argument #4 to 'sheet' (option 'threshold' must be in [0, 1], got 1.5)",
              sheet, set, probs, dir .. "/e.png", { threshold = 1.5 })
  check.error("bad argument #4 to 'sheet' (option 'per_kind' must be in [1, 64], got 0)",
              sheet, set, probs, dir .. "/e.png", { per_kind = 0 })
  check.error_match("atomic write /nonexistent/e%.png: cannot create temp file", sheet, set, probs, "/nonexistent/e.png")
  check.eq(io.open(dir .. "/e.png"), nil, "no file after an argument error")
end)

test("cleanup", function()
  os.execute("rm -rf '" .. dir .. "'")
end)
