package dev.rainbowd.proxy;

import dev.rainbowd.config.Buffering;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Routes each request to the live backend and counts it in flight there until it completes.
 * With no live backend, the request waits (without holding a thread) up to {@code queueTimeout}
 * for one, then gets 503 with Retry-After.
 */
public final class ProxyRouter extends Handler.Wrapper {
    /** Off unless RAINBOWD_ACCESS_LOG=info (see LogSetup): one check per request when off. */
    private static final org.slf4j.Logger access = org.slf4j.LoggerFactory.getLogger("access");
    /** Safe to send twice (RFC 9110 9.2.2), when they carry no body we would have consumed. */
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
    /** A request that failed later than this after it was sent is not replayed (see Exchange.replay). */
    static final long REPLAY_WITHIN_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Request and response headers, in all (nginx: 32 KB of request headers). */
    static final int MAX_HEADERS = 32 * 1024;

    private final TrafficSwitch traffic;
    private final LongAdder unavailable = new LongAdder();
    private final LongAdder hungUp = new LongAdder();
    private final LongAdder tooLarge = new LongAdder();
    /** Where request bodies and responses beyond what memory holds for them go: the state directory. */
    private final Path spoolDir;

    public ProxyRouter(TrafficSwitch traffic, Duration idleTimeout, Path spoolDir) {
        super(new BackendProxy(idleTimeout, traffic, spoolDir));
        this.traffic = traffic;
        this.spoolDir = spoolDir;
    }

    /**
     * The HTTP settings of the proxy's connector: it passes requests on as the client sent them
     * and adds nothing of its own.
     */
    public static HttpConfiguration httpConfiguration() {
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false); // the app's own Date header is passed through
        // Jetty reuses a header seen earlier on the same connection when a new value matches it
        // ignoring case: "Bearer abC" would reach the app (or the token check) as "Bearer abc".
        http.setHeaderCacheCaseSensitive(true);
        // Request-targets Jetty's default (strict RFC 3986) refuses with 400, yet clients send and
        // apps serve: an encoded slash in an id (/projects/group%2Fapp, as GitLab's API has it), a
        // "|" or "^" in a path (browsers do not escape them), "//", a ";param". rainbowd does not
        // route on paths, so it has no rule to be fooled by an ambiguous one; the app gets the
        // target as sent (see UpstreamRequest) and judges it, as behind nginx. Spaces, control
        // bytes and malformed request lines are still refused by the parser.
        http.setUriCompliance(UriCompliance.UNSAFE);
        // Jetty's 8 KB for all request headers refused (431) what nginx passes (8 KB a line, 32 KB
        // in all): a few big cookies or tokens. Responses get the same room (BackendProxy's client too).
        http.setRequestHeaderSize(MAX_HEADERS);
        http.setResponseHeaderSize(MAX_HEADERS);
        return http;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (HttpMethod.CONNECT.is(request.getMethod())) {
            // We are a reverse proxy, not a tunnel; the app would not know what to do with it either.
            // What follows a CONNECT on the stream may be tunnel bytes, not a request.
            refuse(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "CONNECT is not supported");
            return true;
        }
        if (HttpMethod.TRACE.is(request.getMethod())) {
            // It echoes the request, credentials and all (cross-site tracing): nginx refuses it too.
            refuse(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "TRACE is not allowed");
            return true;
        }
        String refused = unframeable(request);
        if (refused != null) {
            // The body's end is not where the app would look for it: nothing of it may go on.
            int status = refused.startsWith("HTTP/1.0") ? HttpStatus.BAD_REQUEST_400 : HttpStatus.NOT_IMPLEMENTED_501;
            refuse(request, response, callback, status, refused);
            return true;
        }
        long length = request.getLength();
        if (length > 0 || (length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
            Buffering buffering = traffic.settings().buffering();
            long max = buffering.maxRequestBody();
            if (max > 0 && length > max) {
                // Before a byte of it is read: a client that sent Expect: 100-continue never sends it.
                refuse(request, response, callback, HttpStatus.PAYLOAD_TOO_LARGE_413,
                        "request body of " + length + " bytes is over maxRequestBody (" + max + " bytes)");
                return true;
            }
            if (buffering.requests()) {
                BufferedRequest.read(request, spoolDir, max, new BodyRead(request, response, callback));
                return true;
            }
        }
        forward(request, response, callback);
        return true;
    }

    /** A request whose body is being read whole: then it goes on, or is refused. */
    private final class BodyRead implements BufferedRequest.Outcome {
        private final Request request;
        private final Response response;
        private final Callback callback;

