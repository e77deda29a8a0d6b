-- Read one page of an index, highest score first (ties by member in reverse byte order), after a
-- cursor's position, in commands whose cost grows with the page and the logarithm of the index,
-- never with what came before: the position is found by rank, whether or not its member is still
-- in the index (an NC or symptom that changed state has left it).
--
-- Input:
--   KEYS[1] the index (zset: member -> score)
--   ARGV[1] the cursor's score ('' for the first page), ARGV[2] its member
--   ARGV[3] how many to return; one more is read to tell whether a next page exists
--   ARGV[4] the lowest score listed ('-inf' for all)
--
-- Output:
--   { count of members at or above the lowest score, { member, score, ... } }
--
local key = KEYS[1]
local limit = tonumber(ARGV[3])
local lowest = ARGV[4]

-- Redis orders equal scores by bytes; Lua's string comparison follows the locale.
local function greater(a, b)
  local length = math.min(#a, #b)
  for index = 1, length do
    local x, y = string.byte(a, index), string.byte(b, index)
    if x ~= y then return x > y end
  end
  return #a > #b
end

local start = 0
if ARGV[1] ~= '' then
  local score, member = ARGV[1], ARGV[2]
  local first = redis.call('ZCOUNT', key, '(' .. score, '+inf')
  local past = first + redis.call('ZCOUNT', key, score, score)
  -- Among the members tied at the cursor's score, the first that is not greater than its member.
  local low, high = first, past
  while low < high do
    local middle = math.floor((low + high) / 2)
    if greater(redis.call('ZREVRANGE', key, middle, middle)[1], member) then low = middle + 1 else high = middle end
  end
  start = low
  if low < past and redis.call('ZREVRANGE', key, low, low)[1] == member then start = low + 1 end
end

local count = redis.call('ZCOUNT', key, lowest, '+inf')
local read = redis.call('ZREVRANGE', key, start, start + limit, 'WITHSCORES')
local page = {}
for index = 1, #read, 2 do
  if lowest ~= '-inf' and tonumber(read[index + 1]) < tonumber(lowest) then break end
  page[#page + 1] = read[index]
  page[#page + 1] = read[index + 1]
end
return { count, page }
