-- ARGV: prefix, queue, topic, '1' to subscribe or '0' to unsubscribe.
local q, t = ARGV[2], ARGV[3]
if not exists(q) then return {'no-queue'} end
if ARGV[4] == '1' then
  redis.call('SADD', qk(q, 'topics'), t)
  redis.call('SADD', B .. 'topic:' .. t, q)
else
  redis.call('SREM', qk(q, 'topics'), t)
  redis.call('SREM', B .. 'topic:' .. t, q)
end
return {'ok'}
