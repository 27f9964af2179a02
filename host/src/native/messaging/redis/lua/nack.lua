-- ARGV: prefix, queue, receipt, reason, retry delay ms ('' for the queue's backoff).
-- Answers 'dead', or 'retry' and the delay.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
local now = now_ms()
settle(q, now)
if redis.call('ZREM', qk(q, 'inflight'), ARGV[3]) == 0 then return {'stale'} end
local id = redis.call('HGET', qk(q, 'rcpt'), ARGV[3])
redis.call('HDEL', qk(q, 'rcpt'), ARGV[3])
if not id then return {'stale'} end
redis.call('HSET', qk(q, 'err'), id, ARGV[4])
local m = redis.call('HMGET', qk(q, 'meta'), 'max', 'bo', 'bomax')
local attempts = tonumber(redis.call('HGET', qk(q, 'att'), id) or '0')
if attempts >= tonumber(m[1]) then
  to_dead(q, id, now)
  return {'dead'}
end
local delay = tonumber(ARGV[5])
if not delay then
  delay = math.min(tonumber(m[2]) * 2 ^ math.min(math.max(attempts - 1, 0), 40), tonumber(m[3]))
end
redis.call('ZADD', qk(q, 'delayed'), now + delay, id)
return {'retry', delay}
