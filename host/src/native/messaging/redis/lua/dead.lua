-- ARGV: prefix, queue, offset, limit. Answers 'ok', the total, then per dead letter: id,
-- message JSON, attempts, last error, dead-at ms.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
settle(q, now_ms())
local from = tonumber(ARGV[3])
local ids = redis.call('LRANGE', qk(q, 'dead'), from, from + tonumber(ARGV[4]) - 1)
local out = {'ok', redis.call('LLEN', qk(q, 'dead'))}
for _, id in ipairs(ids) do
  table.insert(out, id)
  table.insert(out, redis.call('HGET', qk(q, 'msg'), id) or '')
  table.insert(out, redis.call('HGET', qk(q, 'att'), id) or '0')
  table.insert(out, redis.call('HGET', qk(q, 'err'), id) or '')
  table.insert(out, redis.call('HGET', qk(q, 'deadat'), id) or '0')
end
return out
