-- siam.json: encodes Lua values as JSON text (for metrics.jsonl, test.json,
-- result files). Keys are sorted so that files compare byte for byte; NaN
-- and infinities, which JSON lacks, become null. Encoding only: siamlua reads
-- its own results back from CSV or Lua files.
local json = {}

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(x)
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format("%.1f", x) end
  local short = string.format("%.15g", x)
  if tonumber(short) == x then return short end
  return string.format("%.17g", x)
end

local function is_list(t)
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local encode

local function encode_table(t, seen)
  if seen[t] then error("json: cyclic table", 0) end
  seen[t] = true
  local parts = {}
  if next(t) ~= nil and is_list(t) then
    for i = 1, #t do parts[i] = encode(t[i], seen) end
    seen[t] = nil
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k, v in pairs(t) do
    local tk = type(k)
    if tk ~= "string" and tk ~= "number" then
      error("json: keys must be strings or numbers, got " .. tk, 0)
    end
    local tv = type(v)
    if tv ~= "function" and tv ~= "userdata" and tv ~= "thread" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do
    parts[i] = encode_string(tostring(k)) .. ":" .. encode(t[k], seen)
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ",") .. "}"
end

encode = function(v, seen)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then return encode_number(v) end
  if t == "string" then return encode_string(v) end
  if t == "table" then return encode_table(v, seen) end
  return encode_string(tostring(v))
end

-- json.encode(value) -> one line of JSON. Functions and userdata inside
-- tables are left out (a state table holds the model).
function json.encode(v)
  return encode(v, {})
end

return json
