-- bench/serve.lua: wrk script for bench/serve.sh: POST a short completion
-- and count the statuses; done() prints them and the socket errors.
wrk.method = "POST"
wrk.path = "/v1/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"prompt": "One of the special magic numbers for the frog is", "max_tokens": 8}'

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local line = "statuses:"
  for k, v in pairs(total) do line = line .. " " .. k .. "=" .. v end
  print(line)
  local e = summary.errors
  print(string.format("socket errors: connect %d read %d write %d timeout %d; status errors %d",
    e.connect, e.read, e.write, e.timeout, e.status))
end
