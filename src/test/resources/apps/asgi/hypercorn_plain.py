# A plain ASGI app for hypercorn: answers GET / and /health with "ok", and a POST with the
# length of the body it read. hypercorn 0.13 closes a keep-alive connection (without
# Connection: close) when the app answers before hypercorn has processed the request's end:
# the proxy must not send a request it cannot replay on such a connection.


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    length = 0
    if scope["method"] == "POST":
        more = True
        while more:
            message = await receive()
            length += len(message.get("body", b""))
            more = message.get("more_body", False)
    body = (b"ok" if scope["method"] != "POST" else b"read %d" % length)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
