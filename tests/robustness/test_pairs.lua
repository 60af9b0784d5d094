-- Bad pairs files, loaded by siam.data.load over the synthetic set's images:
-- every one a clear error naming the file, the line and the value at fault
-- (shown escaped), or, where the input is sound, the right set.
local cases = assert(loadfile(harness.dir .. "/cases.lua", "t", _ENV))()
local images = cases.data().info.images

-- Face_0001..Face_0024 have images 1..4 (PNG).
local GOOD = "2\nFace_0001\t1\t2\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\n"
             .. "Face_0003\t1\tFace_0004\t2\n"

local function load(path)
  return siam.data.load { pairs = path, images = images, size = 32, cache = false }
end

-- A case loading `text` as t.dir/p.txt; bad's `expect` is the message
-- after "{dir}/p.txt:".
local function loading(name, text)
  return { name = name, call = load,
           build = function(t) return cases.write(t.dir .. "/p.txt", text) end }
end

local function bad(name, text, expect)
  local c = loading(name, text)
  c.error = "{dir}/p.txt:" .. expect
  return c
end

-- A case whose file loads; `want` is the pairs it must give, as
-- {a, b, label} with image names.
local function good(name, text, want)
  local c = loading(name, text)
  c.check = function(_, _, set)
    local got = {}
    for i = 1, #set do
      local p = set:pair(i)
      got[i] = { p.a:match("[^/]+$"), p.b:match("[^/]+$"), p.label }
    end
    check.eq(got, want)
  end
  return c
end

local GOOD_PAIRS = { { "Face_0001_0001.png", "Face_0001_0002.png", 1 },
                     { "Face_0002_0001.png", "Face_0002_0003.png", 1 },
                     { "Face_0001_0001.png", "Face_0002_0002.png", 0 },
                     { "Face_0003_0001.png", "Face_0004_0002.png", 0 } }

