package dev.rainbowd.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.daemon.Daemon;
import dev.rainbowd.deploy.Status;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A real rainbowd, in this JVM, on free ports of 127.0.0.1, running the real demo app as its
 * backend. Closing it shuts the daemon down and fails the test if any backend process is left.
 */
public final class TestDaemon implements AutoCloseable {
    public static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    private final Daemon daemon;
    private final Path dir;

    private TestDaemon(Daemon daemon, Path dir) {
        this.daemon = daemon;
        this.dir = dir;
    }

    /**
     * Settings for a daemon in {@code dir}; {@code extra} are more config lines (YAML). The demo
     * app is up in well under a second alone, in seconds on a loaded machine: the deadline it must
     * be healthy by, and how long a request waits for a live generation, leave room for much
     * more (they cost nothing while things work). A test of what happens at a deadline sets its own.
     */
    public static Map<String, String> defaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("run", Demo.run());
        m.put("healthCheckPath", "/health");
        m.put("healthTimeout", "1s");
        m.put("healthDeadline", "60s");
        m.put("drainTimeout", "10s");
        m.put("stopTimeout", "5s");
        m.put("queueTimeout", "60s");
        return m;
    }

    public static TestDaemon start(Path dir) throws Exception {
        return start(dir, defaults());
    }

    public static TestDaemon start(Path dir, Map<String, String> settings) throws Exception {
        Path file = writeConfig(dir, settings);
        Config config = ConfigLoader.load(file);
        return new TestDaemon(Daemon.start(config), dir);
    }

    /** Writes rainbow.yaml with free ports and a private stateDir unless given. */
    public static Path writeConfig(Path dir, Map<String, String> settings) throws IOException {
        Map<String, String> s = new LinkedHashMap<>(settings);
        int port = Ports.freePair();
        s.putIfAbsent("port", Integer.toString(port));
        s.putIfAbsent("stateDir", dir.resolve("state").toString());
        StringBuilder yaml = new StringBuilder();
        s.forEach((k, v) -> yaml.append(k).append(": ").append(quote(v)).append('\n'));
        Path file = dir.resolve("rainbow.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static String quote(String v) {
        if (v.startsWith("{") || v.startsWith("[") || v.matches("-?\\d+|true|false")) return v;
        return "'" + v.replace("'", "''") + "'";
    }

    /**
     * Rewrites this daemon's config with {@code settings} and its own port: the next deploy reads
     * it. A test of what happens at a short deadline sets it here, once generation 1 is live, so
     * the start it does not test is not held to it.
     */
    public void reconfigure(Map<String, String> settings) throws IOException {
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.put("port", Integer.toString(daemon.config().daemon().port()));
        writeConfig(dir, s);
    }

    public Daemon daemon() { return daemon; }
    public Path dir() { return dir; }
    public Status status() { return daemon.deployer().status(); }

    public URI proxy(String path) {
        return URI.create("http://127.0.0.1:" + daemon.proxyPort() + path);
    }

    public URI control(String path) {
        return URI.create("http://127.0.0.1:" + daemon.controlPort() + path);
    }

    /** A GET through the proxy; it may wait for a generation (queueTimeout), so its own bound is longer. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(proxy(path)).timeout(Slack.of(Duration.ofSeconds(30))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> controlGet(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(control(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> controlPost(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(control(path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits (up to 30 s, with {@link Slack}) until the first generation is live. */
    public TestDaemon awaitLive() {
        await("a live generation", () -> status().live() != null, Duration.ofSeconds(30));
        return this;
    }

    /**
     * Waits until {@code condition} holds of the daemon's status, read once per look: two reads
     * in one condition can see two states (a deploy under way, then none).
     */
    public void awaitStatus(String what, Predicate<Status> condition, Duration timeout) {
        await(what, () -> condition.test(status()), timeout);
    }

    /**
     * Waits until {@code condition} holds, checking every 10 ms: the event, not a time. Fails after
     * {@code timeout} (what it takes at most on a quiet machine) with {@link Slack}.
     */
    public static void await(String what, BooleanSupplier condition, Duration timeout) {
        if (Poll.until(condition, timeout)) return;
        fail((Thread.currentThread().isInterrupted() ? "interrupted waiting for " : "timed out waiting for ") + what
                + " after " + Slack.describe(timeout));
    }

    @Override
    public void close() {
        daemon.close();
        assertNoBackendsLeft();
    }

    /** Every process this JVM started (the backends, their children) must be gone. */
    public static void assertNoBackendsLeft() {
        List<ProcessHandle> left = Poll.until(() -> ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList(),
                List::isEmpty, Duration.ofSeconds(5));
        if (!left.isEmpty()) {
            String names = left.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList().toString();
            left.forEach(ProcessHandle::destroyForcibly);
            assertTrue(left.isEmpty(), "processes left behind: " + names);
        }
    }
}
