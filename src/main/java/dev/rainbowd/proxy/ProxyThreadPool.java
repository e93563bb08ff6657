package dev.rainbowd.proxy;

import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Jetty's thread pool, less one hand-off per proxied request.
 *
 * <p>A proxied response completes on the upstream client's selector thread, not on the thread that
 * read the request; Jetty then resumes the client connection (reset, look for the next request)
 * by dispatching it to the pool: an unpark and a context switch for every request (futex wake
 * and wait were ~10% of the daemon's CPU under load; with the non-blocking handler and client
 * connections as well, CPU per request went down 23%). With a
 * non-blocking handler chain (see {@link BackendProxy#getInvocationType()}) that resumption cannot
 * block, so it runs on the completing thread instead, as an event loop would.
 */
public final class ProxyThreadPool extends QueuedThreadPool {
    /**
     * Selectors of the proxy connector, and of the upstream client: they do all of the proxy's
     * work, so one per core, as nginx has a worker per core (Jetty's default, cores / 2, made
     * 2 cores serve at 0.8x the req/s).
     */
    public static final int EVENT_LOOPS = Runtime.getRuntime().availableProcessors();

    @Override
    public void execute(Runnable job) {
        if (job instanceof HttpConnection c && isRunning()
                && Invocable.getInvocationType(c) == Invocable.InvocationType.NON_BLOCKING) {
            c.run();
            return;
        }
        super.execute(job);
    }
}
