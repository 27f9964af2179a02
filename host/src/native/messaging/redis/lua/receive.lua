-- ARGV: prefix, queue, max, visibility ms ('' for the queue's), then one receipt token per
-- message that may be taken. Answers 'ok', the ms until something next becomes due (-1 for
-- never), then per delivery: id, receipt, attempt, message JSON, last error ('' for none).
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
local now = now_ms()
settle(q, now)
local vt = tonumber(ARGV[4]) or tonumber(redis.call('HGET', qk(q, 'meta'), 'vt'))
local popped = redis.call('ZPOPMIN', qk(q, 'ready'), tonumber(ARGV[3]))
local out = {'ok', -1}
local i = 0
for k = 1, #popped, 2 do
  local id = popped[k]
  local json = redis.call('HGET', qk(q, 'msg'), id)
  if json then
    i = i + 1
    local attempt = redis.call('HINCRBY', qk(q, 'att'), id, 1)
    local receipt = id .. '.' .. attempt .. '.' .. ARGV[4 + i]
    redis.call('ZADD', qk(q, 'inflight'), now + vt, receipt)
    redis.call('HSET', qk(q, 'rcpt'), receipt, id)
    local err = redis.call('HGET', qk(q, 'err'), id) or ''
    table.insert(out, id); table.insert(out, receipt); table.insert(out, attempt)
    table.insert(out, json); table.insert(out, err)
  end
end
if i == 0 then
  local nd = redis.call('ZRANGE', qk(q, 'delayed'), 0, 0, 'WITHSCORES')
  local ni = redis.call('ZRANGE', qk(q, 'inflight'), 0, 0, 'WITHSCORES')
  local due = nil
  if nd[2] then due = tonumber(nd[2]) end
  if ni[2] and (due == nil or tonumber(ni[2]) < due) then due = tonumber(ni[2]) end
  if due then out[2] = math.max(0, due - now) end
end
return out
