-- wrk script for bench/nats.ts: POST the enqueue body and count only 202s as accepted (anything
-- else, 429 QUEUE_FULL or 503, separately). Args: <body> <path>... : requests go to the paths in
-- turn (several functions, so no queue reaches its queueSize within the run). Runs for wrk's -d
-- (a thread:stop() would end the requests but not wrk's own timer, so the rate is over -d).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local requests = {}
local turn = 0

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  for i = 2, #args do
    table.insert(requests, wrk.format("POST", args[i], nil, args[1]))
  end
  accepted = 0
  other = 0
end

function request()
  turn = turn % #requests + 1
  return requests[turn]
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    o = o + t:get("other")
  end
  -- summary.duration is in µs; the latency percentiles too.
  io.write(string.format("NANOFAAS accepted=%d other=%d errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    a, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
