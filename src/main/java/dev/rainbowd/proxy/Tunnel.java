package dev.rainbowd.proxy;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection the app switched to another protocol (a WebSocket) with its {@code 101}: from then
 * on bytes, both ways, between the client's endpoint and the app's. It counts on its generation
 * while open, apart from requests in flight: a drain does not wait for it. It ends when the app or
 * the client closes it, when it has been idle for {@code idleTimeout}, or when the app's process
 * is gone (stopTimeout's SIGKILL included).
 */
final class Tunnel {
    private static final Logger log = LoggerFactory.getLogger(Tunnel.class);

    private final Backend backend;
    private final TunnelConnection client;
    private final TunnelConnection app;
    /** Both halves must close before the tunnel counts as closed, and it is counted once. */
    private final AtomicInteger open = new AtomicInteger(2);
    private final long idleTimeoutMillis;

    Tunnel(Backend backend, EndPoint clientEnd, EndPoint appEnd, Duration idleTimeout, Executor executor,
            ByteBufferPool buffers) {
        this.backend = backend;
        this.idleTimeoutMillis = idleTimeout.toMillis();
        this.client = new TunnelConnection(this, clientEnd, executor, buffers);
        this.app = new TunnelConnection(this, appEnd, executor, buffers);
        client.peer(app);
        app.peer(client);
        clientEnd.setIdleTimeout(idleTimeout.toMillis());
        appEnd.setIdleTimeout(idleTimeout.toMillis());
        backend.tunnelOpened();
    }

    long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    /** Takes over the client's connection, once the 101 went out (Jetty upgrades it then). */
    TunnelConnection clientSide() {
        return client;
    }

    /** Takes over the app's connection at once: nothing is read from it before {@link #start()}. */
    TunnelConnection appSide() {
        return app;
    }

    /** The client's side opens last, once the 101 is out: then bytes flow. */
    void opened(TunnelConnection half) {
        if (half == client) start();
    }

    /** Both ends are ours: bytes flow. Until then the app's first frame waits, so it never overtakes the 101. */
    private void start() {
        log.debug("tunnel {} open", this);
        app.start();
        client.start();
    }

    /** The handshake could not be completed (the client left before the 101 reached it). */
    void abort(Throwable failure) {
        client.getEndPoint().close(failure);
        app.getEndPoint().close(failure);
        if (open.getAndSet(0) > 0) backend.tunnelClosed();
    }

    void closed(TunnelConnection half) {
        // The other half goes too: a tunnel with one end is of no use to anybody.
        TunnelConnection other = half == client ? app : client;
        other.getEndPoint().close();
        if (open.decrementAndGet() == 0) {
            log.debug("tunnel {} closed", this);
            backend.tunnelClosed();
        }
    }

    @Override
    public String toString() {
        return client.getEndPoint().getRemoteSocketAddress() + " <-> " + backend;
    }
}
