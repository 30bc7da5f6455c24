-- wrk script for scripts/bench-api: replays a request mix at random.
--
--   BENCH_PATHS   a file of paths, one a line: GET each at random
--   BENCH_BODIES  instead, a file of JSON bodies, one a line: POST each at
--                 random to BENCH_POST_PATH (default /case-studies) with
--                 BENCH_TOKEN as the bearer token
--   BENCH_RESULT  where done() writes one line:
--                 requests duration_us p50_ms p99_ms mean_ms max_ms status_errors socket_errors
--
-- Every request is formatted once in init(); request() only picks one, so the
-- load generator spends as little as possible per request.

local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

local function lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  assert(#out > 0, path .. " is empty")
  return out
end

local pool = {}

function init(args)
  math.randomseed(7919 * (thread_id or 1) + os.time())
  local bodies = os.getenv("BENCH_BODIES")
  if bodies and bodies ~= "" then
    local path = os.getenv("BENCH_POST_PATH") or "/case-studies"
    local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set"),
    }
    for _, body in ipairs(lines(bodies)) do
      pool[#pool + 1] = wrk.format("POST", path, headers, body)
    end
  else
    for _, p in ipairs(lines(assert(os.getenv("BENCH_PATHS"), "BENCH_PATHS is not set"))) do
      pool[#pool + 1] = wrk.format("GET", p)
    end
  end
end

function request()
  return pool[math.random(#pool)]
end

function done(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(assert(os.getenv("BENCH_RESULT"), "BENCH_RESULT is not set"), "w"))
  f:write(string.format("%d %d %.3f %.3f %.3f %.3f %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
  f:close()
end
