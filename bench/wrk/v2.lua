-- wrk script for the same requests as V2Load, as a reference measurement:
--   wrk -t1 -c64 -d10s -s bench/wrk/v2.lua http://127.0.0.1:2379 -- get|qget|put [keys] [value-size]
-- Keys are uniform over k0..k<keys-1>; get/qget need them to exist (prepopulate with V2Load or put).
local workload, keys, body

function init(args)
  workload = args[1] or "get"
  keys = tonumber(args[2] or "1000")
  local size = tonumber(args[3] or "256")
  local chars = {}
  for i = 0, size - 1 do
    chars[#chars + 1] = string.char(97 + i % 26)
  end
  body = "value=" .. table.concat(chars)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local path = "/v2/keys/bench/k" .. math.random(0, keys - 1)
  if workload == "put" then
    return wrk.format("PUT", path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  elseif workload == "qget" then
    return wrk.format("GET", path .. "?quorum=true")
  end
  return wrk.format("GET", path)
end
