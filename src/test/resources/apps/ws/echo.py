"""A WebSocket echo app for rainbowd's tests (ASGI, run by uvicorn --ws wsproto).

HTTP: /health answers 200. WebSocket: /refuse refuses the handshake (uvicorn answers 403);
any other path echoes text and bytes. The text "whoami" is answered with the generation
(RAINBOW_GENERATION), "close-me" makes the app close with 4000. On SIGTERM uvicorn closes
every open socket with 1012 (service restart) before it exits.
"""
import os


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        body = b"ok\n" if scope["path"] == "/health" else b"plain http\n"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        if scope["path"] == "/refuse":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text == "whoami":
                await send({"type": "websocket.send", "text": os.environ.get("RAINBOW_GENERATION", "?")})
            elif text == "close-me":
                await send({"type": "websocket.close", "code": 4000})
                return
            elif text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
