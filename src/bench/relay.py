#!/usr/bin/python3
"""A recording TCP relay, to see whose bytes a bad exchange was: what rainbowd sent the app, and
what the app answered, connection by connection.

    relay.py PORT DIR -- COMMAND...     (as an app's run line: relay.py "$1" /tmp/rec -- thin ... -p {port})

Starts COMMAND with {port} replaced by a free port, listens on PORT and relays each connection to
it, writing DIR/<pid>-<n>.up (bytes rainbowd sent) and DIR/<pid>-<n>.down (bytes the app sent).
SIGTERM is passed on to COMMAND; the relay exits when it does.
"""
import os
import signal
import socket
import subprocess
import sys
import threading


def pump(src, dst, record):
    with open(record, "wb", buffering=0) as out:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            out.write(data)
            try:
                dst.sendall(data)
            except OSError:
                break
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    port, rec = int(sys.argv[1]), sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    os.makedirs(rec, exist_ok=True)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    app_port = probe.getsockname()[1]
    probe.close()
    app = subprocess.Popen([a.replace("{port}", str(app_port)) for a in command])
    signal.signal(signal.SIGTERM, lambda *_: app.send_signal(signal.SIGTERM))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)

    def accept():
        n = 0
        while True:
            client, _ = listener.accept()
            try:
                upstream = socket.create_connection(("127.0.0.1", app_port))
            except OSError:
                client.close()  # the app is not up yet: the health probe tries again
                continue
            n += 1
            base = os.path.join(rec, "%d-%d" % (os.getpid(), n))
            for a, b, suffix in ((client, upstream, ".up"), (upstream, client, ".down")):
                threading.Thread(target=pump, args=(a, b, base + suffix), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.exit(app.wait())


if __name__ == "__main__":
    main()
