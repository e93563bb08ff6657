#!/usr/bin/env python3
"""Differential test: the same raw requests through rainbowd and nginx, both in front of the same
recording backend (backend.py). Run it with src/bench/fidelity/run, which starts all three.

usage: harness.py [-v] [name-substring ...]
Writes $OUT/<test>.<proxy>.{client,backend} (raw bytes) and prints, per test, SAME or
a diff of the normalised views (what the backend received, what the client received).
"""
import difflib, glob, hashlib, os, re, socket, sys, time

PROXIES = [("nginx", int(os.environ["NGINX_PORT"])), ("rainbowd", int(os.environ["RAINBOWD_PORT"]))]
# upgrade cases (ws-*) go to nginx configured for WebSockets (see run)
NGINX_WS_PORT = int(os.environ["NGINX_WS_PORT"])
REC = os.environ["REC_DIR"]
OUT = os.environ["OUT"]
os.makedirs(OUT, exist_ok=True)
H = "Host: example.com\r\n"


def req(line, headers=(), body=b"", host=True):
    out = line.encode("latin-1") + b"\r\n"
    if host:
        out += H.encode()
    for h in headers:
        out += (h.encode("latin-1") if isinstance(h, str) else h) + b"\r\n"
    return out + b"\r\n" + body


def chunk(parts, trailers=b""):
    out = b""
    for p in parts:
        out += b"%x\r\n" % len(p) + p + b"\r\n"
    return out + b"0\r\n" + trailers + b"\r\n"


BIG = bytes((i * 7) % 251 for i in range(5 * 1024 * 1024))
T = {}  # name -> (steps, idle_timeout)


def t(name, *steps, idle=0.8):
    T[name] = (list(steps), idle)


# ---- methods
for m in ["GET", "HEAD", "DELETE", "OPTIONS", "PURGE", "TRACE"]:
    t("method-" + m, req(m + " /m?x=1 HTTP/1.1", ["Connection: close"]))
for m in ["POST", "PUT", "PATCH", "PROPFIND"]:
    t("method-" + m, req(m + " /m HTTP/1.1", ["Content-Type: application/json", "Content-Length: 9", "Connection: close"], b'{"a": 1}\n'))
