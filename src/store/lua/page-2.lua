-- Read one page of an index, highest score first (ties by member in reverse byte order), after a
-- cursor's position, in commands whose cost grows with the page and the logarithm of the index,
-- never with what came before: the position is found by rank, whether or not its member is still
-- in the index (an NC or symptom that changed state has left it).
--
-- With a mode, the page is of an index narrowed by the NCs overdue now (KEYS[2], scored as every
-- NC index is, by openedAt): 'overdue' reads that small index and keeps what is also in KEYS[1];
-- 'not-overdue' reads KEYS[1] and skips what is in KEYS[2]. Either way the work grows with the
-- page and the overdue NCs, not with the register.
--
-- Input:
--   KEYS[1] the index (zset: member -> score); KEYS[2] the overdue NCs (any key when no mode)
--   ARGV[1] the cursor's score ('' for the first page), ARGV[2] its member
--   ARGV[3] how many to return; one more is read to tell whether a next page exists
--   ARGV[4] the lowest score listed ('-inf' for all)
--   ARGV[5] '' | 'overdue' | 'not-overdue'
--
-- Output:
--   { count of members at or above the lowest score (that the mode keeps), { member, score, ... } }
--
local index, overdue = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[3])
local lowest = ARGV[4]
local mode = ARGV[5]

local read, keep = index, nil
if mode == 'overdue' then
  read = overdue
  keep = function(member) return redis.call('ZSCORE', index, member) ~= false end
elseif mode == 'not-overdue' then
  keep = function(member) return redis.call('ZSCORE', overdue, member) == false end
end

-- Redis orders equal scores by bytes; Lua's string comparison follows the locale.
local function greater(a, b)
  local length = math.min(#a, #b)
  for at = 1, length do
    local x, y = string.byte(a, at), string.byte(b, at)
    if x ~= y then return x > y end
  end
  return #a > #b
end

local start = 0
if ARGV[1] ~= '' then
  local score, member = ARGV[1], ARGV[2]
  local first = redis.call('ZCOUNT', read, '(' .. score, '+inf')
  local past = first + redis.call('ZCOUNT', read, score, score)
  -- Among the members tied at the cursor's score, the first that is not greater than its member.
  local low, high = first, past
  while low < high do
    local middle = math.floor((low + high) / 2)
    if greater(redis.call('ZREVRANGE', read, middle, middle)[1], member) then low = middle + 1 else high = middle end
  end
  start = low
  if low < past and redis.call('ZREVRANGE', read, low, low)[1] == member then start = low + 1 end
end

local count = redis.call('ZCOUNT', index, lowest, '+inf')
if keep ~= nil then
  -- The overdue NCs in range that are also in the index.
  local both = 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', overdue, lowest, '+inf')) do
    if redis.call('ZSCORE', index, member) ~= false then both = both + 1 end
  end
  if mode == 'overdue' then count = both else count = count - both end
end

local page = {}
local at = start
local done = false
while not done and #page < (limit + 1) * 2 do
  local batch = redis.call('ZREVRANGE', read, at, at + limit, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    if lowest ~= '-inf' and tonumber(batch[i + 1]) < tonumber(lowest) then
      done = true
      break
    end
    if keep == nil or keep(batch[i]) then
      page[#page + 1] = batch[i]
      page[#page + 1] = batch[i + 1]
      if #page == (limit + 1) * 2 then break end
    end
  end
  at = at + limit + 1
end
return { count, page }
