-- Write decided symptom groups atomically, each only if its symptom is still at the version it
-- was read at (compare-and-set); a group that lost the race is reported, not written.
--
-- Input:
--   KEYS[1] due index (zset: fingerprint -> when time next changes it)
--   KEYS[2] outbox event stream
--   KEYS[3] index of every NC (zset by openedAt)
--   KEYS[4] count of NCs per class (hash: class -> count), for the gauges
--   ARGV[1] key prefix
--   ARGV[2] groups, JSON: [{ f, v, s, ix, ck, lf, x, fg, due, hm, h, b, seen: [[key, seen]], ty: [[key, member, at, floor, keepFor]],
--           ncs: [{ id, d, st, k, od, fam, ctl, at, up, yr, ph, th, ix, tl: [{ at, type, ev, dt, pv, hs }] }] }]
--           ix (space-separated) names the list indexes (zsets, under the prefix) the symptom or
--           NC is in; kept in its hash, so that it leaves the ones it is no longer in. A symptom's
--           score there is its sequence number (field is), given when it is first listed; an NC's
--           its openedAt
--           hm says how the symptom's history is written: 'r' replaces field h with ARGV[h] (0:
--           delete) and field b, the state before it, with ARGV[b] (0: delete); 'a' appends the
--           entries ARGV[h] (JSON objects, comma-separated; 0: none) to the array in h and writes
--           b when given; '' leaves both
--           ck is the key of the symptom's check across assets ('' for none), for "elsewhere", lf
--           when the symptom last failed, its score there, and x what "elsewhere" shows of it
--           fg 1 removes the symptom (its hash, its seen events, its index entries) after its NCs are
--           written: verified and quiet for the retention
--           ty counts members in tallies (zset member -> latest time), each trimmed to what came
--           after its floor and kept keepFor ms after its latest count
--           k is the NC's class (family, control and flags): its count moves from the old class
--           od is 1 while the NC is overdue: it is listed in the index of overdue NCs, else taken out
--           up is the NC's updatedAt, its score in the index of NCs by update (ncs:updated)
--           s and d are the ARGV index of the symptom's and the NC's JSON (s is 0 when the group
--           only remembers seen observations): passed apart so that they are not escaped twice
--           ph is the head of the NC's timeline (hash of its latest entry, '' for none) the decision
--           read and chained onto, th the head after its entries tl; a group whose NC has another
--           head by now is a conflict, like a symptom at another version: no entry is chained onto
--           anything but the real latest one. Each entry carries its hash hs and its predecessor's pv
--           (hashed in Node: Lua has no SHA-256)
--   ARGV[3] how long what was seen of a symptom's events is kept after the latest, ms
--   ARGV[4] how many events one symptom remembers at most; ARGV[5] how many it keeps when trimmed
--   ARGV[6...] the symptom and NC JSON documents
--
-- Output:
--   { conflicts: {fingerprint...}, created: {fingerprint, ncId, ...} }
--
local prefix = ARGV[1]
local groups = cjson.decode(ARGV[2])
local seenTtl = ARGV[3]
local dedupeCap = tonumber(ARGV[4])
local dedupeKeep = tonumber(ARGV[5])
local conflicts = {}
local created = {}

-- Whether each NC of the group still has the timeline head its decision chained onto.
local function headsHold(ncs)
  for _, nc in ipairs(ncs) do
    if nc.id ~= '#new' and (redis.call('HGET', prefix .. ':nc:' .. nc.id, 'th') or '') ~= nc.ph then
      return false
    end
  end
  return true
end

