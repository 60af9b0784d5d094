-- A tiny grid for the grid tests, run as its own process:
--   siamlua tests/lua/grid_tiny.lua ROOT [--shard i/n]
-- Eight configurations (batch x lr x epochs), fake training (fake_fit.lua).
-- Every start of a configuration is appended to ROOT/starts.log (its folder
-- name without the identity digits: batch16-lr0.001-epochs2). With
-- KILL_AT=k the process SIGKILLs itself during configuration k's second
-- epoch, the first time only (ROOT/killed records that it happened).
-- With FAIL_ID=name that configuration raises an error; with
-- INTERRUPT_ID=name its fit returns as after Ctrl-C (the first time only);
-- with DIVERGE_ID=name its fit stops on non-finite values in epoch 2.
-- MODEL=m and DATA=d stand for a script option outside the grid and the
-- data's fingerprint (both part of every configuration's identity). Exits
-- 1 when a configuration failed.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local fake = dofile(here .. "/fake_fit.lua")
local gridrun = require "siam.gridrun"

local root = arg[1]
local rest = {}
for i = 2, #arg do rest[#rest + 1] = arg[i] end

local configs = {}
for _, batch in ipairs{ 16, 32 } do
  for _, lr in ipairs{ 0.001, 0.005 } do
    for _, epochs in ipairs{ 2, 3 } do
      configs[#configs + 1] = { batch = batch, lr = lr, epochs = epochs, seed = 7 }
    end
  end
end

local function pid()
  local f = assert(io.open("/proc/self/stat"))
  local p = f:read("a"):match("^(%d+)")
  f:close()
  return p
end

local kill_at = tonumber(os.getenv("KILL_AT") or "")
local fail_id = os.getenv("FAIL_ID")
local n = 0
local r = gridrun.run{
  experiment = "tiny", root = root, configs = configs, args = rest,
  params = { "batch", "lr", "epochs" }, metric = "val_acc",
  config = { model = os.getenv("MODEL") or "fake" },
  data = { train = { fingerprint = os.getenv("DATA") or "0123456789abcdef", pairs = 8 } },
  train = function(cfg, run)
    n = n + 1
    local name = run.id:match("^(.*)%-%x+$")
    local log = assert(io.open(root .. "/starts.log", "a"))
    log:write(name, "\n")
    log:close()
    if name == fail_id then error("boom in " .. name) end
    local model = fake.model(cfg.seed)
    run.fit_function = fake.fit
    if name == os.getenv("INTERRUPT_ID") and not io.open(root .. "/interrupted") then
      io.open(root .. "/interrupted", "w"):close()
      cfg = setmetatable({ interrupt_at = 1 }, { __index = cfg })
    end
    if name == os.getenv("DIVERGE_ID") then
      cfg = setmetatable({ nan_stop_at = 2 }, { __index = cfg })
    end
    run:fit(model, nil, cfg, { epochs = cfg.epochs, after_epoch = function(e)
      if kill_at and n == kill_at and e == 2 and not io.open(root .. "/killed") then
        io.open(root .. "/killed", "w"):close()
        os.execute("kill -KILL " .. pid())
      end
    end })
    return { test = fake.evaluate(cfg) }
  end,
}
if #r.failed > 0 then os.exit(1) end
