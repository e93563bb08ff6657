package dev.rainbowd.daemon;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The proxy connector on a socket systemd passed ({@link PassedSocket}). It differs from a bound
 * one in how it stops: the socket is shared with systemd and the next rainbowd, so stopping means
 * "accept nothing more", never "close it".
 *
 * <p>Never closed, because the JDK's inherited channel, when closed, points fds 0, 1 <em>and 2</em>
 * at /dev/null (inetd style): the log of the whole drain would vanish. It is closed when the
 * process exits. Accepted on the selectors (no acceptor thread): a thread blocked in accept() can
 * only be woken by closing the channel.
 *
 * <p>Stopping comes before Jetty's graceful shutdown, which answers 503 to any request that
 * reaches the handler after it began: a connection accepted just before would get one, where a
 * bound socket refuses the client instead. So when the server starts stopping, accepting stops at
 * once (a client that connects from then on waits in the backlog for the next rainbowd), and the
 * stop waits until the connections already accepted have their first request handled, then closes
 * the idle ones.
 */
final class PassedSocketConnector extends ServerConnector {
    /** A client that connected and sent nothing for this long is treated like an idle keep-alive connection. */
    private static final Duration FIRST_REQUEST_GRACE = Duration.ofSeconds(1);

    private final ServerSocketChannel channel;
    private final Object acceptLock = new Object();
    private boolean stopped; // under acceptLock
    private long accepted; // under acceptLock
    private final AtomicLong opened = new AtomicLong();

    PassedSocketConnector(Server server, ServerSocketChannel channel, int selectors, ConnectionFactory... factories) {
        super(server, null, null, null, 0, selectors, factories);
        this.channel = channel;
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStopping(LifeCycle event) {
                stopAccepting();
            }
        });
    }

    @Override
    protected ServerSocketChannel openAcceptChannel() {
        return channel;
    }

    @Override
    protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
        return new ServerConnectorManager(executor, scheduler, selectors) {
            @Override
            protected SelectableChannel doAccept(SelectableChannel server) throws IOException {
                synchronized (acceptLock) {
                    if (stopped) return null;
                    SelectableChannel c = super.doAccept(server);
                    if (c != null) accepted++;
                    return c;
                }
            }
        };
    }

    @Override
    protected void onEndPointOpened(EndPoint endPoint) {
        super.onEndPointOpened(endPoint);
        opened.incrementAndGet();
    }

    /**
     * Daemon.close() shuts the connectors down before it waits for the requests in flight (and
     * Jetty's own stop does the same): accepting stops here first, while the graceful handler still
     * lets requests in.
     */
    @Override
    public CompletableFuture<Void> shutdown() {
        stopAccepting();
        return super.shutdown();
    }

    private void stopAccepting() {
        long acceptedBefore;
        synchronized (acceptLock) {
            if (stopped) return;
            stopped = true; // an accept() under way has finished: nothing is accepted after this
            acceptedBefore = accepted;
        }
        setAccepting(false); // drops OP_ACCEPT, else a waiting client would keep the selector spinning
        long deadline = System.nanoTime() + FIRST_REQUEST_GRACE.toNanos();
        while (!(opened.get() >= acceptedBefore && getConnectedEndPoints().stream().allMatch(PassedSocketConnector::answered))
                && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // Idle keep-alive connections are closed now rather than left to the graceful shutdown,
        // which would answer a request arriving on one with a 503 (and hold the connection for up
        // to a second more). A client whose idle connection is closed sends an idempotent request
        // again on a new one (RFC 9112 9.3.1), and that waits in the backlog for the next rainbowd.
        for (EndPoint endPoint : getConnectedEndPoints()) {
            if (idle(endPoint)) endPoint.close();
        }
    }

    /** Open and between requests: what Jetty's idle timeout would close too. */
    private static boolean idle(EndPoint endPoint) {
        return endPoint.isOpen() && endPoint.getConnection() instanceof HttpConnection http
                && http.getHttpChannel().getRequest() == null;
    }

    /**
     * Closed, or its first request got past the graceful handler's check (or is done). Jetty's
     * internal HttpConnection is the only way to see a request before it reaches the handlers.
     */
    private static boolean answered(EndPoint endPoint) {
        if (!endPoint.isOpen()) return true;
        Connection c = endPoint.getConnection();
        if (!(c instanceof HttpConnection http)) return true;
        if (c.getMessagesIn() == 0) return false;
        HttpChannel channel = http.getHttpChannel();
        return c.getMessagesIn() > 1 || channel.getRequest() == null || channel.isRequestHandled();
    }
}
