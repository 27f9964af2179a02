-- ARGV: prefix, queue, id, message JSON, priority rank, delay ms.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
put(q, ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), now_ms())
return {'ok'}
