-- Durable bind creation, each request a new address, round-robin over the seeded sessions:
-- -- SESSION_PREFIX SESSIONS FIRST_INDEX   (bind k gets report.bind_address(k), k from FIRST_INDEX)
package.path = "./?.lua;" .. package.path
local report = require("report")
local prefix, sessions, k = "c", 1, 0

function init(args)
  prefix = args[1]
  sessions = tonumber(args[2])
  k = tonumber(args[3])
end

function request()
  local path = string.format("/sessions/%s%d/binds", prefix, k % sessions)
  local body = string.format('{"protocol":"udp","address":"%s"}', report.bind_address(k))
  k = k + 1
  return report.post(path, body)
end

done = report.done
