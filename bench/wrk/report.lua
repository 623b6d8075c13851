-- Shared by every scenario script: prints one machine-readable line that bench/run parses
-- (wrk's own text report rounds; this gives exact counts and microseconds).
local report = {}

function report.done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d bytes=%d errors_connect=%d errors_read=%d errors_write=%d " ..
    "errors_status=%d errors_timeout=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end

-- The external address of bind k, the same as bench/seed_sqlite.py's bind_address().
function report.bind_address(k)
  local host = math.floor(k / 50000)
  return string.format("198.%d.%d.%d:%d", 18 + math.floor(host / 65536), math.floor(host / 256) % 256, host % 256,
    10000 + k % 50000)
end

report.json_headers = { ["Content-Type"] = "application/json" }

-- A POST with a JSON body as raw HTTP/1.1 text: the same bytes wrk.format would give (Host,
-- Content-Type, Content-Length), built by concatenation, which costs wrk far less CPU per
-- request than wrk.format's header table (wrk shares the 2 cores with the server).
local host = nil
function report.post(path, body)
  if not host then
    host = wrk.headers["Host"] or (wrk.host .. (wrk.port and (":" .. wrk.port) or ""))
  end
  return "POST " .. path .. " HTTP/1.1\r\nHost: " .. host ..
    "\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
end

return report
