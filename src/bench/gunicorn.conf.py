import time

workers = 2
threads = 4          # gthread: keep-alive connections, so the proxy's pool is exercised
graceful_timeout = 20

def post_worker_init(worker):
    # A worker has bound and can serve: the app is ready.
    print("READY %d pid %d" % (time.time() * 1000, worker.pid), flush=True)
