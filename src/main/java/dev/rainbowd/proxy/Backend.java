package dev.rainbowd.proxy;

import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.client.Request;

/**
 * A generation as the proxy sees it: a port on 127.0.0.1 and the requests in flight to it.
 *
 * <p>The count is exact: a request is counted from the moment it is routed here until Jetty
 * completes its callback, whichever way it ends (response sent, backend error, client gone).
 * Once draining has reached zero the backend is closed and admits no request again, so a
 * request that raced the cutover is routed to the new generation instead of to a process
 * that is being stopped.
 */
public final class Backend {
    private static final int CLOSED = Integer.MIN_VALUE;

    private final int generation;
    private final int port;
    /** Where requests to it go: built once, not per request. */
    private final URI origin;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    /** Responses by status class (index 1..5), and exchanges that ended without one (client gone, aborted). */
    private final LongAdder[] responses = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(),
            new LongAdder(), new LongAdder()};
    private final LongAdder aborted = new LongAdder();
    /** The upstream requests in flight, so a drain that runs out of time can end them. */
    private final Set<Request> upstream = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;
    /** Tunnels (WebSockets) open to it: counted apart, a drain does not wait for them. */
    private final AtomicInteger tunnels = new AtomicInteger();

    public Backend(int generation, int port) {
        this.generation = generation;
        this.port = port;
        this.origin = URI.create("http://127.0.0.1:" + port);
    }

    public int generation() { return generation; }
    public int port() { return port; }

    URI origin() { return origin; }

    /** Requests currently forwarded to this backend and not yet completed. */
    public int inFlight() {
        int n = inFlight.get();
        return n == CLOSED ? 0 : n;
    }

    /** Counts one more request in flight, unless the backend has drained and closed. */
    boolean tryAcquire() {
        for (;;) {
            int n = inFlight.get();
            if (n == CLOSED) return false;
            if (inFlight.compareAndSet(n, n + 1)) return true;
        }
    }

    void release() {
        if (inFlight.decrementAndGet() == 0 && draining) tryClose();
    }

    /**
     * Stops admitting requests once none is in flight. The future completes when the last
     * in-flight request has completed (at once if there is none).
     */
    public CompletableFuture<Void> drain() {
        draining = true;
        tryClose();
        return drained;
    }

    /** Open tunnels to this generation (upgraded connections, e.g. WebSockets). */
    public int tunnels() {
        return tunnels.get();
    }

    void tunnelOpened() {
        tunnels.incrementAndGet();
    }

    void tunnelClosed() {
        tunnels.decrementAndGet();
    }

    void answered(int status) {
        int c = status / 100;
        responses[c >= 1 && c <= 5 ? c : 0].increment();
    }

    void unanswered() {
        aborted.increment();
    }

    /** Responses of status class {@code c} (1 to 5) so far. */
    public long responses(int c) {
        return responses[c].sum();
    }

    /** Exchanges that ended without a response (the client went away, or it was aborted). */
    public long aborted() {
        return aborted.sum();
    }

    void sent(Request request) {
        upstream.add(request);
    }

    void done(Request request) {
        upstream.remove(request);
    }

    /**
     * Ends every request still in flight here (drainTimeout passed): the client gets 504, or a
     * streamed response is cut. Returns how many were aborted.
     */
    public int abortInFlight() {
        int n = 0;
        for (Request r : upstream) {
            if (r.abort(new TimeoutException("drainTimeout passed on " + this)).getNow(false)) n++;
        }
        return n;
    }

    private void tryClose() {
        if (inFlight.compareAndSet(0, CLOSED)) drained.complete(null);
    }

    @Override
    public String toString() {
        return "generation " + generation + " on port " + port;
    }
}
