#!/usr/bin/env python3
"""Raw recording HTTP/1.1 backend for the rainbowd-vs-nginx differential test.

usage: backend.py PORT [PIDFILE]
Every request received is saved byte for byte to $REC_DIR (set by src/bench/fidelity/run) as
NNNNNN.bin (raw bytes: request line, headers, body as framed on the wire) plus NNNNNN.meta
(connection id, index on the connection). The response is chosen by path: /resp/<kind>.
"""
import base64, gzip, hashlib, os, socket, sys, threading, time, itertools

REC_DIR = os.environ["REC_DIR"]
os.makedirs(REC_DIR, exist_ok=True)
_seq_lock = threading.Lock()
_conn_ids = itertools.count(1)


def next_seq():
    with _seq_lock:
        n = len([f for f in os.listdir(REC_DIR) if f.endswith(".bin")]) + 1
        while os.path.exists(os.path.join(REC_DIR, "%06d.bin" % n)):
            n += 1
        open(os.path.join(REC_DIR, "%06d.bin" % n), "wb").close()
        return n


def record(raw, meta):
    n = next_seq()
    with open(os.path.join(REC_DIR, "%06d.bin" % n), "wb") as f:
        f.write(raw)
    with open(os.path.join(REC_DIR, "%06d.meta" % n), "w") as f:
        f.write(meta)


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.raw = b""  # bytes consumed for the current request

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def readline(self):
        while b"\r\n" not in self.buf:
            if b"\n" in self.buf:
                break
            self.fill()
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        self.raw += line
        return line

    def read(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        self.raw += d
        return d


def send(sock, data):
    sock.sendall(data)


def resp(status, headers, body=b"", reason=None):
    reasons = {200: "OK", 204: "No Content", 304: "Not Modified", 404: "Not Found", 500: "Internal Server Error"}
    r = reasons.get(status, "Whatever") if reason is None else reason
    out = ("HTTP/1.1 %d %s\r\n" % (status, r)).encode()
    for k, v in headers:
        out += (k.encode("latin-1") if isinstance(k, str) else k) + b": " + (v.encode("latin-1") if isinstance(v, str) else v) + b"\r\n"
    return out + b"\r\n" + body


def handle(sock, cid):
    c = Conn(sock)
    idx = 0
    while True:
        c.raw = b""
        idx += 1
        try:
            line = c.readline()
            while line in (b"\r\n", b"\n"):
                line = c.readline()
            headers = []
            while True:
                h = c.readline()
                if h in (b"\r\n", b"\n"):
                    break
                headers.append(h)
        except EOFError:
            if c.raw or c.buf:
                record(c.raw + c.buf, "conn=%d idx=%d partial-eof\n" % (cid, idx))
            return
        parts = line.split(b" ")
        method = parts[0].decode("latin-1")
        target = parts[1].decode("latin-1") if len(parts) > 1 else "/"
        version = parts[2].strip().decode("latin-1") if len(parts) > 2 else "HTTP/0.9"
        hd = {}
        for h in headers:
            if b":" in h:
                k, v = h.split(b":", 1)
                hd.setdefault(k.strip().lower().decode("latin-1"), []).append(v.strip().decode("latin-1"))
        path = target.split("?")[0]
        kind = path[len("/resp/"):] if path.startswith("/resp/") else ""
        te = ",".join(hd.get("transfer-encoding", [])).lower()
        cl = hd.get("content-length", [None])[0]
        expect = ",".join(hd.get("expect", [])).lower()
        try:
            if expect == "100-continue" and kind not in ("expect-no-continue", "no100"):
                send(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            if kind == "expect-no-continue" and expect == "100-continue":
                body = b"refused without reading body\n"
                send(sock, resp(413, [("Content-Length", str(len(body))), ("Connection", "close")], body))
                record(c.raw, "conn=%d idx=%d (body not read)\n" % (cid, idx))
                return
            if kind == "early-reply":
                record(c.raw, "conn=%d idx=%d (body not read)\n" % (cid, idx))
                respond(sock, kind, method, target, method == "HEAD", True, hd)
                time.sleep(0.3)
                return
            if "chunked" in te:
                while True:
                    szl = c.readline()
                    sz = int(szl.split(b";")[0].strip(), 16)
                    if sz == 0:
                        while True:
                            t = c.readline()
                            if t in (b"\r\n", b"\n"):
                                break
                        break
                    c.read(sz)
                    c.readline()
            elif cl is not None:
                c.read(int(cl))
        except (EOFError, ValueError) as e:
            record(c.raw + c.buf, "conn=%d idx=%d partial-body %r\n" % (cid, idx, e))
            return
        record(c.raw, "conn=%d idx=%d\n" % (cid, idx))
        if kind == "ws" and hd.get("upgrade"):
            tunnel(sock, c, cid, hd)
            return
        conn_hdr = ",".join(hd.get("connection", [])).lower()
        close = "close" in conn_hdr or (version == "HTTP/1.0" and "keep-alive" not in conn_hdr)
        head = method == "HEAD"
        try:
            keep = respond(sock, kind, method, target, head, close, hd)
        except (BrokenPipeError, ConnectionResetError):
            return
        if close or not keep:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            time.sleep(0.2)
            return


def tunnel(sock, c, cid, hd):
    """/resp/ws asked with an Upgrade: 101 (the asked protocol; Sec-WebSocket-Accept if a key came)
    and a first frame in one write, then every byte that arrives is recorded ("tunnel" records,
    one per read) and echoed verbatim. A chunk starting with a close frame (0x88) is echoed and
    the connection closed, as a server ends its close handshake. At EOF (the client half-closed)
    "after-eof" is sent before closing: it reaches the client only if the proxy passed the
    half-close on and kept the other direction open."""
    proto = hd["upgrade"][0].encode("latin-1")
    hs = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + proto + b"\r\nConnection: Upgrade\r\n"
    if hd.get("sec-websocket-key"):
        key = hd["sec-websocket-key"][0].encode("latin-1")
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        hs += b"Sec-WebSocket-Accept: " + accept + b"\r\n"
    send(sock, hs + b"\r\n" + b"\x81\x05first")
    n = 0
    pending, c.buf = c.buf, b""
    while True:
        if pending:
            d, pending = pending, b""
        else:
            try:
                d = sock.recv(65536)
            except (ConnectionResetError, OSError):
                record(b"", "conn=%d tunnel reset\n" % cid)
                return
        if not d:
            record(b"", "conn=%d tunnel eof\n" % cid)
            try:
                send(sock, b"after-eof")
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            time.sleep(0.2)
            return
        n += 1
        record(d, "conn=%d tunnel read %d\n" % (cid, n))
        try:
            send(sock, d)
        except OSError:
            return
        if d.startswith(b"\x88"):
            sock.shutdown(socket.SHUT_WR)
            time.sleep(0.2)
            return


def chunked(parts, trailers=b""):
    out = b""
    for p in parts:
        out += b"%x\r\n" % len(p) + p + b"\r\n"
    return out + b"0\r\n" + trailers + b"\r\n"


GZ = gzip.compress(b"hello gzip world\n" * 20, mtime=0)
BINARY = bytes(range(256)) * 4
BIG = bytes((i * 13) % 253 for i in range(5 * 1024 * 1024))


def respond(sock, kind, method, target, head, close, hd):
    """Writes the response; returns False if the connection must close afterwards."""
    ch = [("Connection", "close")] if close else []

    def simple(status, headers, body, reason=None):
        hs = list(headers) + [("Content-Length", str(len(body)))] + ch
        send(sock, resp(status, hs, b"" if head else body, reason))
        return True

    if kind == "" or kind == "default":
        body = ("ok %s %s\n" % (method, target)).encode("latin-1")
        return simple(200, [("Content-Type", "text/plain")], body)
    if kind == "health":
        return simple(200, [], b"ok\n")
    if kind == "chunked":
        hs = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")] + ch
        send(sock, resp(200, hs, b"" if head else chunked([b"hello ", b"chunked ", b"world\n"])))
        return True
    if kind == "no-length":
        send(sock, resp(200, [("Content-Type", "text/plain"), ("Connection", "close")], b"" if head else b"close-delimited body\n" * 3))
        return False
    if kind == "204":
        send(sock, resp(204, [("X-A", "1")] + ch))
        return True
    if kind == "204-with-cl":
        send(sock, resp(204, [("Content-Length", "0")] + ch))
        return True
    if kind == "304":
        send(sock, resp(304, [("ETag", '"abc"'), ("Cache-Control", "max-age=60")] + ch))
        return True
    if kind == "304-with-cl":  # Django/whitenoise style: 304 keeps the Content-Length of the entity
        send(sock, resp(304, [("ETag", '"abc"'), ("Content-Length", "1234")] + ch))
        return True
    if kind == "head-with-length":
        body = b"x" * 1234
        if head:
            send(sock, resp(200, [("Content-Type", "text/plain"), ("Content-Length", "1234")] + ch))
            return True
        return simple(200, [("Content-Type", "text/plain")], body)
    if kind == "no100":  # an app server that ignores Expect (wsgiref / Django runserver): reads the body, never sends 100
        return simple(200, [], b"got body without sending 100\n")
    if kind == "chunked-empty":
        send(sock, resp(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")] + ch, b"" if head else b"0\r\n\r\n"))
        return True
    if kind == "head-chunked":
        hs = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")] + ch
        send(sock, resp(200, hs, b"" if head else chunked([b"abc"])))
        return True
    if kind == "multi-set-cookie":
        return simple(200, [("Set-Cookie", "a=1; Path=/; HttpOnly"),
                            ("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
                            ("Set-Cookie", "c=3, d=4"),
                            ("set-cookie", "e=5")], b"cookies\n")
    if kind == "multi-headers":
        return simple(200, [("WWW-Authenticate", 'Basic realm="a"'), ("WWW-Authenticate", "Bearer"),
                            ("Vary", "Accept"), ("Vary", "Cookie"), ("Link", "</a.css>; rel=preload"),
                            ("Link", "</b.js>; rel=preload"), ("Cache-Control", "no-cache"),
                            ("Cache-Control", "private")], b"multi\n")
    if kind == "trailers":
        hs = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"), ("Trailer", "X-Checksum")] + ch
        send(sock, resp(200, hs, b"" if head else chunked([b"body with trailers\n"], b"X-Checksum: abc123\r\n")))
        return True
    if kind == "header-case":
        return simple(200, [("x-lower", "a"), ("X-MiXeD-CaSe", "b"), ("ETAG", '"e"'), ("content-type", "text/html; charset=utf-8"),
                            ("X-Empty", ""), ("X-Spaces", "  padded  "), ("x-request-id", "r1"), ("X-Frame-Options", "DENY")], b"case\n")
    if kind == "header-order":
        return simple(200, [("Z-Last", "1"), ("A-First", "2"), ("Content-Type", "text/plain"), ("M-Mid", "3"),
                            ("Cache-Control", "max-age=0"), ("Location", "/elsewhere"), ("B", "4")], b"order\n")
    if kind == "obs-fold":
        send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Folded: part1\r\n  part2\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n" + (b"" if head else b"fold\n"))
        return True
    if kind == "duplicate-content-length":
        send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n" + (b"" if head else b"dupl\n"))
        return True
    if kind == "cl-and-te":
        send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"" if head else chunked([b"both\n"])))
        return True
    if kind == "1xx":
        send(sock, b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n")
        return simple(200, [("Link", "</style.css>; rel=preload; as=style")], b"after early hints\n")
    if kind == "102":
        send(sock, b"HTTP/1.1 102 Processing\r\n\r\n")
        time.sleep(0.2)
        return simple(200, [], b"after processing\n")
    if kind.startswith("huge-header"):
        n = int(kind.split("-")[-1]) if kind.count("-") == 2 else 20000
        return simple(200, [("X-Huge", "h" * n)], b"huge\n")
    if kind.startswith("many-headers"):
        n = int(kind.split("-")[-1])
        return simple(200, [("X-H%d" % i, "v" * 50) for i in range(n)], b"many\n")
    if kind == "big-set-cookie":  # 4 cookies of 3.5 KB: a typical session-heavy app
        return simple(200, [("Set-Cookie", "c%d=%s" % (i, "x" * 3500)) for i in range(4)], b"big cookies\n")
    if kind == "empty-reason-phrase":
        send(sock, b"HTTP/1.1 200 \r\nContent-Length: 3\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n" + (b"" if head else b"ok\n"))
        return True
    if kind == "no-reason-phrase":
        send(sock, b"HTTP/1.1 200\r\nContent-Length: 3\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n" + (b"" if head else b"ok\n"))
        return True
    if kind == "custom-reason":
        return simple(404, [], b"nope\n", reason="Not Here Buddy")
    if kind == "http10":
        send(sock, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + (b"" if head else b"http/1.0 response, close-delimited\n"))
        return False
    if kind == "http10-cl":
        send(sock, b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n" + (b"" if head else b"h10\n"))
        return False
    if kind == "keepalive-close":
        send(sock, resp(200, [("Content-Length", "6"), ("Connection", "close")], b"" if head else b"close\n"))
        return False
    if kind == "connection-names":
        send(sock, resp(200, [("Content-Length", "3"), ("Connection", "X-Secret"), ("X-Secret", "s"), ("Keep-Alive", "timeout=5"), ("X-Keep", "k")] + ch, b"" if head else b"ok\n"))
        return True
    if kind == "gzip-passthrough":
        return simple(200, [("Content-Type", "text/plain"), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")], GZ)
    if kind == "gzip-chunked":
        hs = [("Content-Type", "text/plain"), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")] + ch
        send(sock, resp(200, hs, b"" if head else chunked([GZ[:20], GZ[20:]])))
        return True
    if kind == "binary":
        return simple(200, [("Content-Type", "application/octet-stream")], BINARY)
    if kind == "big":
        return simple(200, [("Content-Type", "application/octet-stream")], BIG)
    if kind == "slow-chunks":
        hs = [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked"), ("Cache-Control", "no-cache")] + ch
        send(sock, resp(200, hs))
        for i in range(4):
            send(sock, b"%x\r\n" % len(b"data: %d\n\n" % i) + b"data: %d\n\n" % i + b"\r\n")
            time.sleep(0.4)
        send(sock, b"0\r\n\r\n")
        return True
    if kind == "slow-cl":  # a Content-Length body written slowly (file download)
        send(sock, resp(200, [("Content-Length", "40")] + ch))
        for i in range(4):
            send(sock, b"x" * 10)
            time.sleep(0.4)
        return True
    if kind == "no-content-type":
        return simple(200, [], b"no type\n")
    if kind == "date-server":
        return simple(200, [("Date", "Mon, 01 Jan 2001 00:00:00 GMT"), ("Server", "gunicorn"), ("X-Powered-By", "Django")], b"ds\n")
    if kind == "utf8-header":
        return simple(200, [("Content-Disposition", "attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"".encode("latin-1")),
                            ("X-Latin1", b"caf\xe9"), ("X-Ctl", b"a\x7fb")], b"utf8\n")
    if kind == "location":
        return simple(302, [("Location", "http://127.0.0.1/next?x=1")], b"")
    if kind == "location-rel":
        return simple(302, [("Location", "/next")], b"")
    if kind == "status-only-no-body":  # 500 with CL 0
        return simple(500, [], b"")
    if kind == "echo-val":  # header values taken from ?v=..., to see if values are case-normalised
        v = target.split("v=", 1)[1] if "v=" in target else "x"
        return simple(200, [("ETag", '"%s"' % v), ("Set-Cookie", "sid=%s; Path=/" % v), ("X-Token", v), ("Location", "/%s" % v),
                            ("Content-Type", "text/plain; charset=%s" % v), ("Cache-Control", "private, %s" % v),
                            ("Access-Control-Allow-Origin", "https://%s.example" % v), ("Content-Language", v), ("Vary", v),
                            ("Link", "</%s>; rel=preload" % v), ("Content-Disposition", "attachment; filename=%s.txt" % v)], b"ev\n")
    if kind.startswith("ctype-"):
        cts = {"1": "text/html; charset=utf-8", "2": "text/html;charset=utf-8", "3": "application/json; charset=utf-8",
               "4": "text/plain;charset=ISO-8859-1", "5": "TEXT/HTML", "6": "application/json;charset=UTF-8",
               "7": "text/html; charset=\"utf-8\"", "8": "multipart/x-mixed-replace; boundary=AbC", "9": "text/xml; charset=utf-8",
               "10": "application/x-www-form-urlencoded; charset=utf-8"}
        return simple(200, [("Content-Type", cts[kind.split("-")[1]]), ("Content-Encoding", "GZIP" if kind.endswith("5") else "identity"),
                            ("Cache-Control", "No-Cache"), ("Transfer-Encoding-Like", "x"), ("Connection-Like", "Keep-Alive"),
                            ("Accept-Ranges", "Bytes"), ("Pragma", "No-Cache")], b"ct\n")
    if kind == "utf8-a":
        return simple(200, [("Content-Disposition", "attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"".encode("latin-1"))], b"a\n")
    if kind == "utf8-b":
        return simple(200, [("X-Latin1", b"caf\xe9")], b"b\n")
    if kind == "utf8-c":
        return simple(200, [("X-Ctl", b"a\x7fb")], b"c\n")
    if kind == "utf8-d":  # Set-Cookie with raw UTF-8 (Express/PHP do this)
        return simple(200, [("Set-Cookie", "name=J\xc3\xbcrgen; Path=/".encode("latin-1"))], b"d\n")
    if kind == "early-reply":  # answers without reading the request body (auth check before upload)
        return simple(401, [("WWW-Authenticate", "Bearer")], b"no\n")
    if kind == "slow-then-close":  # app worker dies after 1.5 s of work (e.g. killed by a timeout)
        time.sleep(1.5)
        return False
    if kind == "sleep":
        time.sleep(2)
        return simple(200, [], b"slept\n")
    if kind.startswith("status-"):
        code = int(kind.split("-")[1])
        if code in (204, 304) or 100 <= code < 200:
            send(sock, resp(code, ch))
            return True
        extra = [("WWW-Authenticate", 'Basic realm="x"')] if code == 401 else []
        extra += [("Retry-After", "5")] if code == 503 else []
        return simple(code, extra + [("Content-Type", "text/plain")], ("status %d body\n" % code).encode())
    if kind == "short-body":  # app crashes mid-body: promised 100, sent 10
        send(sock, resp(200, [("Content-Length", "100")], b"" if head else b"0123456789"))
        return False
    if kind == "reset-before":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        return False
    if kind == "close-before":
        return False
    if kind == "bad-status-line":
        send(sock, b"HTTP/1.1 2000 Way Too Big\r\nContent-Length: 3\r\n\r\nok\n")
        return False
    if kind == "lf-only":  # bare LF line endings (some hand-rolled servers)
        send(sock, b"HTTP/1.1 200 OK\nContent-Length: 3\nX-Lf: 1\n\n" + (b"" if head else b"lf\n"))
        return False
    if kind == "space-before-colon":
        send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Bad : 1\r\n\r\n" + (b"" if head else b"sp\n"))
        return False
    if kind == "te-identity":
        send(sock, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n" + (b"" if head else b"identity\n"))
        return False
    if kind == "content-length-0":
        return simple(200, [("Content-Type", "application/json")], b"")
    if kind == "echo":  # body: the raw request as received
        return simple(200, [("Content-Type", "application/octet-stream")], b"")
    if kind == "205":
        return simple(205, [], b"")
    if kind in ("ws", "ws-refuse"):  # /resp/ws without an Upgrade, or an app refusing the upgrade
        return simple(200, [("Content-Type", "text/plain")], b"no upgrade here\n")
    if kind == "upgrade":
        send(sock, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        time.sleep(0.5)
        send(sock, b"\x81\x02hi")
        time.sleep(0.5)
        return False
    body = ("unknown kind %s\n" % kind).encode()
    return simple(404, [], body)


def main():
    port = int(sys.argv[1])
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(256)
    while True:
        sock, addr = s.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = next(_conn_ids)

        def run(sock=sock, cid=cid):
            try:
                handle(sock, cid)
            except Exception as e:  # noqa
                sys.stderr.write("backend error: %r\n" % e)
            finally:
                try:
                    sock.close()
                except OSError:
                    pass
        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    main()
