-- Image files built byte by byte, for the bad-input suite (loaded with
-- dofile): PNGs of any colour type, bit depth and interlacing (zlib stored
-- blocks, so the size does not depend on the pixels), and flat 8x8
-- baseline JPEGs of 1 or 4 components (4: Adobe CMYK). Nothing here comes
-- from LFW.
local img = {}

local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do c = (c & 1 ~= 0) and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  crc_table[i] = c
end

-- CRC-32 of PNG chunks (ISO 3309, as PNG 1.2 section 3.4 and Annex D).
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = crc_table[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return (b << 16) | a
end

-- A zlib stream of stored (uncompressed) deflate blocks (RFC 1950, 1951).
local function zlib_stored(raw)
  local out, i = { "\120\1" }, 1
  repeat
    local piece = raw:sub(i, i + 65534)
    i = i + 65535
    out[#out + 1] = string.char(i > #raw and 1 or 0)
                    .. string.pack("<I2I2", #piece, (~#piece) & 0xFFFF) .. piece
  until i > #raw
  out[#out + 1] = string.pack(">I4", adler32(raw))
  return table.concat(out)
end

function img.chunk(kind, data)
  return string.pack(">I4", #data) .. kind .. data .. string.pack(">I4", crc32(kind .. data))
end

img.PNG_SIGNATURE = "\137PNG\r\n\26\n"

local CHANNELS = { [0] = 1, [2] = 3, [3] = 1, [4] = 2, [6] = 4 }

-- Adam7's passes: first column and row, then the steps (PNG 1.2, 8.2).
local ADAM7 = { { 0, 0, 8, 8 }, { 4, 0, 8, 8 }, { 0, 4, 4, 8 }, { 2, 0, 4, 4 },
                { 0, 2, 2, 4 }, { 1, 0, 2, 2 }, { 0, 1, 1, 2 } }

-- A PNG: o.w, o.h, o.color (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA;
-- default 0), o.depth (8 or 16), o.interlace (0 or 1), o.palette (RGB
-- bytes, for colour 3), o.pixel(x, y) -> the samples of that pixel (0-based
-- coordinates; values up to 2^depth - 1).
function img.png(o)
  local color, depth = o.color or 0, o.depth or 8
  local nch = CHANNELS[color]
  local function row(y, x0, dx)
    local parts = { "\0" } -- filter type 0
    for x = x0, o.w - 1, dx do
      local s = table.pack(o.pixel(x, y))
      assert(s.n == nch, "pixel() must give one sample per channel")
      for c = 1, nch do
        parts[#parts + 1] = depth == 16 and string.pack(">I2", s[c]) or string.char(s[c])
      end
    end
    return table.concat(parts)
  end
  local raw = {}
  for _, pass in ipairs(o.interlace == 1 and ADAM7 or { { 0, 0, 1, 1 } }) do
    local x0, y0, dx, dy = pass[1], pass[2], pass[3], pass[4]
    if x0 < o.w then
      for y = y0, o.h - 1, dy do raw[#raw + 1] = row(y, x0, dx) end
    end
  end
  local ihdr = string.pack(">I4I4BBBBB", o.w, o.h, depth, color, 0, 0, o.interlace or 0)
  return img.PNG_SIGNATURE .. img.chunk("IHDR", ihdr)
         .. (o.palette and img.chunk("PLTE", o.palette) or "")
         .. img.chunk("IDAT", zlib_stored(table.concat(raw))) .. img.chunk("IEND", "")
end

-- A grey PNG filled with one value.
function img.flat_png(w, h, v)
  return img.png { w = w, h = h, pixel = function() return v end }
end

-- Bits to bytes, MSB first, padded with 1s, 0xFF stuffed (T.81 F.1.2.3).
local function pack_bits(bits)
  while #bits % 8 ~= 0 do bits = bits .. "1" end
  local out = {}
  for i = 1, #bits, 8 do
    local b = tonumber(bits:sub(i, i + 7), 2)
    out[#out + 1] = string.char(b)
    if b == 0xFF then out[#out + 1] = "\0" end
  end
  return table.concat(out)
end

local function segment(marker, data)
  return "\255" .. string.char(marker) .. string.pack(">I2", #data + 2) .. data
end

-- A baseline JPEG of o.comps components (1, or 4 with o.adobe, the Adobe
-- APP14 colour transform: 0 CMYK), 8x8 (o.w x o.h in the frame header, to
-- claim another size), every sample o.value (0-255; the one DC
-- coefficient is 8 (value - 128) at quantiser 1, T.81 A.3.3).
function img.jpeg(o)
  local nc, dc = o.comps or 1, 8 * ((o.value or 128) - 128)
  local cat, mag = 0, math.abs(dc)
  while mag > 0 do cat, mag = cat + 1, mag >> 1 end
  local extra = ""
  if cat > 0 then
    local v = dc > 0 and dc or dc + (1 << cat) - 1
    for b = cat - 1, 0, -1 do extra = extra .. ((v >> b) & 1) end
  end
  -- One Huffman code "0" in each table: the DC category, and EOB.
  local counts = "\1" .. string.rep("\0", 15)
  local parts = { "\255\216" }
  if o.adobe then
    parts[#parts + 1] = segment(0xEE, "Adobe" .. string.pack(">I2I2I2B", 100, 0, 0, o.adobe))
  end
  parts[#parts + 1] = segment(0xDB, "\0" .. string.rep("\1", 64))
  local sof = string.pack(">BI2I2B", 8, o.h or 8, o.w or 8, nc)
  for c = 1, nc do sof = sof .. string.char(c, 0x11, 0) end
  parts[#parts + 1] = segment(0xC0, sof)
  parts[#parts + 1] = segment(0xC4, "\0" .. counts .. string.char(cat))
  parts[#parts + 1] = segment(0xC4, "\16" .. counts .. "\0")
  local sos = string.char(nc)
  for c = 1, nc do sos = sos .. string.char(c, 0) end
  parts[#parts + 1] = segment(0xDA, sos .. "\0\63\0")
  local bits = ""
  for _ = 1, nc do bits = bits .. "0" .. extra .. "0" end
  parts[#parts + 1] = pack_bits(bits)
  parts[#parts + 1] = "\255\217"
  return table.concat(parts)
end

return img
