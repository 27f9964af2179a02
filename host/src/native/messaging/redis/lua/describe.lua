-- ARGV: prefix, queue.
local q = ARGV[2]
if not exists(q) then return {'no-queue'} end
settle(q, now_ms())
return info(q)
