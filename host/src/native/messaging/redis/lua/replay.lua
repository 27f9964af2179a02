-- ARGV: prefix, queue, then the ids to replay (none: every dead letter). All or nothing:
-- answers 'missing' and the unknown ids, or 'ok' and how many became ready.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
settle(q, now_ms())
local ids = {}
for k = 3, #ARGV do table.insert(ids, ARGV[k]) end
if #ids == 0 then
  ids = redis.call('LRANGE', qk(q, 'dead'), 0, -1)
else
  local missing = {'missing'}
  for _, id in ipairs(ids) do
    if not redis.call('LPOS', qk(q, 'dead'), id) then table.insert(missing, id) end
  end
  if #missing > 1 then return missing end
end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('LREM', qk(q, 'dead'), 1, id) > 0 then
    redis.call('HDEL', qk(q, 'deadat'), id)
    redis.call('HSET', qk(q, 'att'), id, 0)
    make_ready(q, id)
    n = n + 1
  end
end
return {'ok', n}
