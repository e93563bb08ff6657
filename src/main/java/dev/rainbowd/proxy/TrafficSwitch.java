package dev.rainbowd.proxy;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The live backend: one atomic reference, switched in one step at cutover. Requests that find no
 * live backend (at start-up, after a crash) wait here until one goes live.
 */
public final class TrafficSwitch {
    private final AtomicReference<Backend> live = new AtomicReference<>();
    private final Queue<Consumer<Backend>> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean shutdown;

    /** Every request routed after this call goes to {@code backend}. */
    public void cutover(Backend backend) {
        live.set(backend);
        wake();
    }

    /** No backend is live any more (it crashed): new requests wait. */
    public void clear(Backend expected) {
        live.compareAndSet(expected, null);
    }

    public Backend live() {
        return live.get();
    }

    /**
     * Routes a request: returns the live backend with the request counted in flight, or null if
     * there is none.
     */
    Backend acquire() {
        for (;;) {
            Backend b = live.get();
            if (b == null || b.tryAcquire()) return b;
            // b drained and closed between our read and the acquire: live has moved on, read again
        }
    }

    /** The daemon is stopping: waiting requests are told now (with null) rather than at their timeout. */
    public void shutdown() {
        shutdown = true;
        wake();
    }

    /** Calls {@code onLive} once a backend is live, or with null at shutdown; maybe never. */
    void await(Consumer<Backend> onLive) {
        waiting.add(onLive);
        // A cutover between the caller's acquire() and the add above would not see this waiter.
        if (live.get() != null || shutdown) wake();
    }

    void unwait(Consumer<Backend> onLive) {
        waiting.remove(onLive);
    }

    int waitingCount() {
        return waiting.size();
    }

    private void wake() {
        for (Consumer<Backend> w; (live.get() != null || shutdown) && (w = waiting.poll()) != null; ) {
            w.accept(shutdown ? null : live.get());
        }
    }
}
