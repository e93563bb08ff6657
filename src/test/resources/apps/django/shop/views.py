# Same endpoints as apps/wsgi/app.py: /, /health, /slow?ms=N|until=FILE[&mark=FILE], POST /echo.
import os
import time

from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt


def answer(body):
    response = HttpResponse(body, content_type="text/plain")
    response["X-Pid"] = str(os.getpid())
    return response


def hello(request):
    return answer("hello from pid %d\n" % os.getpid())


def health(request):
    return answer("ok\n")


def slow(request):
    q = request.GET
    if "mark" in q:
        open(q["mark"], "w").close()
    if "until" in q:
        deadline = time.monotonic() + 60
        while not os.path.exists(q["until"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    else:
        time.sleep(int(q.get("ms", "1000")) / 1000)
    return answer("slow done, pid %d\n" % os.getpid())


@csrf_exempt
def echo(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return answer(request.body)
