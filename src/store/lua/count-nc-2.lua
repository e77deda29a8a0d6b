-- Count NCs written before the commits kept a count per class, each once: an NC that a commit
-- has classed since it was read is left as that commit counted it.
--
-- Input:
--   KEYS[1] count of NCs per class (hash: class -> count)
--   KEYS[2] marker: every earlier NC has been counted
--   ARGV[1] key prefix
--   ARGV[2] 'complete' to set the marker (no NCs then), else ''
--   ARGV[3...] pairs of NC id and its class
--
-- Output: how many NCs were counted
--
local prefix = ARGV[1]
if ARGV[2] == 'complete' then
  redis.call('SET', KEYS[2], '1')
  return 0
end
local counted = 0
for index = 3, #ARGV - 1, 2 do
  local ncKey = prefix .. ':nc:' .. ARGV[index]
  if redis.call('EXISTS', ncKey) == 1 and not redis.call('HGET', ncKey, 'k') then
    redis.call('HSET', ncKey, 'k', ARGV[index + 1])
    redis.call('HINCRBY', KEYS[1], ARGV[index + 1], 1)
    counted = counted + 1
  end
end
return counted
