-- A single decision per request, to a bind picked at random among BINDS (seeded with
-- report.bind_address): -- BINDS
package.path = "./?.lua;" .. package.path
local report = require("report")
local binds = 1

function init(args)
  binds = tonumber(args[1])
  math.randomseed(12345)
end

function request()
  local k = math.random(0, binds - 1)
  local body = string.format(
    '{"protocol":"tcp","direction":"inbound","source":"198.51.100.7:5004","destination":"%s"}', report.bind_address(k))
  return report.post("/decisions", body)
end

done = report.done
