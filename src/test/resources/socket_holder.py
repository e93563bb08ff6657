"""Holds a listening socket and restarts rainbowd on it, as systemd does with rainbowd.socket.

    socket_holder.py LAUNCHER CONFIG LOGDIR

Binds 127.0.0.1:0 and prints "listening PORT". Then reads commands, one a line, from stdin:
  start   starts `LAUNCHER run -c CONFIG` with the socket as fd 3 and LISTEN_PID/LISTEN_FDS/
          LISTEN_FDNAMES set for it (sd_listen_fds), stdout and stderr to LOGDIR/daemon-N.log;
          prints "started N PID EPOCH_MS"
  stop    SIGTERM to the running daemon, waits for its exit; prints "exited N PID CODE MS"
          (MS: from the signal to the exit)
  quit    stop (if one runs), then exit
End of input is quit: a test that dies leaves no daemon behind. The socket stays open across
restarts, so a client that connects meanwhile waits in its backlog, as with systemd.
Errors are one line, "error ...".
"""
import os
import signal
import socket
import subprocess
import sys
import time

PASSED_FD = 3  # sd_listen_fds: the first passed socket


def say(*words):
    print(*words, flush=True)


def main():
    launcher, config, logdir = sys.argv[1:4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)  # systemd's Backlog= default is SOMAXCONN (4096); the kernel caps it anyway
    if sock.fileno() != PASSED_FD:
        try:
            os.fstat(PASSED_FD)
            say("error fd 3 is taken; cannot pass the socket there")
            return 1
        except OSError:
            os.dup2(sock.fileno(), PASSED_FD)
    say("listening", sock.getsockname()[1])

    daemon = None
    started = 0
    for line in sys.stdin:
        command = line.strip()
        if command == "start":
            if daemon is not None:
                say("error already running", daemon.pid)
                continue
            started += 1
            log = open(os.path.join(logdir, "daemon-%d.log" % started), "wb")
            # LISTEN_PID must be the daemon's own pid: sh sets it to $$ and execs the launcher, which
            # execs java; the pid stays the same all the way.
            daemon = subprocess.Popen(
                ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=proxy exec "$@"', "sh",
                 launcher, "run", "-c", config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=[PASSED_FD])
            log.close()
            say("started", started, daemon.pid, int(time.time() * 1000))
        elif command == "stop":
            daemon = stop(daemon, started)
        elif command == "quit":
            break
        else:
            say("error unknown command", command)
    stop(daemon, started)
    return 0


def stop(daemon, n):
    if daemon is None:
        return None
    signalled = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    code = daemon.wait()
    say("exited", n, daemon.pid, code, round((time.monotonic() - signalled) * 1000))
    return None


if __name__ == "__main__":
    sys.exit(main())
