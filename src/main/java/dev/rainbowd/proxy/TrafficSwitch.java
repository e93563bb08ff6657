package dev.rainbowd.proxy;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The live backend: one atomic reference, switched in one step at cutover. Requests that find no
 * usable backend (at start-up, after a crash) wait here until one goes live.
 */
public final class TrafficSwitch {
    private final AtomicReference<Backend> live = new AtomicReference<>();
    private final Queue<Waiter> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean shutdown;
    private volatile ProxySettings settings = ProxySettings.DEFAULT;

    /** A request waiting for a live backend other than {@link #excluded()} (the one that just refused it). */
    interface Waiter {
        Backend excluded();

        /** Called once: with the new live backend, or with null at shutdown. */
        void wake(Backend live);
    }

    /** The proxy's settings from now on; set by the deployer from the config in force. */
    public void settings(ProxySettings s) {
        settings = s;
    }

    public ProxySettings settings() {
        return settings;
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