-- What was seen of a symptom's events, in a small hash of its own: each field an event, its value
-- the batch sequence and the record; when full, only the newest events stay.
local function remember(fingerprint, seen)
  if #seen == 0 then return end
  local dedupeKey = prefix .. ':dedupe:' .. fingerprint
  local sequence = redis.call('HINCRBY', dedupeKey, '#', 1)
  for _, entry in ipairs(seen) do
    redis.call('HSET', dedupeKey, entry[1], sequence .. ':' .. entry[2])
  end
  if redis.call('HLEN', dedupeKey) > dedupeCap + 1 then
    local fields = redis.call('HGETALL', dedupeKey)
    local events = {}
    for index = 1, #fields, 2 do
      if fields[index] ~= '#' then
        events[#events + 1] = { fields[index], tonumber(string.match(fields[index + 1], '^(%d+):')) or 0 }
      end
    end
    table.sort(events, function(a, b) return a[2] < b[2] end)
    for index = 1, #events - dedupeKeep do
      redis.call('HDEL', dedupeKey, events[index][1])
    end
  end
  redis.call('PEXPIRE', dedupeKey, seenTtl)
end

-- Moves a record between list indexes: out of those it was in and is not, into the new ones.
local function reindex(recordKey, member, indexes, score)
  local old = redis.call('HGET', recordKey, 'ix') or ''
  if old == indexes then return end
  local keep = {}
  for index in string.gmatch(indexes, '%S+') do keep[index] = true end
  for index in string.gmatch(old, '%S+') do
    if not keep[index] then redis.call('ZREM', prefix .. ':' .. index, member) end
  end
  local value = score()
  for index in string.gmatch(indexes, '%S+') do redis.call('ZADD', prefix .. ':' .. index, value, member) end
  if indexes == '' then redis.call('HDEL', recordKey, 'ix') else redis.call('HSET', recordKey, 'ix', indexes) end
end

for _, group in ipairs(groups) do
  local symptomKey = prefix .. ':sym:' .. group.f
  local version = tonumber(redis.call('HGET', symptomKey, 'v') or '0')
  if version ~= group.v or not headsHold(group.ncs) then
    conflicts[#conflicts + 1] = group.f
  elseif group.s == 0 then
    -- Only observations to remember: one that was ignored before its symptom existed; and a due
    -- entry left by a symptom that does not exist is dropped.
    remember(group.f, group.seen)
    if group.due == '' then
      redis.call('ZREM', KEYS[1], group.f)
    end
  else
    local symptom = ARGV[group.s]
    for _, nc in ipairs(group.ncs) do
      local id = nc.id
      local record = ARGV[nc.d]
      if id == '#new' then
        local sequence = redis.call('INCR', prefix .. ':ncseq:' .. nc.yr)
        id = string.format('NC-%s-%04d', nc.yr, sequence)
        record = string.gsub(record, '"id":"#new"', '"id":"' .. id .. '"', 1)
        symptom = string.gsub(symptom, '"nc":"#new"', '"nc":"' .. id .. '"', 1)
        created[#created + 1] = group.f
        created[#created + 1] = id
      end
      local ncKey = prefix .. ':nc:' .. id
      local previous = redis.call('HMGET', ncKey, 's', 'k')
      local previousState, previousClass = previous[1], previous[2]
      if previousState and previousState ~= nc.st then
        redis.call('ZREM', prefix .. ':ncs:state:' .. previousState, id)
      end
      if previousClass ~= nc.k then
        if previousClass then redis.call('HINCRBY', KEYS[4], previousClass, -1) end
        redis.call('HINCRBY', KEYS[4], nc.k, 1)
      end
      redis.call('HSET', ncKey, 'd', record, 's', nc.st, 'k', nc.k, 'th', nc.th)
      reindex(ncKey, id, nc.ix, function() return nc.at end)
      redis.call('ZADD', KEYS[3], nc.at, id)
      redis.call('ZADD', prefix .. ':ncs:updated', nc.up, id)
      redis.call('ZADD', prefix .. ':ncs:state:' .. nc.st, nc.at, id)
      redis.call('ZADD', prefix .. ':ncs:family:' .. nc.fam, nc.at, id)
      if nc.ctl ~= '' then
        redis.call('ZADD', prefix .. ':ncs:control:' .. nc.ctl, nc.at, id)
      end
      if nc.od == 1 then
        redis.call('ZADD', prefix .. ':ncs:overdue', nc.at, id)
      else
        redis.call('ZREM', prefix .. ':ncs:overdue', id)
      end
      for _, entry in ipairs(nc.tl) do
        local entryId = redis.call('XADD', prefix .. ':tl:' .. id, '*', 'at', entry.at, 'type', entry.type, 'event', entry.ev, 'detail', entry.dt, 'prev', entry.pv, 'hash', entry.hs)
        if entry.ev ~= '' then
          redis.call('XADD', KEYS[2], '*', 'id', id .. '.' .. entryId, 'type', entry.ev, 'at', entry.at, 'nc', record)
        end
      end
    end
    if group.fg == 1 then
      reindex(symptomKey, group.f, '', function() return 0 end)
      redis.call('DEL', symptomKey, prefix .. ':dedupe:' .. group.f)
      redis.call('ZREM', KEYS[1], group.f)
      if group.ck ~= '' then redis.call('ZREM', prefix .. ':elsewhere:' .. group.ck, group.f) end
    else
      redis.call('HSET', symptomKey, 'v', version + 1, 'd', symptom)
      reindex(symptomKey, group.f, group.ix, function()
        local sequence = redis.call('HGET', symptomKey, 'is')
        if not sequence then
          sequence = redis.call('INCR', prefix .. ':symseq')
          redis.call('HSET', symptomKey, 'is', sequence)
        end
        return sequence
      end)
      if group.hm == 'r' then
        if group.h == 0 then redis.call('HDEL', symptomKey, 'h') else redis.call('HSET', symptomKey, 'h', ARGV[group.h]) end
        if group.b == 0 then redis.call('HDEL', symptomKey, 'b') else redis.call('HSET', symptomKey, 'b', ARGV[group.b]) end
      elseif group.hm == 'a' then
        if group.h ~= 0 then
          -- Appended as text: the history is never decoded here, whatever its length.
          local history = redis.call('HGET', symptomKey, 'h')
          if not history or history == '' or history == '[]' then
            history = '[' .. ARGV[group.h] .. ']'
          else
            history = string.sub(history, 1, -2) .. ',' .. ARGV[group.h] .. ']'
          end
          redis.call('HSET', symptomKey, 'h', history)
        end
        if group.b ~= 0 then redis.call('HSET', symptomKey, 'b', ARGV[group.b]) end
      end
      if group.ck ~= '' then
        redis.call('ZADD', prefix .. ':elsewhere:' .. group.ck, group.lf, group.f)
        redis.call('HSET', symptomKey, 'x', group.x)
      end
      for _, tally in ipairs(group.ty) do
        local tallyKey = prefix .. ':tally:' .. tally[1]
        redis.call('ZADD', tallyKey, 'GT', tally[3], tally[2])
        redis.call('ZREMRANGEBYSCORE', tallyKey, '-inf', tally[4])
        redis.call('PEXPIRE', tallyKey, tally[5])
      end
      if group.due ~= '' then
        redis.call('ZADD', KEYS[1], group.due, group.f)
      else
        redis.call('ZREM', KEYS[1], group.f)
      end
      remember(group.f, group.seen)
    end
  end
end

return { conflicts, created }
