# The compat suite's WSGI app (gunicorn sync/gthread/gevent, waitress). Every answer names the
# process that served it (X-Pid), so a test can tell which generation answered.
#   /             hello
#   /health       ok
#   /slow?ms=N    answers after N ms; or ?until=FILE: once FILE exists (polled, at most 60 s);
#                 &mark=FILE is created when the request arrives, so a test waits on it, not on time
#   POST /echo    the request body
#   /big?mb=N     N MB, in 64 KB blocks; block i is 65536 times the byte i % 256
import os
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        return answer(start_response, b"ok\n")
    if path == "/slow":
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        slow(q)
        return answer(start_response, b"slow done, pid %d\n" % os.getpid())
    if path == "/echo" and environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return answer(start_response, environ["wsgi.input"].read(length))
    if path == "/big":
        mb = int(parse_qs(environ.get("QUERY_STRING", "")).get("mb", ["1"])[0])
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(mb << 20)),
                                  ("X-Pid", str(os.getpid()))])
        return (bytes([i % 256]) * 65536 for i in range(mb * 16))
    if path == "/":
        return answer(start_response, b"hello from pid %d\n" % os.getpid())
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return [b"not found\n"]


def slow(q):
    if "mark" in q:
        open(q["mark"], "w").close()
    if "until" in q:
        deadline = time.monotonic() + 60
        while not os.path.exists(q["until"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    else:
        time.sleep(int(q.get("ms", "1000")) / 1000)


def answer(start_response, body):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                              ("X-Pid", str(os.getpid()))])
    return [body]
