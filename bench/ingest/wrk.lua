-- wrk script for bench.ingest.versus: cycles through pre-signed request bodies (one per line of the file
-- given after `--`, "signature<TAB>body"), each thread taking every Nth line so threads send disjoint bodies.
-- done() prints one JSON line with the counts and latency percentiles (microseconds).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, target, nthreads = args[1], args[2], tonumber(args[3])
  requests = {}
  local n = 0
  for line in io.lines(path) do
    if n % nthreads == thread_id then
      local tab = string.find(line, "\t", 1, true)
      local signature, body = string.sub(line, 1, tab - 1), string.sub(line, tab + 1)
      table.insert(requests, wrk.format("POST", target, {
        ["Content-Type"] = "application/json",
        ["X-Helpline-Signature"] = signature,
      }, body))
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then position = 1 end
  return requests[position]
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
