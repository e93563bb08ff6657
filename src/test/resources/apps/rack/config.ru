# The compat suite's Rack app (puma, unicorn, thin, rackup). Same endpoints as apps/wsgi/app.py:
# /, /health, /slow?ms=N|until=FILE[&mark=FILE], POST /echo; every answer carries X-Pid.
require "rack/utils"

def answer(body, status = 200)
  [status, { "Content-Type" => "text/plain", "Content-Length" => body.bytesize.to_s, "X-Pid" => Process.pid.to_s }, [body]]
end

def slow(q)
  File.write(q["mark"], "") if q["mark"]
  if q["until"]
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 60
    sleep 0.01 until File.exist?(q["until"]) || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
  else
    sleep Integer(q.fetch("ms", "1000")) / 1000.0
  end
end

run(lambda do |env|
  case env["PATH_INFO"]
  when "/health" then answer("ok\n")
  when "/slow"
    slow(Rack::Utils.parse_query(env["QUERY_STRING"]))
    answer("slow done, pid #{Process.pid}\n")
  when "/echo"
    env["REQUEST_METHOD"] == "POST" ? answer(env["rack.input"].read) : answer("not found\n", 404)
  when "/" then answer("hello from pid #{Process.pid}\n")
  else answer("not found\n", 404)
  end
end)