cases.run {
  -- header counts that disagree with the lines
  bad("the header announces more matched pairs than there are",
      "3\nFace_0001\t1\t2\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\nFace_0003\t1\tFace_0004\t2\n",
      '4: the header says 3 matched pairs; line 4 is a mismatched pair: '
      .. '"Face_0001\\t1\\tFace_0002\\t2"'),
  bad("the header announces fewer matched pairs than there are",
      "1\nFace_0001\t1\t2\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\n",
      '3: the header says 1 matched pair; line 3 is another matched pair: "Face_0002\\t1\\t3"'),
  bad("View 2: a fold with fewer matched pairs than its header",
      "2\t1\nFace_0001\t1\t2\nFace_0001\t1\tFace_0002\t2\nFace_0003\t1\tFace_0004\t2\n",
      '4: the header says 1 matched pair per fold; line 4 (fold 2) is a mismatched pair: '
      .. '"Face_0003\\t1\\tFace_0004\\t2"'),
  bad("the file ends before the header's count",
      "3\nFace_0001\t1\t2\nFace_0002\t1\t3\nFace_0001\t1\t4\nFace_0003\t1\tFace_0004\t2\n",
      '5: the file ends after 4 pairs, but the header "3" announces 6'),
  bad("more lines than the header announces",
      GOOD .. "Face_0005\t1\tFace_0006\t2\n",
      '6: more pairs than the header "2" announces (4): "Face_0005\\t1\\tFace_0006\\t2"'),
  bad("a header of three numbers", "1 2 3\n",
      '1: the header must be "N" (View 1) or "folds N" (View 2): "1 2 3"'),
  bad("a header count of zero", "0\n", '1: pair count "0" is not a positive integer: "0"'),
  bad("a header count too large to be real", "99999999999\n",
      '1: pair count "99999999999" is out of range (1..1000000): "99999999999"'),
  bad("an empty file", "", '1: empty file, expected the header "N" or "folds N"'),
  bad("a blank first line", "\n" .. GOOD,
      '1: the header must be "N" (View 1) or "folds N" (View 2): ""'),
  -- bad numbers and fields
  bad("an image number that is not a number",
      "1\nFace_0001\tone\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: image number "one" is not a positive integer: "Face_0001\\tone\\t2"'),
  bad("a negative image number", "1\nFace_0001\t-1\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: image number "-1" is not a positive integer: "Face_0001\\t-1\\t2"'),
  bad("a fractional image number", "1\nFace_0001\t1.5\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: image number "1.5" is not a positive integer: "Face_0001\\t1.5\\t2"'),
  bad("an image number beyond any real one",
      "1\nFace_0001\t1\t99999999999999\nFace_0001\t1\tFace_0002\t2\n",
      '2: image number "99999999999999" is out of range (1..1000000): '
      .. '"Face_0001\\t1\\t99999999999999"'),
  bad("an extra field on a matched line", "1\nFace_0001\t1\t2\t3\nFace_0001\t1\tFace_0002\t2\n",
      '2: expected 3 fields (name n1 n2) for a matched pair, got 4: "Face_0001\\t1\\t2\\t3"'),
  bad("a missing field on a matched line", "1\nFace_0001\t1\nFace_0001\t1\tFace_0002\t2\n",
      '2: expected 3 fields (name n1 n2) for a matched pair, got 2: "Face_0001\\t1"'),
  bad("a missing field on a mismatched line", "1\nFace_0001\t1\t2\nFace_0001\t1\tFace_0002\n",
      '3: expected 4 fields (name1 n1 name2 n2) for a mismatched pair, got 3: '
      .. '"Face_0001\\t1\\tFace_0002"'),
  -- missing people and images
  {
    name = "a person with no folder",
    build = function(t) return cases.write(t.dir .. "/p.txt", "1\nNobody\t1\t2\nFace_0001\t1\tFace_0002\t2\n") end,
    call = load,
    error = "{dir}/p.txt:2: missing image " .. images .. '/Nobody/Nobody_0001.jpg (the image '
            .. 'directory has no folder "Nobody")',
  },
  {
    name = "an image number the person does not have",
    build = function(t) return cases.write(t.dir .. "/p.txt", "1\nFace_0001\t1\t9\nFace_0001\t1\tFace_0002\t2\n") end,
    call = load,
    error = "{dir}/p.txt:2: missing image " .. images .. "/Face_0001/Face_0001_0009.jpg",
  },
  -- invisible and binary bytes, shown escaped
  bad("a NUL byte inside a name",
      "1\nFace_0001\t1\t2\nFace\0_0002\t1\tFace_0002\t2\n",
      "3:5: a NUL byte: binary data, not a pairs file"),
  bad("a control character in a name",
      "1\nFace\1_0001\t1\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: bad person name "Face\\x01_0001" (a control character): "Face\\x01_0001\\t1\\t2"'),
  bad("a terminal escape sequence in a name",
      "1\nFace\27[2J_0001\t1\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: bad person name "Face\\x1b[2J_0001" (a control character): '
      .. '"Face\\x1b[2J_0001\\t1\\t2"'),
  {
    name = "a byte-order mark inside the file",
    build = function(t)
      return cases.write(t.dir .. "/p.txt", "1\nFace_0001\t1\t2\n\239\187\191Face_0001\t1\tFace_0002\t2\n")
    end,
    call = load,
    error = "{dir}/p.txt:3: missing image " .. images .. "/\\xef\\xbb\\xbfFace_0001/"
            .. '\\xef\\xbb\\xbfFace_0001_0001.jpg (the image directory has no folder '
            .. '"\\xef\\xbb\\xbfFace_0001")',
  },
  bad("binary garbage", string.rep("\255\216\0\1\200", 40),
      "1:3: a NUL byte: binary data, not a pairs file"),
  bad("old Mac line ends (CR only)", (GOOD:gsub("\n", "\r")),
      '1: the header must be "N" (View 1) or "folds N" (View 2): '
      .. '"2\\rFace_0001\\t1\\t2\\rFace_0002\\t1\\t3\\rFace_0001\\t1\\tFace_0002\\t2\\r'
      .. 'Face_0003\\t1\\tFace_0004\\t2"'),
  bad("a blank line inside the list",
      "2\nFace_0001\t1\t2\n\nFace_0002\t1\t3\nFace_0001\t1\tFace_0002\t2\nFace_0003\t1\tFace_0004\t2\n",
      '3: blank line inside the pair list: ""'),
  bad("a huge line", "1\n" .. string.rep("A", 100000) .. "\t1\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: bad person name "' .. string.rep("A", 60) .. '..." (100000 bytes, longer than a file '
      .. 'name can be): "' .. string.rep("A", 160) .. '..."'),
  -- names that would leave the image folder
  bad("path traversal in a name", "1\n../../etc\t1\t2\nFace_0001\t1\tFace_0002\t2\n",
      '2: bad person name "../../etc": "../../etc\\t1\\t2"'),
  bad("an absolute path as a name", "1\nFace_0001\t1\t2\nFace_0001\t1\t/etc\t2\n",
      '3: bad person name "/etc": "Face_0001\\t1\\t/etc\\t2"'),
  bad("a backslash path as a name", "1\nFace_0001\t1\t2\n..\\x\t1\tFace_0002\t2\n",
      '3: bad person name "..\\\\x": "..\\\\x\\t1\\tFace_0002\\t2"'),
  -- sound files in forms an editor may leave
  good("CRLF line ends", (GOOD:gsub("\n", "\r\n")), GOOD_PAIRS),
  good("a byte-order mark before the header", "\239\187\191" .. GOOD, GOOD_PAIRS),
  good("blank lines at the end and no final newline", GOOD .. "\n\n", GOOD_PAIRS),
  good("spaces instead of tabs", (GOOD:gsub("\t", "  ")), GOOD_PAIRS),
  -- not a file
  {
    name = "a directory given as the pairs file",
    build = function(t) return t.dir end,
    call = load,
    error = "{dir}: not a regular file (a directory)",
  },
  {
    name = "a FIFO given as the pairs file is refused at once",
    build = function(t)
      local p = t.dir .. "/p.txt"
      cases.sh("mkfifo " .. cases.shq(p))
      return p
    end,
    child = function(path)
      return { "-e", string.format("local ok, e = pcall(siam.data.load, {pairs = %q, images = %q, "
                                   .. "cache = false}) io.stderr:write(e, '\\n') os.exit(ok and 0 or 3)",
                                   path, images) }
    end,
    timeout = 20, status = 3, stderr = "{dir}/p.txt: not a regular file (a FIFO)\n",
  },
  {
    name = "a missing pairs file",
    call = function(_, t) return siam.data.load { pairs = t.dir .. "/none.txt", images = images } end,
    error = "{dir}/none.txt: cannot open pairs file: No such file or directory",
  },
}

test("cleanup", cases.cleanup)
