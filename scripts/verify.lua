-- Face verification from the command line:
--   siamlua scripts/verify.lua model.ckpt a.jpg b.jpg
-- prints the probability that the two images show the same person and the
-- decision at the model's threshold (saved beside the checkpoint in
-- model.ckpt.meta; 0.5 when there is none). The images may be any format
-- the loader reads (JPEG, PNG, ...), colour or grey, any size: they are
-- converted to grey and resized as the training data was.
-- Exit status: 0 same person, 1 different people, 2 an error.
local usage = "usage: siamlua scripts/verify.lua model.ckpt image_a image_b"

local function fail(msg)
  io.stderr:write("verify: ", msg, "\n")
  os.exit(2)
end

if #arg ~= 3 then
  io.stderr:write(usage, "\n")
  os.exit(2)
end
local ckpt, a, b = arg[1], arg[2], arg[3]

-- Plain messages for the usual mistakes, before the loaders say it in
-- their own words.
for _, path in ipairs { ckpt, a, b } do
  local f, err = io.open(path, "rb")
  if not f then fail(err) end
  local ok, _, code = f:read(0)
  f:close()
  if ok == nil and code == 21 then fail(path .. ": is a directory") end
end

local ok, model = pcall(siam.load, ckpt)
if not ok then fail(model) end
local size = model.config.size
local ok2, set = pcall(siam.data.files, { { a, b } }, { size = size })
if not ok2 then fail(set) end
local p = model:forward(set)[1]
local same = p >= model.threshold
print(string.format("match probability: %.4f", p))
print(string.format("decision: %s (threshold %.2f)", same and "same person" or "different people",
                    model.threshold))
os.exit(same and 0 or 1)