        BodyRead(Request request, Response response, Callback callback) {
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        @Override
        public void buffered(BufferedRequest body) {
            forward(body, response, callback);
        }

        @Override
        public void refused(int status, String reason) {
            refuse(request, response, callback, status, reason);
        }

        @Override
        public void failed(Throwable failure) {
            callback.failed(failure);
        }
    }

    /** To the live generation, or waiting for one from now (a buffered request's wait starts when its body is in). */
    private void forward(Request request, Response response, Callback callback) {
        new Exchange(request, response, callback, System.nanoTime() + traffic.settings().queueTimeout().toNanos()).route(null);
    }

    /**
     * An answer of rainbowd's own, and the connection closes: after a request it did not read
     * (whole), where the next one starts on the stream is unknown.
     */
    private void refuse(Request request, Response response, Callback callback, int status, String reason) {
        if (status == HttpStatus.PAYLOAD_TOO_LARGE_413) tooLarge.increment();
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        Response.writeError(request, response, callback, status, reason);
    }

    /**
     * Transfer codings nginx refuses and Jetty's parser lets through: any coding but a lone
     * "chunked" (Jetty reads "gzip, chunked" as chunked and the gzip was silently dropped on the
     * way to the app), and a chunked body on HTTP/1.0, which has no chunked coding. Null when fine.
     */
    private static String unframeable(Request request) {
        if (!request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) return null; // nearly every request
        List<String> codings = request.getHeaders().getCSV(HttpHeader.TRANSFER_ENCODING, false);
        if (request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_0) {
            return "HTTP/1.0 has no Transfer-Encoding";
        }
        if (codings.size() != 1 || !codings.get(0).equalsIgnoreCase("chunked")) {
            return "Transfer-Encoding " + String.join(", ", codings) + " is not supported (only chunked)";
        }
        return null;
    }

    /**
     * One client request on its way to a backend, over one or more attempts. As the callback Jetty
     * completes when the request is done, it releases the in-flight count exactly once per attempt.
     */
    private final class Exchange extends Callback.Nested implements BackendProxy.Replay {
        private final Request request;
        private final Response response;
        private final long deadlineNanos;
        private final AtomicReference<Backend> counted = new AtomicReference<>();
        private volatile org.eclipse.jetty.client.Request upstream;
        private boolean replayed;
        private volatile long sentNanos;
        /** The generation that answered, once {@link #answered()} let it go: for the access log. */
        private volatile Backend answeredBy;

        Exchange(Request request, Response response, Callback callback, long deadlineNanos) {
            super(callback);
            this.request = request;
            this.response = response;
            this.deadlineNanos = deadlineNanos;
        }

        /** Sends the request to the live backend, unless that is {@code refused}: then it waits for another. */
        void route(Backend refused) {
            Backend b = traffic.acquire(refused);
            if (b == null) {
                park(refused);
                return;
            }
            counted.set(b);
            request.setAttribute(BackendProxy.BACKEND, b);
            if (request instanceof BufferedRequest body) body.rewind(); // a replay sends it whole again
            try {
                if (!getHandler().handle(request, response, this)) {
                    Response.writeError(request, response, this, HttpStatus.NOT_FOUND_404);
                }
            } catch (Throwable x) {
                failed(x);
            }
        }

        /**
         * The backend failed before answering. A refused connection means nothing was sent and the
         * generation is gone (a crash the deployer has not seen yet): wait for the next one. A
         * reused keep-alive connection the app had just closed, or a crash as the request arrived:
         * send an idempotent request again, once. Not a request the app had for longer than
         * {@link #REPLAY_WITHIN_NANOS}: one that ran that long and then lost its worker (gunicorn's
         * timeout kills it, a query of death) could do the same to the next.
         */
        @Override
        public boolean replay(Throwable failure) {
            Backend failed = counted.get();
            if (causedBy(failure, ConnectException.class)) {
                // No connection, so not a byte of the request (body included) was read or sent.
                release();
                route(failed);
                return true;
            }
            if (!replayed && replayable() && !causedBy(failure, TimeoutException.class)
                    && System.nanoTime() - sentNanos < REPLAY_WITHIN_NANOS) {
                replayed = true;
                release();
                route(null);
                return true;
            }
            return false;
        }

        /** Idempotent, and its body (if any) still whole here: safe to send twice. */
        private boolean replayable() {
            return IDEMPOTENT.contains(request.getMethod()) && (request instanceof BufferedRequest
                    || (request.getLength() <= 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)));
        }

        /**
         * A replay goes on a connection opened for it: the pool may hold more connections the app
         * has closed (hypercorn closes after every response it sent before reading the request's
         * end), and a second stale one would fail the request for good. A request that cannot be
         * replayed goes on one too: only a new connection cannot have been closed by the app
         * before the request reached it.
         */
        @Override
        public boolean needsFreshConnection() {
            return replayed || (!replayable() && !traffic.settings().upstreamKeepAliveAll());
        }

