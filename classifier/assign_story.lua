-- The whole assignment runs in Redis as one script: read the document, the exact hash,
-- the LSH buckets, the title's versions and the candidate stories, decide, write. Redis
-- runs scripts one at a time, so two copies arriving together cannot both create a story,
-- and a worker pays one round trip instead of read/WATCH/MULTI rounds and retries. The
-- script touches story keys it learns while running (not declared in KEYS): the registry
-- needs a single Redis node, not a cluster.
-- Before the lookup it trims the near-duplicate window (`trim`, from window.lua, which
-- the registry puts before this script).
-- KEYS: the shard of documents holding this doc id, the shard of content hashes holding
-- this hash, title versions (a placeholder when the title is not a law's), window (sorted
-- set: story -> arrival of its latest copy), LSH shards. ARGV: see
-- `StoryRegistry._script_input` (the content hash is its 16 raw bytes); bucket records
-- (band, shard, bucket id: 1 + 2 + 6 bytes) follow the fixed arguments.
local prefix, doc_id, chash, sig = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local n, edition, number, tkey = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local rank, ts_text, new_id = tonumber(ARGV[9]), ARGV[10], ARGV[11]
local jaccard_min, containment_min = tonumber(ARGV[12]), tonumber(ARGV[13])
local containment_jaccard, max_bucket = tonumber(ARGV[14]), tonumber(ARGV[15])
local nperm = tonumber(ARGV[16])
local now, window, trim_limit = tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19])
local first_bucket, first_shard = 20, 5
local sig_bytes = nperm * 4

local function num(text)
  if text == 'inf' then return math.huge end
  return tonumber(text)
end
local ts = num(ts_text)

trim(prefix, KEYS[4], sig_bytes, now - window, trim_limit)

