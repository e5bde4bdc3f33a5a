-- wrk script for benches/load.sh: POST one questionnaire response per request.
--
-- Body: {"buurt":"<BUURT>","answers":{"<KEY1>":<0-10>,"<KEY2>":<0-10>}}
-- with a buurt drawn at random from BUURTPEIL_BENCH_BUURTEN (comma-separated,
-- set by benches/load.sh from the server's own list) and random scores, like
-- residents of the whole municipality answering at once. The two answer keys
-- come from the environment too:
--   BUURTPEIL_BENCH_KEY1   = tevredenheid_leven
--   BUURTPEIL_BENCH_KEY2   = geluk
--
-- Every response whose status is not 201 Created is counted (per status);
-- `done` prints the total as "non-201 responses: N" and the breakdown.

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

local function json_string(s)
  s = s:gsub('\\', '\\\\'):gsub('"', '\\"')
  return '"' .. s .. '"'
end

local buurten = {}
for code in env("BUURTPEIL_BENCH_BUURTEN", "BU07721110"):gmatch("[^,]+") do
  table.insert(buurten, code)
end
local key1  = json_string(env("BUURTPEIL_BENCH_KEY1", "tevredenheid_leven"))
local key2  = json_string(env("BUURTPEIL_BENCH_KEY2", "geluk"))

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local body = '{"buurt":' .. json_string(buurten[math.random(#buurten)])
    .. ',"answers":{' .. key1 .. ':' .. math.random(0, 10) .. ',' .. key2 .. ':' .. math.random(0, 10) .. '}}'
  return wrk.format(nil, nil, nil, body)
end

-- Each wrk thread has its own Lua state: keep the threads so `done` can
-- collect their counters.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread state (globals so that thread:get can read them).
non201 = 0
statuses = {}

function response(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non201") or 0)
    local s = thread:get("statuses") or {}
    for code, n in pairs(s) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  io.write(string.format("body: %s\n", wrk.body))
  io.write(string.format("non-201 responses: %d\n", total))
  local codes = {}
  for code in pairs(by_status) do table.insert(codes, code) end
  table.sort(codes)
  for _, code in ipairs(codes) do
    io.write(string.format("  status %d: %d\n", code, by_status[code]))
  end
end
