-- ARGV: prefix, topic, id, message JSON, priority rank, delay ms. A copy on every queue
-- subscribed to the topic; answers how many.
local now = now_ms()
local n = 0
for _, q in ipairs(redis.call('SMEMBERS', B .. 'topic:' .. ARGV[2])) do
  if exists(q) then
    put(q, ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), now)
    n = n + 1
  end
end
return {'ok', n}
