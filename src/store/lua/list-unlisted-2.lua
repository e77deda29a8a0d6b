-- List the symptoms and NCs written before the list indexes were kept, each once: a record that a
-- commit has listed since it was read is left as that commit listed it.
--
-- Input:
--   KEYS[1] the symptoms' sequence counter (a symptom's score in its indexes)
--   KEYS[2] marker: every earlier record has been listed
--   ARGV[1] key prefix
--   ARGV[2] 'complete' to set the marker (no records then), else ''
--   ARGV[3...] quadruples: record key, member, its indexes (space-separated), its score ('' for a
--              symptom: the next sequence number)
--
-- Output: how many records were listed
--
local prefix = ARGV[1]
if ARGV[2] == 'complete' then
  redis.call('SET', KEYS[2], '1')
  return 0
end
local listed = 0
for index = 3, #ARGV - 3, 4 do
  local recordKey, member, indexes, score = ARGV[index], ARGV[index + 1], ARGV[index + 2], ARGV[index + 3]
  if redis.call('EXISTS', recordKey) == 1 and not redis.call('HGET', recordKey, 'ix') then
    if score == '' then
      score = redis.call('HGET', recordKey, 'is')
      if not score then
        score = redis.call('INCR', KEYS[1])
        redis.call('HSET', recordKey, 'is', score)
      end
    end
    for name in string.gmatch(indexes, '%S+') do redis.call('ZADD', prefix .. ':' .. name, score, member) end
    redis.call('HSET', recordKey, 'ix', indexes)
    listed = listed + 1
  end
end
return listed
