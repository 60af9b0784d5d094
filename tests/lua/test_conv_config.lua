-- siam.config.conv picks the CPU convolution paths (kernels/cpu/conv2d_select.h)
-- when the CPU context is first created: a bad value is refused with the
-- accepted ones named, and "auto" then gives a working context.

test("a bad siam.config.conv is refused when the CPU context is made", function()
  siam.config.conv = "fast"
  check.error_match('siam%.config%.conv must be "auto", "direct" or "fft", got "fast"',
    function() return siam.tensor { 1, 2 } end)
end)

test("siam.config.conv = 'auto' gives a working CPU context", function()
  siam.config.conv = "auto"
  local t = siam.tensor { { 1, 2 }, { 3, 4 } }
  check.eq(t:totable(), { { 1.0, 2.0 }, { 3.0, 4.0 } })
end)
