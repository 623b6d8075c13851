-- Durable session creation, each request a new session id: -- ID_PREFIX
package.path = "./?.lua;" .. package.path
local report = require("report")
local prefix, n = "s", 0

function init(args)
  prefix = args[1] or prefix
end

function request()
  n = n + 1
  local body = string.format('{"id":"%s%d","clientAddress":"10.%d.%d.%d"}', prefix, n,
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return report.post("/sessions", body)
end

done = report.done
