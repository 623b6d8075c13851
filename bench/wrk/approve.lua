-- RetroactiveAllowBind first approvals (S_OK, durable): each request approves the next seeded
-- pending bind, in the order bench/seed_sqlite.py wrote them:
-- -- SESSION_PREFIX BINDS_PER_SESSION FIRST_INDEX
package.path = "./?.lua;" .. package.path
local report = require("report")
local prefix, per_session, k = "p", 1, 0
local guid = "477d0251-8a01-4895-9727-ba1370e17366"

function init(args)
  prefix = args[1]
  per_session = tonumber(args[2])
  k = tonumber(args[3])
end

function request()
  local path = string.format("/sessions/%s%d/retroactive-binds", prefix, math.floor(k / per_session))
  local body = string.format('{"protocol":"tcp","address":"%s","protocolGuid":"%s"}', report.bind_address(k), guid)
  k = k + 1
  return report.post(path, body)
end

done = report.done
