# The compat suite's ASGI app (uvicorn, hypercorn): a plain ASGI callable, no framework.
# Same endpoints as apps/wsgi/app.py: /, /health, /slow?ms=N|until=FILE[&mark=FILE], POST /echo.
import asyncio
import os
import time
from urllib.parse import parse_qs


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/health":
        await answer(send, 200, b"ok\n")
    elif path == "/slow":
        q = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        await slow(q)
        await answer(send, 200, b"slow done, pid %d\n" % os.getpid())
    elif path == "/echo" and scope["method"] == "POST":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await answer(send, 200, body)
    elif path == "/":
        await answer(send, 200, b"hello from pid %d\n" % os.getpid())
    else:
        await answer(send, 404, b"not found\n")


async def slow(q):
    if "mark" in q:
        open(q["mark"], "w").close()
    if "until" in q:
        deadline = time.monotonic() + 60
        while not os.path.exists(q["until"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    else:
        await asyncio.sleep(int(q.get("ms", "1000")) / 1000)


async def answer(send, status, body):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
                            (b"x-pid", str(os.getpid()).encode())]})
    await send({"type": "http.response.body", "body": body})
