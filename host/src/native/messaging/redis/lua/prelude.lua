-- Shared by every script of the Redis broker (prepended to each). ARGV[1] is the tenant's key
-- prefix; every key is built from it, so one tenant's scripts never touch another's keys.
-- A queue `q` is: meta (hash: vt, max, bo, bomax), topics (set), msg (hash id -> message JSON,
-- never parsed here), prio (id -> 0..3), att (id -> deliveries so far), err (id -> last error),
-- ready (zset id by priority then order), delayed (zset id by due ms), inflight (zset receipt by
-- visibility deadline ms), rcpt (receipt -> id), dead (list of ids), deadat (id -> ms).
local B = ARGV[1]
local function qk(q, part) return B .. 'q:' .. q .. ':' .. part end
local function exists(q) return redis.call('SISMEMBER', B .. 'queues', q) == 1 end
-- Milliseconds by the Redis server's clock, shared by every host process.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Ready order: higher priority first, then first come first served (2^48 orders per rank).
local function make_ready(q, id)
  local seq = redis.call('INCR', B .. 'seq')
  local rank = tonumber(redis.call('HGET', qk(q, 'prio'), id) or '1')
  redis.call('ZADD', qk(q, 'ready'), (3 - rank) * 281474976710656 + seq, id)
end
local function to_dead(q, id, now)
  redis.call('RPUSH', qk(q, 'dead'), id)
  redis.call('HSET', qk(q, 'deadat'), id, now)
end
-- Moves what is due: delayed messages whose time came become ready; deliveries whose
-- visibility timeout passed become ready again, or dead after max attempts.
local function settle(q, now)
  local due = redis.call('ZRANGEBYSCORE', qk(q, 'delayed'), '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', qk(q, 'delayed'), id)
    make_ready(q, id)
  end
  local expired = redis.call('ZRANGEBYSCORE', qk(q, 'inflight'), '-inf', now, 'LIMIT', 0, 1000)
  if #expired > 0 then
    local max = tonumber(redis.call('HGET', qk(q, 'meta'), 'max') or '5')
    for _, r in ipairs(expired) do
      redis.call('ZREM', qk(q, 'inflight'), r)
      local id = redis.call('HGET', qk(q, 'rcpt'), r)
      redis.call('HDEL', qk(q, 'rcpt'), r)
      if id then
        redis.call('HSET', qk(q, 'err'), id, 'not acknowledged within its visibility timeout')
        if tonumber(redis.call('HGET', qk(q, 'att'), id) or '0') >= max then
          to_dead(q, id, now)
        else
          make_ready(q, id)
        end
      end
    end
  end
end
-- Stores a message on queue q: ready now, or delayed.
local function put(q, id, json, rank, delay, now)
  redis.call('HSET', qk(q, 'msg'), id, json)
  redis.call('HSET', qk(q, 'prio'), id, rank)
  redis.call('HSET', qk(q, 'att'), id, 0)
  if delay > 0 then
    redis.call('ZADD', qk(q, 'delayed'), now + delay, id)
  else
    make_ready(q, id)
  end
end
local function info(q)
  local m = redis.call('HMGET', qk(q, 'meta'), 'vt', 'max', 'bo', 'bomax')
  local topics = redis.call('SMEMBERS', qk(q, 'topics'))
  table.sort(topics)
  return {'ok', m[1], m[2], m[3], m[4],
    redis.call('ZCARD', qk(q, 'ready')), redis.call('ZCARD', qk(q, 'delayed')),
    redis.call('ZCARD', qk(q, 'inflight')), redis.call('LLEN', qk(q, 'dead')), topics}
end
