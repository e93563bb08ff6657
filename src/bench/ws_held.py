#!/usr/bin/python3
"""WebSockets held open: N idle WebSocket connections through rainbowd and through nginx (as its
WebSocket docs advise), one after the other, interleaved over a few rounds, in front of the same
uvicorn echo app (src/test/resources/apps/ws/echo.py, --ws wsproto) that rainbowd runs.
Run it with src/bench/websockets (which raises the fd limit; not named websockets.py, which would shadow the library); Debian's /usr/bin/python3 with its
websockets library is the client.

Per round and proxy: the proxy's RSS (VmRSS; nginx: master + workers) and open fds before, with
the N sockets open, after they closed; its CPU time (utime + stime) while they idle for IDLE
seconds, then while each sends one small message a second for MSG seconds (echoed; round trip
timed). rainbowd must count 0 tunnels and be back to its fds after the close.
"""
import asyncio, json, os, random, re, resource, signal, statistics, subprocess, sys, time, urllib.request

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
N = int(os.environ.get("WS_N", 1000))
ROUNDS = int(os.environ.get("WS_ROUNDS", 3))
IDLE = float(os.environ.get("WS_IDLE", 30))
MSG = float(os.environ.get("WS_MSG", 30))
SETTLE = 3.0
TICK = os.sysconf("SC_CLK_TCK")
WORK = os.environ["WORK"]
OUT = os.environ["OUT"]
started = []


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def heap_used_kb(pid):
    """The JVM's live heap: a full GC, then the generations' "used" (jcmd; serial GC's wording)."""
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=30)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=30).stdout
    return sum(int(m) for m in re.findall(r"generation +total \d+K, used (\d+)K", out))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def children(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class Proxy:
    def __init__(self, name, port, pid, pids):
        self.name, self.port, self.pid, self._pids = name, port, pid, pids

    def pids(self):
        return self._pids()

    def rss(self):
        return sum(rss_kb(p) for p in self.pids())

    def cpu(self):
        return sum(cpu_ticks(p) for p in self.pids())

    def fds(self):
        return sum(fds(p) for p in self.pids())

    def threads(self):
        return sum(threads(p) for p in self.pids())


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return
        except Exception:  # noqa: not up yet
            pass
        time.sleep(0.1)
    raise SystemExit("timed out waiting for " + what)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_rainbowd(port, control):
    conf = os.path.join(WORK, "rainbow.yaml")
    with open(conf, "w") as f:
        f.write("run: 'exec /usr/bin/python3 -m uvicorn echo:app --app-dir %s --ws wsproto --host 127.0.0.1 --port \"$1\""
                " --log-level warning --no-access-log'\n" % os.path.join(ROOT, "src/test/resources/apps/ws"))
        f.write("healthCheckPath: /health\nport: %d\ncontrolPort: %d\nstateDir: %s/state\nworkingDir: %s\n" % (port, control, WORK, WORK))
    logf = open(os.path.join(WORK, "rainbowd.log"), "a")
    env = dict(os.environ, RAINBOWD_JAR=os.path.join(WORK, "rainbowd.jar"), RAINBOWD_CDS_DIR=WORK)
    # A session of its own, as a service has: in this script's session the scheduler's autogroup
    # would share one CPU slice between the proxy and the load (see README, issue 17).
    p = subprocess.Popen([os.path.join(ROOT, "agent/rainbowd"), "run", "-c", conf], stdout=logf, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    started.append(p)
    wait_for(lambda: get_json("http://127.0.0.1:%d/status" % control)["live"] is not None, 60, "rainbowd live")
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(40)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_nginx(port, backend):
    d = os.path.join(WORK, "nginx")
    os.makedirs(d + "/logs", exist_ok=True)
    os.makedirs(d + "/tmp", exist_ok=True)
    user = "user root;" if os.getuid() == 0 else ""
    with open(d + "/nginx.conf", "w") as f:
        f.write("""worker_processes auto;
worker_rlimit_nofile 10000;
error_log %(d)s/logs/error.log warn;
pid %(d)s/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(d)s/tmp/body; proxy_temp_path %(d)s/tmp/proxy;
  fastcgi_temp_path %(d)s/tmp/fcgi; uwsgi_temp_path %(d)s/tmp/uwsgi; scgi_temp_path %(d)s/tmp/scgi;
  # nginx.org/en/docs/http/websocket.html
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream app { server 127.0.0.1:%(backend)d; }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 1h;  # rainbowd's tunnelIdleTimeout default; nginx's default 60 s would cut idle sockets
      proxy_send_timeout 1h;
    }
  }
}
""" % {"d": d, "port": port, "backend": backend})
    p = subprocess.Popen(["nginx", "-p", d, "-c", d + "/nginx.conf", "-g", "daemon off; " + user],
                         stdout=open(d + "/logs/stdout.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    started.append(p)
    wait_for(lambda: urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=2).status == 200, 20, "nginx")
    return p


async def open_all(url, n):
    sem = asyncio.Semaphore(64)

    async def one():
        async with sem:
            return await websockets.connect(url, ping_interval=None, compression=None, open_timeout=30, close_timeout=5)
    return await asyncio.gather(*[one() for _ in range(n)])


async def chatter(socks, seconds):
    """Each socket sends a 16-byte text a second (at a random offset in the second) and awaits its echo."""
    rtts, errors = [], []
    end = time.monotonic() + seconds

    async def one(ws):
        await asyncio.sleep(random.random())
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                await ws.send("0123456789abcdef")
                reply = await asyncio.wait_for(ws.recv(), 10)
                if reply != "0123456789abcdef":
                    errors.append("bad echo")
            except Exception as e:  # noqa
                errors.append(repr(e))
                return
            rtts.append(time.monotonic() - t0)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
    await asyncio.gather(*[one(ws) for ws in socks])
    return rtts, errors


async def close_all(socks):
    sem = asyncio.Semaphore(64)

    async def one(ws):
        async with sem:
            await ws.close()
    await asyncio.gather(*[one(ws) for ws in socks], return_exceptions=True)


def measure(proxy, app_pid, tunnels):
    """One round for one proxy: returns a dict of measures."""
    m = {"proxy": proxy.name, "load1_start": os.getloadavg()[0]}
    app_fds0 = fds(app_pid)
    if proxy.name == "rainbowd":
        m["heap_before_kb"] = heap_used_kb(proxy.pid)
    m["rss_before_kb"], m["fds_before"], m["threads_before"] = proxy.rss(), proxy.fds(), proxy.threads()
    t_open, c_open = time.monotonic(), proxy.cpu()
    socks = asyncio.run_coroutine_threadsafe(open_all("ws://127.0.0.1:%d/echo" % proxy.port, N), LOOP).result()
    m["open_s"] = round(time.monotonic() - t_open, 2)
    m["cpu_open_ms"] = round((proxy.cpu() - c_open) * 1000 / TICK)
    time.sleep(SETTLE)
    m["rss_open_kb"], m["fds_open"] = proxy.rss(), proxy.fds()
    if tunnels:
        m["tunnels_open"] = tunnels()
    c0, t0 = proxy.cpu(), time.monotonic()
    time.sleep(IDLE)
    c1, t1 = proxy.cpu(), time.monotonic()
    m["rss_idle_end_kb"], m["threads_idle_end"] = proxy.rss(), proxy.threads()
    if proxy.name == "rainbowd":
        m["heap_open_kb"] = heap_used_kb(proxy.pid)  # after the idle CPU window: a full GC is no idle work
    m["cpu_idle_ms"] = round((c1 - c0) * 1000 / TICK)
    m["idle_s"] = round(t1 - t0, 1)
    if MSG > 0:
        c0, t0 = proxy.cpu(), time.monotonic()
        rtts, errors = asyncio.run_coroutine_threadsafe(chatter(socks, MSG), LOOP).result()
        c1, t1 = proxy.cpu(), time.monotonic()
        m["rss_msg_end_kb"], m["threads_msg_end"] = proxy.rss(), proxy.threads()
        m["cpu_msg_ms"] = round((c1 - c0) * 1000 / TICK)
        m["msg_s"] = round(t1 - t0, 1)
        m["messages"] = len(rtts)
        m["msg_errors"] = len(errors)
        if errors:
            m["msg_error_sample"] = errors[:3]
        rtts.sort()
        if rtts:
            m["rtt_p50_ms"] = round(rtts[len(rtts) // 2] * 1000, 2)
            m["rtt_p99_ms"] = round(rtts[int(len(rtts) * 0.99)] * 1000, 2)
    asyncio.run_coroutine_threadsafe(close_all(socks), LOOP).result()
    # closed: the proxy's fds and rainbowd's tunnel count back, the app's sockets gone
    deadline = time.time() + 20
    while time.time() < deadline and (proxy.fds() > m["fds_before"] or fds(app_pid) > app_fds0 + 5 or (tunnels and tunnels() > 0)):
        time.sleep(0.2)
    time.sleep(1)
    m["fds_after"] = proxy.fds()
    m["app_fds_extra_after"] = fds(app_pid) - app_fds0
    if tunnels:
        m["tunnels_after"] = tunnels()
    m["rss_after_kb"] = proxy.rss()
    m["load1_end"] = os.getloadavg()[0]
    if proxy.name == "rainbowd":
        m["heap_after_kb"] = heap_used_kb(proxy.pid)
    return m


LOOP = None


def main():
    global LOOP
    import threading
    LOOP = asyncio.new_event_loop()
    threading.Thread(target=LOOP.run_forever, daemon=True).start()
    port, control, nport = free_port(), free_port(), free_port()
    # first start and stop, unmeasured: the launcher writes its AppCDS archive when a daemon exits (as src/bench/run)
    log("rainbowd: first start (writes the AppCDS archive)")
    stop(start_rainbowd(port, control))
    rb = start_rainbowd(port, control)
    st = get_json("http://127.0.0.1:%d/status" % control)
    app_port, app_pid = st["live"]["port"], st["live"]["pid"]
    log("rainbowd pid %d live; uvicorn pid %d port %d" % (rb.pid, app_pid, app_port))
    ng = start_nginx(nport, app_port)
    proxies = {
        "rainbowd": (Proxy("rainbowd", port, rb.pid, lambda: [rb.pid]),
                     lambda: get_json("http://127.0.0.1:%d/status" % control)["live"]["tunnels"]),
        "nginx": (Proxy("nginx", nport, ng.pid, lambda: [ng.pid] + children(ng.pid)), None),
    }
    log("nginx master %d workers %s" % (ng.pid, children(ng.pid)))
    # warm-up, unmeasured: a few sockets and messages through each (JIT, nginx's first connections)
    for name, (proxy, _) in proxies.items():
        socks = asyncio.run_coroutine_threadsafe(open_all("ws://127.0.0.1:%d/echo" % proxy.port, 100), LOOP).result()
        asyncio.run_coroutine_threadsafe(chatter(socks, 3), LOOP).result()
        asyncio.run_coroutine_threadsafe(close_all(socks), LOOP).result()
    time.sleep(6)  # past the launcher's 5 s native-heap trim
    results = []
    for r in range(ROUNDS):
        order = ["rainbowd", "nginx"] if r % 2 == 0 else ["nginx", "rainbowd"]
        for name in order:
            proxy, tunnels = proxies[name]
            m = measure(proxy, app_pid, tunnels)
            m["round"] = r + 1
            results.append(m)
            log(json.dumps(m))
            with open(os.path.join(OUT, "raw.jsonl"), "a") as f:
                f.write(json.dumps(m) + "\n")
            time.sleep(2)
    stop(ng)
    stop(rb)
    table(results)


def table(results):
    def col(name, key, scale=1.0):
        vals = [m[key] * scale for m in results if m["proxy"] == name and key in m]
        if not vals:
            return "-"
        med = statistics.median(vals)
        fmt = (lambda v: "%d" % v) if all(isinstance(m.get(key), int) for m in results if key in m) and scale == 1.0 else (lambda v: "%.1f" % v)
        return "%s (%s-%s)" % (fmt(med), fmt(min(vals)), fmt(max(vals)))

    for m in results:
        m["per_tunnel_kb"] = (m["rss_idle_end_kb"] - m["rss_before_kb"]) / N
        if "heap_open_kb" in m:
            m["heap_per_tunnel_kb"] = (m["heap_open_kb"] - m["heap_before_kb"]) / N
        m["cpu_idle_ms_per_s"] = m["cpu_idle_ms"] / m["idle_s"]
        if "cpu_msg_ms" in m:
            m["cpu_msg_ms_per_s"] = m["cpu_msg_ms"] / m["msg_s"]
            m["cpu_us_per_msg"] = m["cpu_msg_ms"] * 1000 / max(1, m["messages"])
    lines = ["# WebSockets held: %d sockets, %d rounds, idle %ds, then 1 message/s per socket for %ds" % (N, ROUNDS, IDLE, MSG), "",
             "Machine: %d cores, %s; %s; %s; uvicorn %s (--ws wsproto), client: websockets %s (/usr/bin/python3)" % (
                 os.cpu_count(), os.uname().release,
                 subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0],
                 subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
                 subprocess.run(["/usr/bin/python3", "-c", "import uvicorn; print(uvicorn.__version__)"], capture_output=True, text=True).stdout.strip(),
                 websockets.__version__),
             "", "median (min-max) over the rounds; RSS in MB; CPU in ms of utime+stime", "",
             "| proxy | open %d: s / CPU ms | RSS before | RSS with %d open (end of idle) | KB per socket | fds before / open / after | CPU idle %ds | CPU %d msg/s for %ds | CPU us per message | echo RTT p50 / p99 ms | RSS after close |" % (N, N, IDLE, N, MSG),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in ("rainbowd", "nginx"):
        lines.append("| %s | %s | %s | %s | %s | %s / %s / %s | %s | %s | %s | %s / %s | %s |" % (
            name, col(name, "open_s", 1.0) + " / " + col(name, "cpu_open_ms"), col(name, "rss_before_kb", 1 / 1024), col(name, "rss_idle_end_kb", 1 / 1024), col(name, "per_tunnel_kb", 1.0),
            col(name, "fds_before"), col(name, "fds_open"), col(name, "fds_after"),
            col(name, "cpu_idle_ms"), col(name, "cpu_msg_ms"), col(name, "cpu_us_per_msg", 1.0),
            col(name, "rtt_p50_ms", 1.0), col(name, "rtt_p99_ms", 1.0), col(name, "rss_after_kb", 1 / 1024)))
    lines.append("")
    lines.append("KB per socket: (RSS at the end of the idle window - RSS before) / %d; a JVM's RSS also holds heap it grew into"
                 " and keeps, so for rainbowd the live heap after a full GC (jcmd GC.run, GC.heap_info) is given too:"
                 " before %s MB, with the sockets %s MB, after the close %s MB, i.e. %s KB of live heap per tunnel." % (
                     N, col("rainbowd", "heap_before_kb", 1 / 1024), col("rainbowd", "heap_open_kb", 1 / 1024),
                     col("rainbowd", "heap_after_kb", 1 / 1024), col("rainbowd", "heap_per_tunnel_kb", 1.0)))
    lines.append("")
    lines.append("Per round (raw.jsonl has every measure):")
    lines.append("")
    for m in results:
        lines.append("- round %d %s: RSS %.1f -> %.1f (3 s after open %.1f, end of messages %s) -> %.1f MB after close; CPU idle %d ms, messages %s ms (%s echoed, %s errors); tunnels open %s, after %s; fds %d/%d/%d; app extra fds after %d; threads %s/%s/%s (before/idle/messages); load average %.1f -> %.1f" % (
            m["round"], m["proxy"], m["rss_before_kb"] / 1024, m["rss_idle_end_kb"] / 1024, m["rss_open_kb"] / 1024,
            "%.1f" % (m["rss_msg_end_kb"] / 1024) if "rss_msg_end_kb" in m else "-", m["rss_after_kb"] / 1024,
            m["cpu_idle_ms"], m.get("cpu_msg_ms", "-"), m.get("messages", "-"), m.get("msg_errors", "-"),
            m.get("tunnels_open", "-"), m.get("tunnels_after", "-"), m["fds_before"], m["fds_open"], m["fds_after"], m["app_fds_extra_after"],
            m.get("threads_before"), m.get("threads_idle_end"), m.get("threads_msg_end"), m.get("load1_start", 0), m.get("load1_end", 0)))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that what we started is stopped
    try:
        main()
    finally:
        for p in reversed(started):
            stop(p)
