-- Face verification from the command line:
--   siamlua scripts/verify.lua model.ckpt a.jpg b.jpg
-- prints the probability that the two images show the same person and the
-- decision at the model's threshold (kept in the checkpoint; for a format
-- 1-2 file its model.ckpt.meta sidecar, else 0.5). The images may be any format
-- the loader reads (JPEG, PNG, ...), colour or grey, any size: they are
-- prepared as the model's training data was, converted to grey, cut to the
-- centred square it was trained on (model.crop; the whole image when it has
-- none) and resized to its input size. Image paths must be regular files: a
-- FIFO or a directory is an error, not something to wait on.
-- Exit status: 0 same person, 1 different people, 2 an error. Every error,
-- expected or not, exits 2 with one line "verify: <message>" on stderr: the
-- whole script runs inside one protected call, since an uncaught error would
-- end siamlua with status 1, the answer "different people".
local usage = "usage: siamlua scripts/verify.lua model.ckpt image_a image_b"

-- An error for main's caller to print, as opposed to a bug in this script.
local function fail(msg)
  error({ verify = msg }, 0)
end

local function main(ckpt, a, b)
  -- A plain message for a checkpoint that is a directory, before the loader
  -- reads it as a file with a bad magic number.
  local f, err = io.open(ckpt, "rb")
  if not f then fail(err) end
  local ok, _, code = f:read(0)
  f:close()
  if ok == nil and code == 21 then fail(ckpt .. ": is a directory") end

  local loaded, model = pcall(siam.load, ckpt)
  if not loaded then fail(model) end
  local opts = { size = model.config.size, crop = model.crop or 0 }
  local read, set = pcall(siam.data.files, { { a, b } }, opts)
  if not read then fail(set) end
  local p = model:forward(set)[1]
  local same = p >= model.threshold
  print(string.format("match probability: %.4f", p))
  print(string.format("decision: %s (threshold %.2f)", same and "same person" or "different people",
                      model.threshold))
  return same and 0 or 1
end

if arg[1] == "--help" or arg[1] == "-h" then
  print(usage)
  print("The probability that two face images show the same person, and the model's decision.")
  return
end
if #arg ~= 3 then
  io.stderr:write(usage, "\n")
  os.exit(2)
end
local ran, result = xpcall(main, function(e)
  if type(e) == "table" and e.verify then return tostring(e.verify) end
  return tostring(e) -- not one of main's own: the message says where it came from
end, arg[1], arg[2], arg[3])
if not ran then
  io.stderr:write("verify: ", result, "\n")
  os.exit(2)
end
os.exit(result)