t("method-lowercase", req("get /m HTTP/1.1", ["Connection: close"]))
t("method-options-star", req("OPTIONS * HTTP/1.1", ["Connection: close"]))
t("method-GET-with-body", req("GET /search HTTP/1.1", ["Content-Type: application/json", "Content-Length: 13", "Connection: close"], b'{"query": 1}\n'))
t("method-DELETE-with-body", req("DELETE /items HTTP/1.1", ["Content-Type: application/json", "Content-Length: 9", "Connection: close"], b'{"id": 1}'))
# ---- bodies
t("body-cl", req("POST /b HTTP/1.1", ["Content-Type: application/x-www-form-urlencoded", "Content-Length: 7", "Connection: close"], b"a=1&b=2"))
t("body-chunked", req("POST /b HTTP/1.1", ["Content-Type: text/plain", "Transfer-Encoding: chunked", "Connection: close"], chunk([b"hello ", b"world"])))
t("body-chunked-trailers", req("POST /b HTTP/1.1", ["Transfer-Encoding: chunked", "Trailer: X-Sum", "Connection: close"], chunk([b"abc"], b"X-Sum: 42\r\n")))
t("body-chunked-ext", req("POST /b HTTP/1.1", ["Transfer-Encoding: chunked", "Connection: close"], b"3;name=val\r\nabc\r\n0\r\n\r\n"))
t("body-empty-post-cl0", req("POST /b HTTP/1.1", ["Content-Length: 0", "Connection: close"]))
t("body-empty-post-no-cl", req("POST /b HTTP/1.1", ["Connection: close"]))
t("body-post-no-ctype", req("POST /b HTTP/1.1", ["Content-Length: 3", "Connection: close"], b"xyz"))
t("body-expect-100", req("POST /b HTTP/1.1", ["Content-Length: 5", "Expect: 100-continue", "Connection: close"]), ("read", 1.0), b"12345")
t("body-expect-100-app-refuses", req("POST /resp/expect-no-continue HTTP/1.1", ["Content-Length: 5", "Expect: 100-continue"]), ("read", 1.0), b"12345")
t("body-expect-100-chunked", req("PUT /b HTTP/1.1", ["Transfer-Encoding: chunked", "Expect: 100-continue", "Connection: close"]), ("read", 1.0), chunk([b"abc"]))
t("body-large-5mb-cl", req("POST /big HTTP/1.1", ["Content-Type: application/octet-stream", "Content-Length: %d" % len(BIG), "Connection: close"], BIG), idle=3)
t("body-large-5mb-chunked", req("POST /big HTTP/1.1", ["Transfer-Encoding: chunked", "Connection: close"], chunk([BIG[i:i + 65536] for i in range(0, len(BIG), 65536)])), idle=3)
t("body-multipart", req("POST /upload HTTP/1.1", ["Content-Type: multipart/form-data; boundary=XyZ", "Content-Length: 88", "Connection: close"],
                        b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nfile\r\n--XyZ--\r\n".ljust(88, b" ")))
t("body-slow-upload", req("POST /b HTTP/1.1", ["Content-Length: 6", "Connection: close"], b"abc"), ("sleep", 0.5), b"def")
t("body-http10-cl", b"POST /b HTTP/1.0\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc")
# ---- header fidelity
t("hdr-order-case", req("GET /h HTTP/1.1", ["user-agent: UA/1", "ACCEPT: */*", "X-MiXeD: v", "accept-language: fr", "Connection: close"]))
t("hdr-dup-cookie", req("GET /h HTTP/1.1", ["Cookie: a=1", "Cookie: b=2", "Connection: close"]))
t("hdr-dup-xfoo", req("GET /h HTTP/1.1", ["X-Foo: 1", "X-Foo: 2", "x-foo: 3", "Connection: close"]))
t("hdr-dup-accept", req("GET /h HTTP/1.1", ["Accept: text/html", "Accept: application/json", "Connection: close"]))
t("hdr-long-value-6k", req("GET /h HTTP/1.1", ["X-Long: " + "v" * 6000, "Connection: close"]))
t("hdr-cookie-7k", req("GET /h HTTP/1.1", ["Cookie: s=" + "c" * 7000, "Connection: close"]))
t("hdr-total-12k-lines-under-4k", req("GET /h HTTP/1.1", ["Cookie: a=" + "a" * 3500, "X-A: " + "b" * 3500, "X-B: " + "c" * 3500, "Connection: close"]))
t("hdr-total-20k", req("GET /h HTTP/1.1", ["X-%d: " % i + "d" * 3000 for i in range(7)] + ["Connection: close"]))
t("hdr-utf8-value", req("GET /h HTTP/1.1", [b"X-Name: Zo\xc3\xab \xe2\x9c\x93", b"X-Latin1: caf\xe9", "Connection: close"]))
t("hdr-empty-value", req("GET /h HTTP/1.1", ["X-Empty:", "X-Empty2: ", "Connection: close"]))
t("hdr-whitespace", req("GET /h HTTP/1.1", ["X-Pad:    padded   ", "X-Tab:\tt\t", "X-Inner: a   b", "Connection: close"]))
t("hdr-underscore", req("GET /h HTTP/1.1", ["X_Under: 1", "Connection: close"]))
t("hdr-no-accept-encoding", req("GET /h HTTP/1.1", ["Connection: close"]))
t("hdr-accept-encoding", req("GET /resp/gzip-passthrough HTTP/1.1", ["Accept-Encoding: gzip, deflate, br", "Connection: close"]))
t("hdr-range", req("GET /h HTTP/1.1", ["Range: bytes=0-99", "If-Range: \"e\"", "Connection: close"]))
t("hdr-conditional", req("GET /h HTTP/1.1", ["If-None-Match: \"abc\", W/\"def\"", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", "Connection: close"]))
t("hdr-authorization", req("GET /h HTTP/1.1", ["Authorization: Bearer abC.dEf-GhI_jkl==", "Connection: close"]))
t("hdr-auth-case-after", req("GET /h HTTP/1.1", ["Authorization: Bearer ABC"]) + req("GET /h HTTP/1.1", ["Authorization: Bearer abc", "Connection: close"]))
t("hdr-proxy-authorization", req("GET /h HTTP/1.1", ["Proxy-Authorization: Basic eDp5", "Connection: close"]))
t("hdr-te-trailers", req("GET /h HTTP/1.1", ["TE: trailers", "Connection: close"]))
t("hdr-connection-named", req("GET /h HTTP/1.1", ["Connection: close, X-Hop", "X-Hop: 1", "X-Keep: 2"]))
t("hdr-keepalive-hdr", req("GET /h HTTP/1.1", ["Keep-Alive: timeout=5", "Connection: keep-alive, close"]))
t("hdr-upgrade-websocket", req("GET /resp/upgrade HTTP/1.1", ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]), idle=1.5)
t("hdr-xff-existing", req("GET /h HTTP/1.1", ["X-Forwarded-For: 1.2.3.4", "X-Forwarded-Proto: https", "X-Forwarded-Host: a.example", "X-Real-IP: 1.2.3.4", "Forwarded: for=1.2.3.4", "Connection: close"]))
t("hdr-via-maxfwd", req("GET /h HTTP/1.1", ["Via: 1.1 cdn", "Max-Forwards: 3", "Connection: close"]))
t("hdr-content-type-charset", req("POST /h HTTP/1.1", ["Content-Type: text/plain;charset=UTF-8", "Content-Length: 2", "Connection: close"], b"hi"))
t("hdr-content-encoding-req", req("POST /h HTTP/1.1", ["Content-Encoding: gzip", "Content-Type: application/json", "Content-Length: 5", "Connection: close"], b"\x1f\x8b\x08\x00\x00"))
t("hdr-colon-in-value", req("GET /h HTTP/1.1", ["X-Url: http://a:1/b?c=d", "Connection: close"]))
t("hdr-no-space-after-colon", req("GET /h HTTP/1.1", ["X-Tight:v", "Connection: close"]))
t("hdr-date-pragma", req("GET /h HTTP/1.1", ["Pragma: no-cache", "Cache-Control: no-cache", "Date: Mon, 01 Jan 2001 00:00:00 GMT", "Connection: close"]))
t("hdr-sec-fetch-browser", req("GET /h HTTP/1.1", ["sec-ch-ua: \"Chromium\";v=\"120\"", "sec-fetch-mode: navigate", "Upgrade-Insecure-Requests: 1", "DNT: 1", "Connection: keep-alive"]) )
# ---- request-target
t("target-odd", req("GET /a//b/../c;p=1/%2F/x?q=a|b&r=%zz&s=^&u=%E2%9C%93#frag HTTP/1.1", ["Connection: close"]))
t("target-absolute-form", req("GET http://example.com/abs?x=1 HTTP/1.1", ["Connection: close"]))
t("target-long-7k", req("GET /l?" + "q" * 7000 + " HTTP/1.1", ["Connection: close"]))
t("target-long-9k", req("GET /l?" + "q" * 9000 + " HTTP/1.1", ["Connection: close"]))
t("target-utf8-raw", b"GET /caf\xc3\xa9?n=\xc3\xa9 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
t("target-encoded-space", req("GET /a%20b?c=d+e HTTP/1.1", ["Connection: close"]))
t("target-empty-query", req("GET /p? HTTP/1.1", ["Connection: close"]))
t("target-query-only-qmark", req("GET /?&& HTTP/1.1", ["Connection: close"]))
# ---- host handling
t("host-with-port", req("GET /h HTTP/1.1", ["Host: example.com:8443", "Connection: close"], host=False))
t("host-missing-http10", b"GET /h HTTP/1.0\r\n\r\n")
t("host-missing-http11", b"GET /h HTTP/1.1\r\nConnection: close\r\n\r\n")
t("host-empty-http11", b"GET /h HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n")
t("host-uppercase", req("GET /h HTTP/1.1", ["Host: EXAMPLE.Com", "Connection: close"], host=False))
t("host-ipv6", req("GET /h HTTP/1.1", ["Host: [::1]:8080", "Connection: close"], host=False))
t("host-two", req("GET /h HTTP/1.1", ["Host: a.example", "Host: b.example", "Connection: close"], host=False))
t("http10-keepalive", b"GET /h HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n", ("read", 0.6), b"GET /h2 HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n")
t("http10-resp-chunked", b"GET /resp/chunked HTTP/1.0\r\nHost: example.com\r\n\r\n")
t("http10-resp-chunked-keepalive", b"GET /resp/chunked HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n")
# ---- connection handling
t("conn-keepalive-reuse", req("GET /k1 HTTP/1.1"), ("read", 0.5), req("GET /k2 HTTP/1.1"), ("read", 0.5), req("GET /k3 HTTP/1.1", ["Connection: close"]))
t("conn-pipelining", req("GET /p1 HTTP/1.1") + req("POST /p2 HTTP/1.1", ["Content-Length: 2"], b"xy") + req("GET /p3 HTTP/1.1", ["Connection: close"]))
t("conn-pipelining-head", req("HEAD /resp/head-with-length HTTP/1.1") + req("GET /p2 HTTP/1.1", ["Connection: close"]))
t("conn-backend-closes", req("GET /resp/keepalive-close HTTP/1.1"), ("read", 0.6), req("GET /after HTTP/1.1", ["Connection: close"]))
t("conn-backend-close-delimited", req("GET /resp/no-length HTTP/1.1"), ("read", 0.6), req("GET /after HTTP/1.1", ["Connection: close"]))
t("conn-client-close-idle", req("GET /c HTTP/1.1"), idle=1.0)

# ---- response side
RESP = ["chunked", "no-length", "204", "204-with-cl", "304", "304-with-cl", "head-with-length", "multi-set-cookie", "multi-headers",
        "trailers", "header-case", "header-order", "obs-fold", "duplicate-content-length", "cl-and-te", "1xx", "102",
        "huge-header-6000", "huge-header-12000", "huge-header-20000", "huge-header-60000", "many-headers-100", "big-set-cookie",
        "empty-reason-phrase", "no-reason-phrase", "custom-reason", "http10", "http10-cl", "keepalive-close", "connection-names",
        "gzip-passthrough", "gzip-chunked", "binary", "big", "no-content-type", "date-server", "utf8-header", "location",
        "location-rel", "short-body", "reset-before", "close-before", "bad-status-line", "lf-only", "space-before-colon",
        "te-identity", "content-length-0", "205", "status-200", "status-201", "status-299", "status-400", "status-401", "status-403",
        "status-404", "status-405", "status-409", "status-413", "status-418", "status-422", "status-429", "status-500",
        "status-502", "status-503", "status-504", "status-599", "status-700", "status-only-no-body"]
for r in RESP:
    t("resp-" + r, req("GET /resp/%s HTTP/1.1" % r, ["Connection: close"]), idle=2 if r == "big" else 0.8)
for r in ["chunked", "no-length", "head-with-length", "head-chunked", "trailers", "204", "304", "status-404", "gzip-passthrough", "http10"]:
    t("head-" + r, req("HEAD /resp/%s HTTP/1.1" % r, ["Connection: close"]))
for r in ["chunked", "head-with-length", "no-length", "status-500", "304-with-cl", "trailers"]:
    t("ka-" + r, req("GET /resp/%s HTTP/1.1" % r), ("read", 0.6), req("GET /next HTTP/1.1", ["Connection: close"]))
t("ka-head-with-length", req("HEAD /resp/head-with-length HTTP/1.1"), ("read", 0.6), req("GET /next HTTP/1.1", ["Connection: close"]))
t("resp-trailers-te", req("GET /resp/trailers HTTP/1.1", ["TE: trailers", "Connection: close"]))
t("resp-slow-chunks", req("GET /resp/slow-chunks HTTP/1.1", ["Connection: close"]), idle=1.5)
t("resp-slow-cl", req("GET /resp/slow-cl HTTP/1.1", ["Connection: close"]), idle=1.5)
t("resp-304-conditional", req("GET /resp/304 HTTP/1.1", ["If-None-Match: \"abc\"", "Connection: close"]))

# ---- second round: isolating findings
for k in ["utf8-a", "utf8-b", "utf8-c", "utf8-d"] + ["ctype-%d" % i for i in range(1, 11)]:
    t("resp-" + k, req("GET /resp/%s HTTP/1.1" % k, ["Connection: close"]))
t("resp-case-cache", req("GET /resp/echo-val?v=abcDEF HTTP/1.1"), ("read", 0.4), req("GET /resp/echo-val?v=ABCdef HTTP/1.1"), ("read", 0.4),
  req("GET /resp/echo-val?v=AbCdEf HTTP/1.1", ["Connection: close"]))
t("target-utf8-beyond-latin1", b"GET /\xe2\x9c\x93/\xf0\x9f\x98\x80?q=\xe2\x82\xac HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
t("target-invalid-utf8", b"GET /a\xff\xfeb?q=\xc3 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
t("body-expect-100-ctype", req("POST /b HTTP/1.1", ["Content-Type: application/json", "Content-Length: 2", "Expect: 100-continue"]), ("read", 1.0), b"{}", ("read", 0.5), req("GET /after HTTP/1.1", ["Connection: close"]))
t("body-expect-100-no-wait", req("POST /b HTTP/1.1", ["Content-Length: 5", "Expect: 100-continue", "Connection: close"], b"12345"))
t("body-expect-100-curl-like", req("PUT /upload/file.bin HTTP/1.1", ["User-Agent: curl/8.5.0", "Accept: */*", "Content-Length: 5", "Expect: 100-continue"]), ("read", 1.0), b"12345", ("read", 0.5))
t("body-early-reply-1mb", req("POST /resp/early-reply HTTP/1.1", ["Content-Type: application/octet-stream", "Content-Length: %d" % (1024 * 1024)]), ("sleep", 0.3), BIG[:1024 * 1024], idle=1.5)
t("body-early-reply-expect", req("POST /resp/early-reply HTTP/1.1", ["Content-Length: 1048576", "Expect: 100-continue"]), ("read", 1.0), idle=1.0)
t("resp-slow-then-close-replay", req("GET /resp/slow-then-close HTTP/1.1", ["Connection: close"]), idle=5)
t("body-expect-app-without-100", req("POST /resp/no100 HTTP/1.1", ["Content-Type: text/plain", "Content-Length: 5", "Expect: 100-continue", "Connection: close"]), ("read", 1.5), b"12345", idle=3)
t("body-expect-app-without-100-curl", req("POST /resp/no100 HTTP/1.1", ["Content-Type: text/plain", "Content-Length: 5", "Expect: 100-continue", "Connection: close"]), ("read", 1.0), b"12345", idle=8)
t("req-value-case-static", req("GET /h HTTP/1.1", ["Accept-Encoding: GZIP, Deflate", "Cache-Control: No-Cache", "Pragma: No-Cache", "Content-Type: text/html; charset=utf-8", "Accept: TEXT/HTML", "Connection: close"]))
t("resp-head-big-chunked-get", req("GET /resp/head-chunked HTTP/1.1", ["Connection: close"]))
t("resp-empty-chunked", req("GET /resp/chunked-empty HTTP/1.1", ["Connection: close"]))

# ---- framing nginx refuses (issue 14's security review): each followed by a request that would be
# smuggled if the proxy read the stream differently than the app, then the connection's fate
SMUG = req("GET /smuggled HTTP/1.1", ["Connection: close"])
t("te-identity-chunked", req("POST /te HTTP/1.1", ["Transfer-Encoding: identity, chunked"], chunk([b"ok"])) + SMUG)
t("te-gzip-chunked", req("POST /te HTTP/1.1", ["Transfer-Encoding: gzip, chunked"], chunk([b"ok"])) + SMUG)
t("te-chunked-chunked", req("POST /te HTTP/1.1", ["Transfer-Encoding: chunked, chunked"], chunk([b"ok"])) + SMUG)
t("te-two-lines-gzip-chunked", req("POST /te HTTP/1.1", ["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], chunk([b"ok"])) + SMUG)
t("te-two-lines-chunked", req("POST /te HTTP/1.1", ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], chunk([b"ok"])) + SMUG)
t("te-chunked-http10", b"POST /te HTTP/1.0\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk([b"ok"]) + SMUG)
t("te-chunked-uppercase", req("POST /te HTTP/1.1", ["Transfer-Encoding: CHUNKED"], chunk([b"ok"])) + SMUG)
t("method-mixedcase", req("Get /m HTTP/1.1", ["Connection: close"]))
t("method-digit", req("G3T /m HTTP/1.1", ["Connection: close"]))
t("method-dash-underscore", req("M-SEARCH /m HTTP/1.1", ["Connection: close"]) )
t("version-lowercase", req("GET /m http/1.1", ["Connection: close"]))
t("version-mixedcase", req("GET /m Http/1.1", ["Connection: close"]))
t("method-lowercase-pipelined", req("GET /first HTTP/1.1") + req("get /second HTTP/1.1", ["Connection: close"]))
t("connect-pipelined", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + SMUG)
t("connect-pipelined-origin-form", req("CONNECT /x HTTP/1.1") + SMUG)
# nginx: large_client_header_buffers 4 8k (a line fits one buffer, the head four); rainbowd: 32 KB in all
t("hdr-near-32k-lines-8k", req("GET /h HTTP/1.1", ["X-%d: " % i + "n" * 7900 for i in range(4)] + ["Connection: close"]))
t("hdr-near-32k-lines-4k", req("GET /h HTTP/1.1", ["X-%d: " % i + "n" * 4000 for i in range(7)] + ["X-7: " + "n" * 3000, "Connection: close"]))
t("hdr-over-32k", req("GET /h HTTP/1.1", ["X-%d: " % i + "o" * 4000 for i in range(9)] + ["Connection: close"]))
t("hdr-line-over-8k", req("GET /h HTTP/1.1", ["X-Long: " + "l" * 9000, "Connection: close"]))
t("hdr-underscore-shadowing", req("POST /h HTTP/1.1", ["X_Forwarded_For: 6.6.6.6", "Content_Length: 0", "X-Real: 1", "Content-Length: 2", "Connection: close"], b"ok"))

# ---- upgrades (WebSocket): nginx as its WebSocket docs advise (NGINX_WS_PORT: proxy_http_version 1.1,
# Upgrade $http_upgrade, Connection $connection_upgrade from the usual map). /resp/ws answers an
# Upgrade with 101 + a first frame in one write, then records and echoes raw bytes (backend.tunnel).
WS = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
M = b"\x01\x02\x03\x04"  # a client frame's mask key


def masked(opcode, payload):
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + M + bytes(b ^ M[i % 4] for i, b in enumerate(payload))


t("ws-echo", req("GET /resp/ws?x=1 HTTP/1.1", WS), ("read", 0.5), masked(1, b"hello"), ("read", 0.4), masked(2, bytes(range(40))),
  ("read", 0.4), masked(8, b"\x03\xe8"), idle=1.5)
t("ws-echo-early-data", req("GET /resp/ws HTTP/1.1", WS) + masked(1, b"sent with the handshake"), ("read", 0.5), masked(8, b"\x03\xe8"), idle=1.5)
t("ws-refused-200-then-request", req("GET /resp/ws-refuse HTTP/1.1", WS), ("read", 0.6), req("GET /next HTTP/1.1", ["Connection: close"]))
t("ws-refused-200-then-bytes", req("GET /resp/ws-refuse HTTP/1.1", WS), ("read", 0.6), masked(1, b"smuggled?"), ("read", 0.6),
  req("GET /next HTTP/1.1", ["Connection: close"]))
t("ws-h2c", req("GET /resp/ws HTTP/1.1", ["Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"]),
  ("read", 0.6), req("GET /next HTTP/1.1", ["Connection: close"]), idle=1.5)
t("ws-unsolicited-101", req("GET /resp/upgrade HTTP/1.1"), ("read", 1.5), req("GET /next HTTP/1.1", ["Connection: close"]), idle=1.5)
t("ws-unsolicited-101-close", req("GET /resp/upgrade HTTP/1.1", ["Connection: close"]), idle=1.5)
t("ws-half-close", req("GET /resp/ws HTTP/1.1", WS), ("read", 0.5), masked(1, b"last words"), ("read", 0.4), ("shutdown",), idle=1.5)
t("ws-upgrade-without-connection-upgrade", req("GET /resp/ws HTTP/1.1", ["Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version: 13"]), ("read", 0.6), req("GET /next HTTP/1.1", ["Connection: close"]), idle=1.5)
t("ws-upgrade-http10", b"GET /resp/ws HTTP/1.0\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", idle=1.5)
t("ws-upgrade-with-body", req("POST /resp/ws HTTP/1.1", ["Upgrade: websocket", "Connection: Upgrade", "Content-Length: 3"], b"abc"),
  ("read", 0.6), masked(8, b""), idle=1.5)


FORWARDED = re.compile(rb"(?im)^x-forwarded-(?:for|proto|host):[^\r\n]*\r\n")


def norm_backend(raw):
    lines = raw.split(b"\r\n")
    keep = [re.sub(rb"### conn=\d+ tunnel", b"### tunnel", re.sub(rb"### conn=\d+ idx=\d+", b"### req", l))
            for l in lines if not re.match(rb"(?i)x-forwarded-(for|proto|host):", l)]
    return keep


def summarize(raw):
    if len(raw) > 3000:
        return raw[:1200] + b"\n...[%d bytes total, sha1 %s]..." % (len(raw), hashlib.sha1(raw).hexdigest()[:12].encode())
    return raw


def norm_client(raw):
    raw = summarize(raw)
    out = []
    for l in raw.split(b"\r\n"):
        if re.match(rb"(?i)server: nginx", l):
            continue
        if re.match(rb"(?i)date: (?!Mon, 01 Jan 2001)", l):
            continue  # nginx adds Date when the app sent none; rainbowd does not (known, documented)
        out.append(l)
    return out


def new_records(before):
    time.sleep(0.15)
    recs = []
    for f in sorted(glob.glob(REC + "/*.bin")):
        if f in before:
            continue
        data = open(f, "rb").read()
        if data.startswith(b"GET /health "):
            continue
        meta = open(f[:-4] + ".meta").read().strip() if os.path.exists(f[:-4] + ".meta") else "?"
        recs.append((meta, data))
    return recs


def run(port, steps, idle):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = b""
    times = []
    t0 = time.time()

    def read(timeout):
        nonlocal got
        s.settimeout(timeout)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    return True
                got += d
                times.append((round(time.time() - t0, 2), len(d)))
        except socket.timeout:
            return False
        except ConnectionResetError:
            got += b"\n[RESET]"
            return True

    closed = False
    for st in steps:
        if isinstance(st, bytes):
            try:
                s.sendall(st)
            except (BrokenPipeError, ConnectionResetError) as e:
                got += b"\n[SEND FAILED %r]" % e
        elif st[0] == "shutdown":  # half-close: no more bytes from the client, reading goes on
            s.shutdown(socket.SHUT_WR)
        elif st[0] == "sleep":
            time.sleep(st[1])
        elif st[0] == "read":
            if read(st[1]):
                closed = True
                break
    if not closed:
        closed = read(idle)
    s.close()
    if not closed:
        got += b"\n[NOT CLOSED after idle %.1fs]" % idle
    return got, times, time.time() - t0


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv
    names = [n for n in T if not args or any(a in n for a in args)]
    ndiff = 0
    for name in names:
        steps, idle = T[name]
        views = {}
        for pname, port in PROXIES:
            if pname == "nginx" and name.startswith("ws-"):
                port = NGINX_WS_PORT
            before = set(glob.glob(REC + "/*.bin"))
            client, times, dur = run(port, steps, idle)
            recs = new_records(before)
            # X-Forwarded-* go before a big request is summarised (its hash would differ by them alone)
            be = b"".join(b"### " + m.encode() + b"\n" + summarize(FORWARDED.sub(b"", d)) + b"\n" for m, d in recs) \
                or b"### (nothing reached the backend)\n"
            open("%s/%s.%s.client" % (OUT, name, pname), "wb").write(client)
            open("%s/%s.%s.backend" % (OUT, name, pname), "wb").write(b"".join(b"### " + m.encode() + b"\n" + d + b"\n" for m, d in recs))
            views[pname] = (norm_backend(be), norm_client(client), times)
        a, b = views["nginx"], views["rainbowd"]
        same_be = a[0] == b[0]
        same_cl = a[1] == b[1]
        if same_be and same_cl and not verbose:
            print("SAME  %s" % name)
            continue
        ndiff += 1
        print("=" * 100)
        print("DIFF  %s   (backend %s, client %s)" % (name, "same" if same_be else "DIFFERS", "same" if same_cl else "DIFFERS"))
        for label, i in (("backend received", 0), ("client received", 1)):
            if a[i] == b[i] and not verbose:
                continue
            print("--- %s (- nginx, + rainbowd)" % label)
            for l in difflib.unified_diff([repr(x)[2:-1] for x in a[i]], [repr(x)[2:-1] for x in b[i]], lineterm="", n=30):
                if l.startswith(("---", "+++")):
                    continue
                print("   " + l[:300])
        if "slow" in name:
            print("   arrival times nginx:   ", a[2])
            print("   arrival times rainbowd:", b[2])
    print("\n%d of %d tests differ" % (ndiff, len(names)))


if __name__ == "__main__":
    main()
