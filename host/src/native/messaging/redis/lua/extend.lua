-- ARGV: prefix, queue, receipt, visibility ms from now.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
local now = now_ms()
settle(q, now)
if not redis.call('ZSCORE', qk(q, 'inflight'), ARGV[3]) then return {'stale'} end
redis.call('ZADD', qk(q, 'inflight'), 'XX', now + tonumber(ARGV[4]), ARGV[3])
return {'ok'}
