# An async def Starlette app for uvicorn: GET / and /health answer "ok", POST / the length of the
# body it read. Under uvicorn, an async endpoint can answer before uvicorn has processed the
# request's end, and uvicorn then closes the keep-alive connection without Connection: close.
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("ok")


async def upload(request):
    body = await request.body()
    return PlainTextResponse("read %d" % len(body))


app = Starlette(routes=[
    Route("/", hello, methods=["GET"]),
    Route("/health", hello, methods=["GET"]),
    Route("/", upload, methods=["POST"]),
])
