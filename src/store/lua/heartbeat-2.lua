-- Record a heartbeat of a source: its latest time, and the gap before it when that gap was longer
-- than the heartbeat's maxGap. Heartbeats arriving out of order never move the latest time back.
--
-- Input:
--   KEYS[1] hash: source -> time of its latest heartbeat (epoch ms)
--   KEYS[2] list of the source's gaps, newest first, as "from:to" (epoch ms)
--   ARGV[1] source
--   ARGV[2] time of this heartbeat (epoch ms)
--   ARGV[3] maxGap (ms)
--   ARGV[4] how many gaps are kept
--
-- Output:
--   1 when a gap was recorded, else 0
--
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '')
local at = tonumber(ARGV[2])
if last ~= nil and at <= last then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if last ~= nil and at - last > tonumber(ARGV[3]) then
  redis.call('LPUSH', KEYS[2], string.format('%d:%d', last, at))
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
  return 1
end
return 0
