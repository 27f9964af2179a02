-- ARGV: prefix, queue. Drops every message of the queue; answers how many.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
local n = redis.call('ZCARD', qk(q, 'ready')) + redis.call('ZCARD', qk(q, 'delayed'))
  + redis.call('ZCARD', qk(q, 'inflight')) + redis.call('LLEN', qk(q, 'dead'))
for _, part in ipairs({'msg', 'prio', 'att', 'err', 'ready', 'delayed', 'inflight', 'rcpt',
    'dead', 'deadat'}) do
  redis.call('DEL', qk(q, part))
end
return {'ok', n}