local bucket_values = {}
local function index_buckets(story_id)
  local added = {}
  for i = first_shard, #KEYS do
    local record = ARGV[first_bucket + i - first_shard]
    local bucket = string.sub(record, 4)
    local value = bucket_values[i]
    local members, present = {}, false
    if value then
      for member in string.gmatch(value, '[^,]+') do
        members[#members + 1] = member
        if member == story_id then present = true end
      end
    end
    if not present then
      members[#members + 1] = story_id
      local from = math.max(1, #members - max_bucket + 1)
      redis.call('HSET', KEYS[i], bucket, table.concat(members, ',', from, #members))
      added[#added + 1] = record
    end
  end
  return table.concat(added)
end

-- The story's near-duplicate entry: its signature, then the record of every bucket it
-- was put in (to leave them when it falls out of the window). A story that had left
-- comes back with this copy's signature (an exact copy has the same one).
local function link_doc(story_id)
  redis.call('HSET', KEYS[1], doc_id, chash .. story_id)
  redis.call('HSET', KEYS[2], chash, story_id)
  if sig == '' then return end
  local records = index_buckets(story_id)
  local near_key = prefix .. 'near:' .. story_id
  if redis.call('EXISTS', near_key) == 1 then
    if records ~= '' then redis.call('APPEND', near_key, records) end
  else
    redis.call('SET', near_key, sig .. records)
  end
  redis.call('ZADD', KEYS[4], ARGV[17], story_id)
end

-- A document's entry: its content hash (16 bytes), then its story id.
local doc = redis.call('HGET', KEYS[1], doc_id)
local known, known_hash
if doc then known, known_hash = string.sub(doc, 17), string.sub(doc, 1, 16) end
if known and known_hash == chash then  -- a redelivery: nothing else to read
  local canon = redis.call('HGET', prefix .. 'story:' .. known, 'canon')
  if canon then return {'same', known, canon, '1'} end
end
local exact = redis.call('HGET', KEYS[2], chash)
local seen, candidates = {}, {}
local function add(story_id)
  if story_id and not seen[story_id] then
    seen[story_id] = true
    candidates[#candidates + 1] = story_id
  end
end
add(known)
add(exact)
for i = first_shard, #KEYS do
  local value = redis.call('HGET', KEYS[i], string.sub(ARGV[first_bucket + i - first_shard], 4))
  bucket_values[i] = value
  if value then
    for member in string.gmatch(value, '[^,]+') do add(member) end
  end
end
local versions = {}
if tkey ~= '' then
  versions = redis.call('SMEMBERS', KEYS[3])
  for _, story_id in ipairs(versions) do add(story_id) end
end
table.sort(candidates)
local stories = {}
for _, story_id in ipairs(candidates) do
  local f = redis.call('HMGET', prefix .. 'story:' .. story_id,
    'canon', 'rank', 'ts', 'sig', 'n', 'ed', 'num')
  if f[1] then
    -- In the window the signature is the near entry's; a law's is also in its story
    -- (versions are found by title for years), anything else out of the window has none.
    local near = redis.call('GETRANGE', prefix .. 'near:' .. story_id, 0, sig_bytes - 1)
    if near == '' then near = f[4] or '' end
    stories[story_id] = {canon = f[1], rank = tonumber(f[2]), ts = num(f[3]),
      sig = near, n = tonumber(f[5] or '0'), ed = f[6] or '', num = f[7] or ''}
  end
end

if known and stories[known] then
  local story = stories[known]
  if known_hash == chash then
    return {'same', known, story.canon, '1'}
  end
  link_doc(known)
  return {'updated', known, story.canon, '1'}
end

local match, best = nil, 0
if exact and stories[exact] then
  match, best = exact, 1
elseif sig ~= '' then
  for _, story_id in ipairs(candidates) do
    local story = stories[story_id]
    if story and story.sig ~= '' and not (edition ~= '' and story.ed ~= '' and edition ~= story.ed)
        and not (number ~= '' and story.num ~= '' and number ~= story.num) then
      local equal = 0
      for i = 1, nperm * 4, 4 do
        if string.sub(sig, i, i + 3) == string.sub(story.sig, i, i + 3) then equal = equal + 1 end
      end
      local jaccard = equal / nperm
      local shared = jaccard * (n + story.n) / (1 + jaccard)
      local containment = math.min(1, shared / math.max(1, math.min(n, story.n)))
      local copy = jaccard >= jaccard_min
        or (containment >= containment_min and jaccard >= containment_jaccard)
      if copy and jaccard > best then match, best = story_id, jaccard end
    end
  end
end

if match then
  local story = stories[match]
  local key = prefix .. 'story:' .. match
  local canonical = story.canon
  if rank < story.rank or (rank == story.rank and ts < story.ts) then
    canonical = doc_id
    redis.call('HSET', key, 'canon', doc_id, 'rank', rank, 'ts', ts_text)
  end
  link_doc(match)
  return {'joined', match, canonical, tostring(best), story.canon}
end

local previous, previous_order, later, later_order = '', nil, '', nil
local function before(ed_a, ts_a, ed_b, ts_b)
  return ed_a < ed_b or (ed_a == ed_b and ts_a < ts_b)
end
for _, story_id in ipairs(versions) do
  local story = stories[story_id]
  if story then
    if not before(edition, ts, story.ed, story.ts) then
      if previous_order == nil
          or before(previous_order[1], previous_order[2], story.ed, story.ts) then
        previous, previous_order = story.canon, {story.ed, story.ts}
      end
    elseif later_order == nil or before(story.ed, story.ts, later_order[1], later_order[2]) then
      later, later_order = story.canon, {story.ed, story.ts}
    end
  end
end
-- A story outlives the window, so it holds only what is read: the signature stays out
-- (252 bytes would cost the hash its compact encoding) except for a law's, whose later
-- versions and reprints are found by title; an empty edition or number is left out.
local story_key = prefix .. 'story:' .. new_id
redis.call('HSET', story_key, 'canon', doc_id, 'rank', rank, 'ts', ts_text, 'n', n)
if edition ~= '' then redis.call('HSET', story_key, 'ed', edition) end
if number ~= '' then redis.call('HSET', story_key, 'num', number) end
link_doc(new_id)
if tkey ~= '' then
  redis.call('HSET', story_key, 'sig', sig)
  redis.call('SADD', KEYS[3], new_id)
end
return {'new', new_id, doc_id, '0', '', previous, later}
