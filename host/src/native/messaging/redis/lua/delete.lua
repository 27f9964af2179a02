-- ARGV: prefix, queue. Drops the queue, its messages and its subscriptions.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
for _, t in ipairs(redis.call('SMEMBERS', qk(q, 'topics'))) do
  redis.call('SREM', B .. 'topic:' .. t, q)
end
for _, part in ipairs({'meta', 'topics', 'msg', 'prio', 'att', 'err', 'ready', 'delayed',
    'inflight', 'rcpt', 'dead', 'deadat'}) do
  redis.call('DEL', qk(q, part))
end
redis.call('SREM', B .. 'queues', q)
return {'ok'}
