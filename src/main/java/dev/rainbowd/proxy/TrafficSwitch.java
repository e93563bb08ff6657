package dev.rainbowd.proxy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The live backend: one atomic reference, switched in one step at cutover. Requests that find no
 * usable backend (at start-up, after a crash) wait here until one goes live.
 */
public final class TrafficSwitch {
    private final AtomicReference<Backend> live = new AtomicReference<>();
    private final Queue<Waiter> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean shutdown;
    private volatile Duration queueTimeout = Duration.ofSeconds(30);
    private volatile Duration tunnelIdleTimeout = Duration.ofHours(1);
    private volatile Predicate<InetAddress> trustedProxy = InetAddress::isLoopbackAddress;
    private volatile boolean keepAliveAll;

    /** A request waiting for a live backend other than {@link #excluded()} (the one that just refused it). */
    interface Waiter {
        Backend excluded();

        /** Called once: with the new live backend, or with null at shutdown. */
        void wake(Backend live);
    }

    /** How long a request waits for a live generation; set by the deployer from the config in force. */
    public void queueTimeout(Duration timeout) {
        queueTimeout = timeout;
    }

    Duration queueTimeout() {
        return queueTimeout;
    }

    /** How long a tunnel (WebSocket) may carry no byte either way; set by the deployer from the config in force. */
    public void tunnelIdleTimeout(Duration timeout) {
        tunnelIdleTimeout = timeout;
    }

    Duration tunnelIdleTimeout() {
        return tunnelIdleTimeout;
    }

    /** Peers whose X-Forwarded-Proto and -Host are kept; set by the deployer from the config in force. */
    public void trustedProxies(Predicate<InetAddress> trusted) {
        trustedProxy = trusted;
    }

    boolean trustedProxy(InetAddress peer) {
        return trustedProxy.test(peer);
    }

    /** upstreamKeepAlive: all: requests that cannot be sent twice may go on pooled connections too. */
    public void upstreamKeepAliveAll(boolean all) {
        keepAliveAll = all;
    }

    boolean upstreamKeepAliveAll() {
        return keepAliveAll;
    }

    /** Requests waiting for a live generation now. */
    public int waiting() {
        return waiting.size();
    }

    /** Every request routed after this call goes to {@code backend}. */
    public void cutover(Backend backend) {
        live.set(backend);
        wake();
    }

    /** {@code expected} is no longer live (it crashed): new requests wait. */
    public void clear(Backend expected) {
        live.compareAndSet(expected, null);
    }

    /** The daemon is stopping: waiting requests are told now (with null) rather than at their timeout. */
    public void shutdown() {
        shutdown = true;
        wake();
    }

    /**
     * Routes a request: returns the live backend with the request counted in flight there, or null
     * if there is none (or only {@code excluded}).
     */
    Backend acquire(Backend excluded) {
        for (;;) {
            Backend b = live.get();
            if (b == null || b == excluded) return null;
            if (b.tryAcquire()) return b;
            // b drained and closed between our read and the acquire: live has moved on, read again
        }
    }

    void await(Waiter w) {
        waiting.add(w);
        // A cutover between the caller's acquire() and the add above would not see this waiter:
        // look again, at this waiter only (all of them would make a crowd at start-up quadratic).
        Backend b = live.get();
        if ((shutdown || (b != null && b != w.excluded())) && waiting.remove(w)) w.wake(shutdown ? null : b);
    }

    void unwait(Waiter w) {
        waiting.remove(w);
    }

    private void wake() {
        for (Waiter w : waiting) {
            Backend b = live.get();
            if (!shutdown && (b == null || b == w.excluded())) continue;
            if (!waiting.remove(w)) continue; // another wake() got it
            w.wake(shutdown ? null : b); // does not throw: see ProxyRouter's Waiting
        }
    }
}
