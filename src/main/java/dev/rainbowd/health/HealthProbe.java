package dev.rainbowd.health;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** HTTP health checks of a generation on 127.0.0.1. One instance is shared by all deploys. */
public final class HealthProbe implements AutoCloseable {

    /** One probe: {@code healthy} iff the app answered 2xx; {@code detail} says what happened, e.g. "HTTP 500". */
    public record ProbeResult(boolean healthy, String detail) {
        /** An HTTP answer came, of any status; not a refused connection, a timeout or a reset. */
        public boolean answered() {
            return detail.startsWith(ANSWER);
        }

        boolean timedOut() {
            return detail.startsWith(TIMED_OUT);
        }
    }

    /**
     * The end of {@link #await}: {@code reason} is null when healthy, else why not. {@code unanswered}:
     * the deadline passed while the app was still running and no probe ever got an HTTP answer, as
     * when an app needs longer to start than healthDeadline gives it.
     */
    public record Outcome(boolean healthy, int attempts, Duration elapsed, String reason, boolean unanswered) {}

    /** What each probe tells while it runs: the deployer shows it in status. */
    @FunctionalInterface
    public interface Attempts {
        /** Probe {@code attempt} (from 1) is about to be sent. */
        void sending(int attempt);

        /** Probe {@code attempt} ended with {@code result}. */
        default void ended(int attempt, ProbeResult result) {}
    }

    private static final String ANSWER = "HTTP ";
    private static final String TIMED_OUT = "timed out after ";

    private static final Duration BACKOFF_INITIAL = Duration.ofMillis(20);
    private static final Duration BACKOFF_MAX = Duration.ofSeconds(1);
    /** For this long after launch, probes are at most EAGER_MAX apart. */
    static final Duration EAGER_PHASE = Duration.ofSeconds(5);
    static final Duration EAGER_MAX = Duration.ofMillis(50);
    static final Duration MIN_PROBE = Duration.ofMillis(10);
    private static final Set<String> HOST_REFUSALS = Set.of("HTTP 400", "HTTP 403", "HTTP 421");

    private final Duration probeTimeout;
    private final OkHttpClient client;

    public HealthProbe(Duration probeTimeout) {
        this(probeTimeout, new OkHttpClient.Builder()
                // No client-wide timeouts: each call gets its deploy's healthTimeout (Call.timeout()),
                // which a redeploy may change.
                .connectTimeout(Duration.ZERO)
                .readTimeout(Duration.ZERO)
                .writeTimeout(Duration.ZERO)
                // A probe must see the app as it is: no silent retry, no redirect, no cache, and
                // no pooled connection (a stale one would fail a healthy app, a live one hide a dead accept loop).
                .retryOnConnectionFailure(false)
                .followRedirects(false)
                .followSslRedirects(false)
                .cache(null)
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                // Plain HTTP to 127.0.0.1 only: without a TLS spec OkHttp never builds an SSL context,
                // which loaded ~500 classes and parsed the JDK's CA certificates (memory: issue 6).
                .connectionSpecs(List.of(ConnectionSpec.CLEARTEXT))
                .build());
    }

    private HealthProbe(Duration probeTimeout, OkHttpClient client) {
        this.probeTimeout = probeTimeout;
        this.client = client;
    }

    /** The same client with another timeout per probe: each deploy probes with the healthTimeout it read. */
    public HealthProbe withTimeout(Duration probeTimeout) {
        return probeTimeout.equals(this.probeTimeout) ? this : new HealthProbe(probeTimeout, client);
    }

    /** One GET of {@code http://127.0.0.1:port/path}. Never throws. */
    public ProbeResult probe(int port, String path) {
        return probe(port, path, Optional.empty(), probeTimeout, new AtomicReference<>());
    }

    /** {@link #await(int, String, Optional, Duration, CompletableFuture, Attempts)} with the default Host. */
    public Outcome await(int port, String path, Duration deadline, CompletableFuture<?> abort, Attempts onAttempt) {
        return await(port, path, Optional.empty(), deadline, abort, onAttempt);
    }

