-- wrk script for scripts/bench: the request comes from the environment
-- (BENCH_METHOD, BENCH_KEY, BENCH_BODY_FILE for a JSON body), and done()
-- prints one JSON line with the figures the bench keeps. No response()
-- hook (it would make wrk parse every answer): non-2xx answers are wrk's
-- own count, summary.errors.status.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "")
local body_file = os.getenv("BENCH_BODY_FILE") or ""
if body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,' ..
      '"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"socket_errors":%d}\n',
      summary.requests, summary.duration / 1e6,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, e.status,
      e.connect + e.read + e.write + e.timeout))
end
