-- A tiny grid for the grid tests, run as its own process:
--   siamlua tests/lua/grid_tiny.lua ROOT [--shard i/n] [--retry-failed]
-- Eight configurations (batch x lr x epochs), fake training (fake_fit.lua).
-- Every start of a configuration is appended to ROOT/starts.log. With
-- KILL_AT=k the process SIGKILLs itself during configuration k's second
-- epoch, the first time only (ROOT/killed records that it happened).
-- With FAIL_ID=id that configuration raises an error; with INTERRUPT_ID=id
-- its fit returns as after Ctrl-C (the first time only).
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
gridrun.run{
  experiment = "tiny", root = root, configs = configs, args = rest,
  params = { "batch", "lr", "epochs" }, metric = "val_acc",
  train = function(cfg, run)
    n = n + 1
    local log = assert(io.open(root .. "/starts.log", "a"))
    log:write(run.id, "\n")
    log:close()
    if run.id == fail_id then error("boom in " .. run.id) end
    local model = fake.model(cfg.seed)
    run.fit_function = fake.fit
    if run.id == os.getenv("INTERRUPT_ID") and not io.open(root .. "/interrupted") then
      io.open(root .. "/interrupted", "w"):close()
      cfg = setmetatable({ interrupt_at = 1 }, { __index = cfg })
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
