-- wrk script: a paced load. Each connection waits the given milliseconds between a response and its
-- next request (wrk -s paced.lua URL -- 10), so the rate stays below what the app can serve and
-- the latency measured is the requests', not a queue's.
local pause = 10
function init(args) pause = tonumber(args[1]) or pause end
function delay() return pause end