    /**
     * Probes until healthy, until {@code deadline} has passed, or until {@code abort} completes
     * (the deployer passes the process's exit future, so a process that dies fails at once).
     * {@code onAttempt} hears of each probe, before and after.
     */
    public Outcome await(int port, String path, Optional<String> host, Duration deadline, CompletableFuture<?> abort,
            Attempts onAttempt) {
        long start = System.nanoTime();
        long end = start + deadline.toNanos();
        Backoff backoff = new Backoff(BACKOFF_INITIAL, BACKOFF_MAX, ThreadLocalRandom.current());
        AtomicReference<Call> inFlight = new AtomicReference<>();
        // An exit while a probe waits for its answer cuts that probe short too.
        abort.whenComplete((result, error) -> {
            Call call = inFlight.get();
            if (call != null) call.cancel();
        });
        int attempts = 0;
        ProbeResult last = null; // what the reason reports
        int lastAttempt = 0;
        ProbeResult cut = null; // the final probe, when the deadline cut it short and it timed out
        boolean answered = false;
        while (true) {
            if (abort.isDone()) return failed(start, attempts, "aborted after " + probes(attempts), false);
            if (Thread.currentThread().isInterrupted()) return failed(start, attempts, "interrupted", false);
            long remaining = end - System.nanoTime();
            // A probe with next to no time left can only time out: report the last real answer.
            if (remaining <= 0 || (last != null && remaining < MIN_PROBE.toNanos())) {
                return failed(start, attempts, "not healthy after " + human(deadline) + ": "
                        + (last == null ? "no probe was sent" : "GET " + url(port, path) + hostNamed(host) + ": "
                                + last.detail() + (cut == null ? " (last of " + probes(attempts) + ")"
                                        : " (probe " + lastAttempt + " of " + attempts + "; probe " + attempts
                                                + ", cut short by the deadline, " + cut.detail() + ")"))
                        + hostHint(last, port, host), !answered && !abort.isDone());
            }
            attempts++;
            onAttempt.sending(attempts);
            // Shorten the last probe so the deadline is kept.
            Duration timeout = Duration.ofNanos(Math.min(probeTimeout.toNanos(), remaining));
            ProbeResult result = probe(port, path, host, timeout, inFlight);
            answered |= result.answered();
            onAttempt.ended(attempts, result);
            if (result.healthy()) return new Outcome(true, attempts, Duration.ofNanos(System.nanoTime() - start), null, false);
            // A probe given less than healthTimeout, because that was all the deadline left, that
            // timed out tells only that time ran out (a busy machine can miss a few ms): the
            // reason keeps the answer before it, an app's 400 and its Host hint included.
            if (last != null && timeout.compareTo(probeTimeout) < 0 && result.timedOut()) {
                cut = result;
            } else {
                last = result;
                lastAttempt = attempts;
                cut = null;
            }
            long delay = backoff.next().toNanos();
            // Most apps get ready within seconds of launch: probing often then is what puts a ready
            // app live within tens of ms (a probe of a local port costs microseconds). Later, a slow
            // starter is probed less and less, up to once a second.
            if (System.nanoTime() - start < EAGER_PHASE.toNanos()) delay = Math.min(delay, EAGER_MAX.toNanos());
            delay = Math.min(delay, end - System.nanoTime());
            if (delay <= 0) continue;
            try {
                abort.get(delay, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                continue; // the normal case: nothing happened, probe again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failed(start, attempts, "interrupted", false);
            } catch (ExecutionException | CancellationException e) {
                // aborted as well: reported at the top of the loop
            }
        }
    }

    private ProbeResult probe(int port, String path, Optional<String> host, Duration timeout, AtomicReference<Call> inFlight) {
        String url = url(port, path);
        Request request;
        try {
            Request.Builder b = new Request.Builder().url(url).header("Connection", "close");
            host.ifPresent(h -> b.header("Host", h));
            request = b.build();
        } catch (IllegalArgumentException e) {
            return new ProbeResult(false, "invalid URL " + url);
        }
        Call call = client.newCall(request);
        call.timeout().timeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
        inFlight.set(call);
        try (Response response = call.execute()) {
            int code = response.code();
            return new ProbeResult(code >= 200 && code < 300, ANSWER + code);
        } catch (IOException e) {
            return new ProbeResult(false, describe(e, call, timeout));
        } catch (RuntimeException e) { // OkHttp reports some protocol violations unchecked; a probe never throws
            return new ProbeResult(false, e.toString());
        } finally {
            inFlight.set(null);
        }
    }

    private static String describe(IOException e, Call call, Duration timeout) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof ConnectException) {
            return message.contains("refused") || String.valueOf(e.getCause()).contains("refused")
                    ? "connection refused" : "connect failed: " + message;
        }
        if (e instanceof SocketTimeoutException || message.equals("timeout")) return TIMED_OUT + human(timeout);
        if (call.isCanceled()) return "canceled";
        if (e instanceof InterruptedIOException && message.equals("interrupted")) {
            Thread.currentThread().interrupt(); // Okio consumed the flag to throw
            return "interrupted";
        }
        if (e instanceof SocketException && message.contains("reset")) return "connection reset";
        if (message.startsWith("unexpected end of stream")) return "connection closed without a response";
        return e.getClass().getSimpleName() + ": " + message;
    }

    /**
     * 400 (Django), 403 (Rails' host authorization), 421 (misdirected): what an app answers a Host
     * it does not serve. Saying so, with the key, turns an hour of guessing into a one-line fix.
     */
    private static String hostHint(ProbeResult last, int port, Optional<String> host) {
        if (last == null || !HOST_REFUSALS.contains(last.detail())) return "";
        return "; the app may refuse the probes' Host header " + host.orElse("127.0.0.1:" + port)
                + " (Django's ALLOWED_HOSTS, Rails' config.hosts): set healthCheckHost to a name it serves";
    }

    private static Outcome failed(long start, int attempts, String reason, boolean unanswered) {
        return new Outcome(false, attempts, Duration.ofNanos(System.nanoTime() - start), reason, unanswered);
    }

    private static String url(int port, String path) {
        return "http://127.0.0.1:" + port + (path.startsWith("/") ? path : "/" + path);
    }

    private static String hostNamed(Optional<String> host) {
        return host.map(h -> " (Host: " + h + ")").orElse("");
    }

    private static String probes(int n) {
        return n + (n == 1 ? " probe" : " probes");
    }

    /** "2s", "1500ms": how the config spells durations. */
    static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 && ms > 0 ? ms / 1000 + "s" : ms + "ms";
    }

    @Override
    public void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
