-- siam.config.conv picks the CPU convolution paths (kernels/cpu/conv2d_select.h)
-- when the CPU context is first created: a bad value is refused when it is
-- assigned, with the accepted ones named, and "auto" then gives a working
-- context. Unset, it means "auto"; "direct" stays selectable as the reference.

test("a bad siam.config.conv is refused when it is assigned", function()
  check.error('siam.config.conv must be "auto", "direct" or "fft", got "fast"',
    function() siam.config.conv = "fast" end)
  check.eq(siam.config.conv, nil)
end)

test("siam.config.conv = 'auto' gives a working CPU context", function()
  siam.config.conv = "auto"
  local t = siam.tensor { { 1, 2 }, { 3, 4 } }
  check.eq(t:totable(), { { 1.0, 2.0 }, { 3.0, 4.0 } })
end)

-- Models read siam.config.conv too (each model opens its own backend).
local F = dofile(harness.dir .. "/api_fixture.lua")

test("every value siam.config.conv accepts opens a backend", function()
  for _, c in ipairs { "auto", "direct", "fft" } do
    siam.config.conv = c
    check.eq(getmetatable(F.model()).__name, "siam.Model", c)
  end
  siam.config.conv = nil
end)

-- A layer with 16 input and output channels and a 4x4 kernel goes to the
-- Fourier path under "auto" (conv2 here); the others stay direct.
local wide = { channels = { 16, 16, 16, 16 }, kernels = { 5, 4, 2, 1 } }

test("with siam.config.conv unset a model computes what the 'auto' one does", function()
  local train = F.sets()
  siam.config.conv = nil
  local default = F.model(wide):forward(train)
  siam.config.conv = "auto"
  local auto = F.model(wide):forward(train)
  siam.config.conv = "direct"
  local direct = F.model(wide):forward(train)
  siam.config.conv = nil
  check.eq(#default, #auto)
  local differ = false
  for i = 1, #auto do
    check.eq(default[i], auto[i])
    if auto[i] ~= direct[i] then differ = true end
  end
  check.truthy(differ, "'auto' computed exactly what 'direct' did: no layer took the fft path")
end)

test("a model on the Fourier convolution predicts what the direct one does", function()
  local train = F.sets()
  siam.config.conv = "direct"
  local direct = F.model():forward(train)
  siam.config.conv = "fft"
  local fft = F.model():forward(train)
  siam.config.conv = nil
  check.eq(#fft, #direct)
  local worst, differ = 0, false
  for i = 1, #direct do
    worst = math.max(worst, math.abs(fft[i] - direct[i]))
    if fft[i] ~= direct[i] then differ = true end
  end
  -- Same function, other rounding: close, and not bit-identical unless the
  -- model ignored the setting.
  check.truthy(worst < 1e-5, "largest difference " .. worst)
  check.truthy(differ, "the fft model computed exactly what the direct one did")
  F.cleanup()
end)
