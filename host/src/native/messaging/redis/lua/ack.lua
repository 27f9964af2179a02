-- ARGV: prefix, queue, receipt. The message leaves the broker.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
settle(q, now_ms())
if redis.call('ZREM', qk(q, 'inflight'), ARGV[3]) == 0 then return {'stale'} end
local id = redis.call('HGET', qk(q, 'rcpt'), ARGV[3])
redis.call('HDEL', qk(q, 'rcpt'), ARGV[3])
if id then
  for _, part in ipairs({'msg', 'prio', 'att', 'err'}) do redis.call('HDEL', qk(q, part), id) end
end
return {'ok'}