        private void park(Backend refused) {
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining <= 0) {
                unavailable();
                return;
            }
            Waiting w = new Waiting(refused);
            w.timeout = request.getComponents().getScheduler().schedule(w::expire, remaining, TimeUnit.NANOSECONDS);
            traffic.await(w);
        }

        private void unavailable() {
            ProxyRouter.this.unavailable.increment();
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            Response.writeError(request, response, this, HttpStatus.SERVICE_UNAVAILABLE_503, "no live generation of the app");
        }

        @Override
        public void sending(org.eclipse.jetty.client.Request request) {
            sentNanos = System.nanoTime();
            upstream = request;
            Backend b = counted.get();
            if (b != null) b.sent(request);
        }

        private void release() {
            Backend b = counted.getAndSet(null);
            if (b == null) return;
            org.eclipse.jetty.client.Request u = upstream;
            if (u != null) b.done(u);
            b.release();
        }

        /**
         * The generation is done with the request once its whole response is here, also when the
         * client is still reading it (see ResponseBuffer): draining does not wait for slow readers.
         */
        @Override
        public void answered() {
            Backend b = counted.get();
            if (b == null) return;
            b.answered(response.getStatus());
            answeredBy = b;
            release();
        }

        @Override
        public void succeeded() {
            Backend b = counted.get();
            if (b != null) b.answered(response.getStatus());
            if (access.isInfoEnabled()) log(b != null ? b : answeredBy, Integer.toString(response.getStatus()));
            release();
            if (request instanceof BufferedRequest body) body.close(); // its spool is this exchange's
            super.succeeded();
        }

        @Override
        public void failed(Throwable x) {
            Backend b = counted.get();
            if (b != null) b.unanswered();
            if (access.isInfoEnabled()) log(b, "aborted");
            release();
            if (request instanceof BufferedRequest body) body.close();
            super.failed(x);
        }

        /**
         * The size is the body's bytes as sent (nginx's $body_bytes_sent): a streamed or chunked
         * response has no Content-Length to print. "-" if Jetty cannot say, as nginx and Apache
         * write an unknown value.
         */
        private void log(Backend b, String status) {
            long ms = (System.nanoTime() - request.getBeginNanoTime()) / 1_000_000;
            long sent = Response.getContentBytesWritten(response);
            access.info("{} {} {} {} {}ms generation={} client={}", request.getMethod(), request.getHttpURI().getPathQuery(),
                    status, sent < 0 ? "-" : sent, ms, b == null ? "-" : b.generation(), Request.getRemoteAddr(request));
        }

        /** Parked until a backend other than {@code refused} is live; exactly one of wake-up and timeout wins. */
        private final class Waiting implements TrafficSwitch.Waiter {
            private final AtomicBoolean claimed = new AtomicBoolean();
            private final Backend refused;
            volatile Scheduler.Task timeout;

            Waiting(Backend refused) {
                this.refused = refused;
            }

            @Override
            public Backend excluded() {
                return refused;
            }

            @Override
            public void wake(Backend live) {
                if (!claimed.compareAndSet(false, true)) return;
                Scheduler.Task t = timeout;
                if (t != null) t.cancel();
                if (live == null) {
                    unavailable();
                    return;
                }
                // Not on the thread that made the cutover: that is the deployer's.
                try {
                    request.getComponents().getExecutor().execute(this::resume);
                } catch (RuntimeException e) { // the pool is stopping: answer rather than strand the client
                    unavailable();
                }
            }

            /**
             * A client may give up while its request waits (its own timeout, a user's Ctrl-C); its
             * request must not run at the app for nobody (a POST, retried by the client, would run
             * twice). nginx drops such requests too ("client closed connection", 499).
             */
            private void resume() {
                if (ClientHangUp.seen(request)) {
                    hungUp.increment();
                    failed(new EofException("the client closed its connection while its request waited"));
                    return;
                }
                route(refused);
            }

            void expire() {
                if (claimed.compareAndSet(false, true)) {
                    traffic.unwait(this);
                    unavailable();
                }
            }
        }
    }

    /** Whether {@code type} is anywhere in the failure's cause chain (Jetty wraps I/O failures). */
    static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) return true;
        }
        return false;
    }

    /** Requests dropped because their client hung up while they waited for a live generation. */
    public long hungUpCount() {
        return hungUp.sum();
    }

    /** Requests answered 413: their body was over maxRequestBody. */
    public long tooLargeCount() {
        return tooLarge.sum();
    }

    /** Requests answered 503 because no generation went live in time. */
    public long unavailableCount() {
        return unavailable.sum();
    }
}
