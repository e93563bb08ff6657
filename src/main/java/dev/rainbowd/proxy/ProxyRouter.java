package dev.rainbowd.proxy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each request to the live backend and counts it in flight there until it completes.
 * With no live backend, the request waits (without holding a thread) up to {@code queueTimeout}
 * for one, then gets 503 with Retry-After.
 */
public final class ProxyRouter extends Handler.Wrapper {
    private static final Logger log = LoggerFactory.getLogger(ProxyRouter.class);

    private final TrafficSwitch traffic;
    private final Duration queueTimeout;

    public ProxyRouter(TrafficSwitch traffic, Duration queueTimeout, Duration idleTimeout) {
        super(new BackendProxy(idleTimeout));
        this.traffic = traffic;
        this.queueTimeout = queueTimeout;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Backend backend = traffic.acquire();
        if (backend != null) {
            forward(backend, request, response, callback);
        } else {
            park(request, response, callback, System.nanoTime() + queueTimeout.toNanos());
        }
        return true;
    }

    private void forward(Backend backend, Request request, Response response, Callback callback) {
        request.setAttribute(BackendProxy.BACKEND, backend);
        Callback counted = new Callback.Nested(callback) {
            @Override
            public void succeeded() {
                try {
                    super.succeeded();
                } finally {
                    backend.release();
                }
            }

            @Override
            public void failed(Throwable x) {
                try {
                    super.failed(x);
                } finally {
                    backend.release();
                }
            }
        };
        try {
            if (!getHandler().handle(request, response, counted)) {
                Response.writeError(request, response, counted, HttpStatus.NOT_FOUND_404);
            }
        } catch (Throwable x) {
            counted.failed(x);
        }
    }

    private void park(Request request, Response response, Callback callback, long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            unavailable(request, response, callback);
            return;
        }
        new Waiter(request, response, callback, deadlineNanos).start(remaining);
    }

    /** A request waiting for a live backend; exactly one of wake-up and timeout wins. */
    private final class Waiter implements Consumer<Backend> {
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final long deadlineNanos;
        private volatile Scheduler.Task timeout;

        Waiter(Request request, Response response, Callback callback, long deadlineNanos) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.deadlineNanos = deadlineNanos;
        }

        void start(long remainingNanos) {
            timeout = request.getComponents().getScheduler().schedule(this::expire, remainingNanos, TimeUnit.NANOSECONDS);
            traffic.await(this);
        }

        @Override
        public void accept(Backend live) {
            if (!claimed.compareAndSet(false, true)) return;
            Scheduler.Task t = timeout;
            if (t != null) t.cancel();
            if (live == null) {
                unavailable(request, response, callback);
                return;
            }
            // Not on the thread that made the cutover: that is the deployer's.
            request.getComponents().getThreadPool().execute(() -> {
                Backend b = traffic.acquire();
                if (b != null) forward(b, request, response, callback);
                else park(request, response, callback, deadlineNanos); // went down again meanwhile
            });
        }

        private void expire() {
            if (claimed.compareAndSet(false, true)) {
                traffic.unwait(this);
                unavailable(request, response, callback);
            }
        }
    }

    private void unavailable(Request request, Response response, Callback callback) {
        log.debug("no live generation within {} ms: 503 for {}", queueTimeout.toMillis(), request.getHttpURI().getPath());
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        Response.writeError(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503,
                "no live generation of the app");
    }

    public int waitingCount() {
        return traffic.waitingCount();
    }
}
