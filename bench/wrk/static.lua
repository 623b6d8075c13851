-- One fixed request, built once (no per-request Lua): wrk <url> -s static.lua -- METHOD PATH [BODY_FILE]
-- Used for the baseline, RetroactiveAllowBind steady state, batch decisions, GET of a session
-- and the Hummingbird peer.
package.path = "./?.lua;" .. package.path
local report = require("report")

function init(args)
  wrk.method = args[1]
  wrk.path = args[2]
  if args[3] then
    local file = assert(io.open(args[3], "rb"))
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = "application/json"
  end
end

done = report.done
