-- The near-duplicate window, shared by the assignment script (which begins with this
-- file) and `StoryRegistry.sweep`: stories whose latest copy arrived more than the window
-- ago leave the LSH buckets and lose their `near:` key (signature, then the 9-byte
-- records of the buckets they are in: band, shard, bucket id); their story, hash and doc
-- keys stay, so exact copies still join them.

-- One story leaves the near-duplicate index: out of every bucket its copies were put in.
local function forget(prefix, window_key, sig_bytes, story_id)
  local near_key = prefix .. 'near:' .. story_id
  local near = redis.call('GET', near_key)
  if near then
    for pos = sig_bytes + 1, #near, 9 do
      local band, high, low = string.byte(near, pos, pos + 2)
      local shard_key = prefix .. 'lsh:' .. band .. ':' .. (high * 256 + low)
      local bucket = string.sub(near, pos + 3, pos + 8)
      local value = redis.call('HGET', shard_key, bucket)
      if value then
        local kept = {}
        for member in string.gmatch(value, '[^,]+') do
          if member ~= story_id then kept[#kept + 1] = member end
        end
        if #kept == 0 then
          redis.call('HDEL', shard_key, bucket)
        else
          redis.call('HSET', shard_key, bucket, table.concat(kept, ','))
        end
      end
    end
    redis.call('DEL', near_key)
  end
  redis.call('ZREM', window_key, story_id)
end

-- Up to `limit` stories whose latest copy arrived before `cutoff` leave, oldest first;
-- returns how many left.
local function trim(prefix, window_key, sig_bytes, cutoff, limit)
  local expired = redis.call('ZRANGEBYSCORE', window_key, '-inf',
    '(' .. string.format('%.3f', cutoff), 'LIMIT', 0, limit)
  for _, story_id in ipairs(expired) do
    forget(prefix, window_key, sig_bytes, story_id)
  end
  return #expired
end
