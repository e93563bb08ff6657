-- wrk script: keep-alive POSTs with a 4 KB body (src/bench/ab WRK_ARGS="-s src/bench/post4k.lua")
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
