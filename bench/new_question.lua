-- wrk script: each request asks the question of the URL with a `started_to` that no earlier request of the
-- run used, so that no answer is served from a process's memory (insights are kept per question and
-- registry state). The days run from 2100-01-01 plus the first argument, one day per request: later than
-- every pilot's start, so every request counts the same cases as the URL alone.
local day

function init(args)
  day = tonumber(args[1])
end

function request()
  day = day + 1
  local separator = string.find(wrk.path, "?", 1, true) and "&" or "?"
  local started_to = os.date("!%Y-%m-%d", 4102444800 + day * 86400)
  return wrk.format(nil, wrk.path .. separator .. "started_to=" .. started_to)
end
