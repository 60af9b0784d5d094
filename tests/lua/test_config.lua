-- siam.config: every key checked when it is assigned (type, range, choices,
-- unknown names with the option checker's suggestion), nil back to the
-- default, pairs() over the set keys, and the docs table of docs/api.md
-- generated from the same declarations (siam.config_keys()).

local function restore_defaults()
  for _, k in ipairs(siam.config_keys()) do siam.config[k.name] = nil end
end

test("the declared keys, in order, with their rule and default", function()
  local names, by = {}, {}
  for i, k in ipairs(siam.config_keys()) do
    names[i] = k.name
    by[k.name] = k
    check.truthy(type(k.help) == "string" and #k.help > 10, k.name .. " has help")
  end
  check.eq(names, { "device", "threads", "seed", "quiet", "conv", "tf32", "cudnn_algo" })
  check.eq(by.device.rule, '"auto", "cpu" or "cuda"')
  check.eq(by.device.default, '"auto"')
  check.eq(by.threads.rule, "an integer in [0, 4096]")
  check.eq(by.seed.rule, "an integer >= 0")
  check.eq(by.quiet.rule, "a boolean")
  check.eq(by.quiet.default, "false")
  check.eq(by.conv.rule, '"auto", "direct" or "fft"')
  check.eq(by.conv.default, "unset")
  check.eq(by.tf32.rule, "a boolean")
  check.eq(by.tf32.default, "false")
  check.eq(by.cudnn_algo.rule, '"heuristic" or "find"')
  check.eq(by.cudnn_algo.default, '"heuristic"')
end)

test("good values are stored (integral floats as integers); nil restores the default", function()
  siam.config.seed = 7
  siam.config.threads = 2.0
  siam.config.quiet = true
  siam.config.device = "cpu"
  siam.config.conv = "direct"
  siam.config.tf32 = true
  siam.config.cudnn_algo = "find"
  check.eq(siam.config.seed, 7)
  check.eq(math.type(siam.config.threads), "integer")
  check.eq(siam.config, { device = "cpu", threads = 2, seed = 7, quiet = true, conv = "direct",
                          tf32 = true, cudnn_algo = "find" })
  -- the bindings read what was assigned: a model's default seed
  check.eq(siam.model { size = 32, channels = { 4, 8, 8, 16 }, kernels = { 5, 3, 3, 2 },
                        fc = 8 }.seed, 7)
  restore_defaults()
  check.eq(siam.config, { device = "auto", threads = 0, seed = 0, quiet = false, tf32 = false,
                          cudnn_algo = "heuristic" })
  check.eq(siam.config.conv, nil)
end)

test("wrong types and values are refused at the assignment, naming the key and the value", function()
  local function refused(expected, key, value)
    check.error(expected, function() siam.config[key] = value end)
  end
  refused('siam.config.seed must be an integer >= 0, got "x"', "seed", "x")
  refused("siam.config.seed must be an integer >= 0, got -1", "seed", -1)
  refused("siam.config.seed must be an integer >= 0, got 1.5", "seed", 1.5)
  refused('siam.config.device must be "auto", "cpu" or "cuda", got 42', "device", 42)
  refused('siam.config.device must be "auto", "cpu" or "cuda", got "gpu"', "device", "gpu")
  refused("siam.config.threads must be an integer in [0, 4096], got 5000", "threads", 5000)
  refused('siam.config.threads must be an integer in [0, 4096], got "2"', "threads", "2")
  refused("siam.config.quiet must be a boolean, got 1", "quiet", 1)
  refused('siam.config.conv must be "auto", "direct" or "fft", got "winograd"', "conv", "winograd")
  refused('siam.config.conv must be "auto", "direct" or "fft", got a table', "conv", {})
  refused("siam.config.tf32 must be a boolean, got 1", "tf32", 1)
  refused('siam.config.cudnn_algo must be "heuristic" or "find", got "search"', "cudnn_algo",
          "search")
  -- nothing was stored
  check.eq(siam.config, { device = "auto", threads = 0, seed = 0, quiet = false, tf32 = false,
                          cudnn_algo = "heuristic" })
end)

test("unknown keys are refused, read or written, with a suggestion when one is close", function()
  check.error("siam.config: unknown key 'sed'; did you mean 'seed'?",
              function() siam.config.sed = 1 end)
  check.error("siam.config: unknown key 'thread'; did you mean 'threads'?",
              function() return siam.config.thread end)
  check.error("siam.config: unknown key 'verbosity' (the keys: device, threads, seed, quiet, conv, "
              .. "tf32, cudnn_algo)",
              function() siam.config.verbosity = 2 end)
  check.error("siam.config: keys are names (strings), got a number",
              function() siam.config[1] = true end)
  check.eq(rawget(siam.config, "sed"), nil)
end)

test("the command line's values arrive checked and listed", function()
  local support = dofile(harness.dir .. "/support.lua")
  support.interpreter = harness.interpreter
  local out, err, code = support.run { "--seed", "9", "--threads", "1", "--tf32", "-e",
    "local t = {} for k, v in pairs(siam.config) do t[#t + 1] = k .. '=' .. tostring(v) end "
    .. "table.sort(t) print(table.concat(t, ' '))" }
  check.eq(code, 0, err)
  check.eq(out, "cudnn_algo=heuristic device=auto quiet=false seed=9 tf32=true threads=1\n")
end)

test("docs/api.md's siam.config table is generated from the declarations", function()
  local f = assert(io.open(harness.dir .. "/../../docs/api.md", "rb"))
  local doc = f:read("a")
  f:close()
  for _, k in ipairs(siam.config_keys()) do
    local row = string.format("| `%s` | %s | %s | %s |", k.name, k.rule, k.default, k.help)
    check.truthy(doc:find(row, 1, true), "docs/api.md lacks the row " .. row)
  end
end)
