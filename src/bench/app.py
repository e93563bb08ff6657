# The zero-downtime benchmark's app: gunicorn, a fixed answer, a health path. It prints when it is
# ready (READY <epoch ms>, from gunicorn.conf.py) and when it serves its first request that came
# through the proxy (FIRST <epoch ms>), so the benchmark can measure ready -> first request.
import os, sys, time

_first = [False]

def app(environ, start_response):
    if environ.get("PATH_INFO") == "/health":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if not _first[0] and "HTTP_X_FORWARDED_FOR" in environ:
        _first[0] = True
        print("FIRST %d pid %d" % (time.time() * 1000, os.getpid()), file=sys.stderr, flush=True)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello\n"]
