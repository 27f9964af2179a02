-- ARGV: prefix, queue, visibility ms, max attempts, backoff ms, backoff max ms.
local q = ARGV[2]
redis.call('HSET', qk(q, 'meta'), 'vt', ARGV[3], 'max', ARGV[4], 'bo', ARGV[5], 'bomax', ARGV[6])
redis.call('SADD', B .. 'queues', q)
settle(q, now_ms())
return info(q)
