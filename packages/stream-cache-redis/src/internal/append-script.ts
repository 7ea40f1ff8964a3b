/**
 * The Lua script behind `RedisStreamCache.appendIndexed`: one atomic round trip that deduplicates
 * each entry by key, orders attempts of a step (storing a supersession marker before the first
 * event of a newer attempt, refusing events of older ones), allocates consecutive indices equal to
 * list positions, enforces the event limit, refreshes the TTL of the topic's four keys, and, when
 * asked, PUBLISHes the stored events as one batch message.
 *
 * Entries arrive as JSON text starting with `{`; the index is spliced in as the first field by
 * string operations, never by decoding and re-encoding user data (cjson would turn `[]` into `{}`).
 *
 * KEYS: events list, index counter, producers hash, attempts list.
 * ARGV: ttlMs, maxEvents (-1: none), notify channel ("" : none), message head, entry count,
 *       publish command ("PUBLISH" or "SPUBLISH"), expected next index (-1: none), the notice's
 *       fields after its index and id (`"type":"events-lost","runId":...,"createdAt":...`), then
 *       per entry: key, json, stepId ("" : none), attempt, exempt ("1"/"0"), marker head, marker key.
 * Returns `{ firstLostIndex, lastLostIndex }` (-1, -1: nothing lost), then one
 * `{ status, index, markerIndex, currentAttempt }` per entry; status 0 appended, 1 duplicate,
 * 2 stale, 3 limit; -1 where a number does not apply.
 */
export const appendScript = `
local ttl = tonumber(ARGV[1])
local maxEvents = tonumber(ARGV[2])
local channel = ARGV[3]
local head = ARGV[4]
local count = tonumber(ARGV[5])
local publishCommand = ARGV[6]
local expectedNext = tonumber(ARGV[7])
local lostFields = ARGV[8]
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
local results = {{-1, -1}}
local published = {}
if stored < expectedNext then
  for index = stored, expectedNext - 1 do
    local notice = '{"index":' .. index .. ',"id":"events-lost:' .. index .. '",' .. lostFields .. ',"data":{"firstLostIndex":' .. stored .. ',"lastLostIndex":' .. (expectedNext - 1) .. '}}'
    redis.call('RPUSH', KEYS[1], notice)
    published[#published + 1] = notice
  end
  results[1] = {stored, expectedNext - 1}
  redis.call('SET', KEYS[2], expectedNext)
  stored = expectedNext
end
local function append(json, key)
  local index = redis.call('INCR', KEYS[2]) - 1
  local entry = '{"index":' .. index .. '}'
  if json ~= '{}' then entry = '{"index":' .. index .. ',' .. string.sub(json, 2) end
  redis.call('RPUSH', KEYS[1], entry)
  redis.call('HSET', KEYS[3], key, index)
  stored = index + 1
  published[#published + 1] = entry
  return index
end
for position = 0, count - 1 do
  local base = 9 + position * 7
  local key = ARGV[base]
  local json = ARGV[base + 1]
  local stepId = ARGV[base + 2]
  local attempt = tonumber(ARGV[base + 3])
  local exempt = ARGV[base + 4] == '1'
  local markerHead = ARGV[base + 5]
  local markerKey = ARGV[base + 6]
  local known = redis.call('HGET', KEYS[3], key)
  if known then
    results[#results + 1] = {1, tonumber(known), -1, -1}
  elseif maxEvents >= 0 and stored >= maxEvents and not exempt then
    results[#results + 1] = {3, -1, -1, -1}
  else
    local current = nil
    if stepId ~= '' then
      current = redis.call('HGET', KEYS[3], 'attempt@' .. stepId)
      if current then current = tonumber(current) end
    end
    if current and attempt < current then
      results[#results + 1] = {2, -1, -1, current}
    else
      local markerIndex = -1
      if current and attempt > current and markerHead ~= '' then
        markerIndex = append(markerHead .. current .. '}}', markerKey)
        redis.call('RPUSH', KEYS[4], '{"stepId":' .. cjson.encode(stepId) .. ',"attempt":' .. attempt .. ',"index":' .. markerIndex .. '}')
      end
      if stepId ~= '' and (not current or attempt > current) then
        redis.call('HSET', KEYS[3], 'attempt@' .. stepId, attempt)
      end
      results[#results + 1] = {0, append(json, key), markerIndex, current or -1}
    end
  end
end
if ttl > 0 then
  for keyPosition = 1, 4 do
    redis.call('PEXPIRE', KEYS[keyPosition], ttl)
  end
end
if channel ~= '' and #published > 0 then
  redis.call(publishCommand, channel, head .. table.concat(published, ',') .. ']}}')
end
return results
`;

/**
 * The script behind `listPushIndexed`: allocate an index, store the value with it, refresh both
 * keys' TTL, in one round trip. KEYS: list, counter. ARGV: json (starting with "{"), ttlMs.
 */
export const pushIndexedScript = `
local index = redis.call('INCR', KEYS[2]) - 1
local entry = '{"index":' .. index .. '}'
if ARGV[1] ~= '{}' then entry = '{"index":' .. index .. ',' .. string.sub(ARGV[1], 2) end
redis.call('RPUSH', KEYS[1], entry)
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return index
`;

/**
 * `listPushIndexed` on a Redis Cluster when the list and its counter are in different slots, so no
 * script may touch both: the index is the list's length, which equals the index the counter would
 * give while both live and die together, then the counter is raised to it (`raiseCounterScript`).
 * KEYS: list. ARGV: json (starting with "{"), ttlMs.
 */
export const pushIndexedByLengthScript = `
local index = redis.call('LLEN', KEYS[1])
local entry = '{"index":' .. index .. '}'
if ARGV[1] ~= '{}' then entry = '{"index":' .. index .. ',' .. string.sub(ARGV[1], 2) end
redis.call('RPUSH', KEYS[1], entry)
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return index
`;

/** Raises a counter to at least ARGV[1] and refreshes its TTL (ARGV[2]). KEYS: counter. */
export const raiseCounterScript = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;
