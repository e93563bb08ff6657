package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Poll;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * rainbowd as a real, separate JVM: {@code java -cp <test classpath> dev.rainbowd.cli.Main -c FILE},
 * stdout and stderr to files. Remembers every backend process it saw (from {@code GET /status} and
 * from the daemon's process tree) so a test can check they are gone after the daemon exits, and
 * {@link #close()} kills whatever is left, daemon and backends, even when the daemon died first.
 */
final class DaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final int proxyPort;
    private final int controlPort;
    /** pid to handle; a handle (unlike a bare pid) is not fooled by pid reuse. */
    private final Map<Long, ProcessHandle> backends = new ConcurrentHashMap<>();

    private DaemonProcess(Process process, Path stdout, Path stderr, int proxyPort, int controlPort) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.proxyPort = proxyPort;
        this.controlPort = controlPort;
    }

    /**
     * The classpath this test runs with. Surefire 3 puts the real one in java.class.path; older
     * ones (manifest-only jar) leave a surefirebooter jar there and the real one in
     * surefire.test.class.path.
     */
    static String classpath() {
        String cp = System.getProperty("java.class.path", "");
        if (cp.isEmpty() || cp.contains("surefirebooter")) {
            String surefire = System.getProperty("surefire.test.class.path");
            if (surefire != null && !surefire.isEmpty()) return surefire;
            // Last resort: the compiled classes alone would miss the dependencies.
            fail("cannot find the test classpath (java.class.path=" + cp + ")");
        }
        return cp;
    }

    /** Starts {@code Main [args...] -c config}; ports are read from the config (0 when it is invalid). */
    static DaemonProcess start(Path config, Path logDir, String... args) throws IOException {
        return start(config, logDir, Map.of(), args);
    }

    /** The same, with extra environment variables for the daemon. */
    static DaemonProcess start(Path config, Path logDir, Map<String, String> env, String... args)
            throws IOException {
        return start(config, logDir, env, List.of(), args);
    }

    /** The same, with extra JVM options too (as in RAINBOWD_JAVA_OPTS). */
    static DaemonProcess start(Path config, Path logDir, Map<String, String> env, List<String> jvmOptions,
            String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Demo.java().toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classpath(), Main.class.getName()));
        cmd.addAll(List.of(args));
        return start(cmd, config, logDir, env);
    }

    /**
     * Started through {@code launcher}, a command that execs the rest (e.g. {@code prlimit
     * --nofile=256:256 --}): the daemon is still the process started.
     */
    static DaemonProcess startThrough(List<String> launcher, Path config, Path logDir) throws IOException {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(Demo.java().toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m",
                "-cp", classpath(), Main.class.getName()));
        return start(cmd, config, logDir, Map.of());
    }

    /**
     * Starts {@code agent/rainbowd [args...] -c config}: the launcher as users run it, on a stand-in
     * for the jar ({@link #pathingJar}), with its default JVM flags and no AppCDS archive.
     */
    static DaemonProcess launched(Path config, Path logDir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LauncherTest.launcher().toString()));
        cmd.addAll(List.of(args));
        return start(cmd, config, logDir, Map.of("RAINBOWD_JAR", pathingJar(logDir).toString(), "RAINBOWD_CDS_DIR", "none",
                "JAVA", Demo.java().toString()));
    }

    /**
     * target/rainbowd.jar does not exist while the tests run: a jar of only a manifest, whose
     * Class-Path is the test classpath, stands in for it (made in {@code dir} once).
     */
    static Path pathingJar(Path dir) throws IOException {
        Path jar = dir.resolve("pathing/rainbowd.jar");
        if (Files.exists(jar)) return jar;
        Files.createDirectories(jar.getParent());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, Stream.of(classpath().split(File.pathSeparator))
                .filter(e -> !e.isEmpty()).map(e -> Path.of(e).toAbsolutePath().toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
            // the manifest is all
        }
        return jar;
    }

    private static DaemonProcess start(List<String> command, Path config, Path logDir, Map<String, String> env)
            throws IOException {
        int proxyPort = 0;
        int controlPort = 0;
        try {
            Config c = ConfigLoader.load(config);
            proxyPort = c.daemon().port();
            controlPort = c.daemon().controlPort();
        } catch (ConfigException e) {
            // a test of a bad config: the daemon will say so itself
        }
        Files.createDirectories(logDir);
        Path out = Files.createTempFile(logDir, "daemon-", ".out");
        Path err = Files.createTempFile(logDir, "daemon-", ".err");
        List<String> cmd = new ArrayList<>(command);
        cmd.add("-c");
        cmd.add(config.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(config.getParent().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().putAll(env);
        return new DaemonProcess(pb.start(), out, err, proxyPort, controlPort);
    }

    Process process() { return process; }
    long pid() { return process.pid(); }
    int proxyPort() { return proxyPort; }
    int controlPort() { return controlPort; }

    URI proxy(String path) {
        return URI.create("http://127.0.0.1:" + proxyPort + path);
    }

    URI control(String path) {
        return URI.create("http://127.0.0.1:" + controlPort + path);
    }

    String stdout() throws IOException {
        return Files.readString(stdout);
    }

    String stderr() throws IOException {
        return Files.readString(stderr);
    }

    /** GET /status as a map, or empty while the control port does not answer (yet). */
    Optional<Map<String, Object>> status() {
        try {
            HttpResponse<String> r = TestDaemon.HTTP.send(
                    HttpRequest.newBuilder(control("/status")).timeout(Slack.of(Duration.ofSeconds(5))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return Optional.empty();
            Map<String, Object> s = JsonParse.object(r.body());
            if (s.get("live") instanceof Map<?, ?> live && live.get("pid") instanceof Number pid) {
                remember(pid.longValue());
            }
            return Optional.of(s);
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Waits until status shows a live generation; returns that status. Fails at once if the daemon exits. */
    Map<String, Object> awaitLive(Duration timeout) throws IOException {
        Optional<Map<String, Object>> s = Poll.until(() -> process.isAlive() ? status() : Optional.empty(),
                st -> !process.isAlive() || st.map(m -> m.get("live") != null).orElse(false), timeout);
        if (!process.isAlive()) {
            fail("rainbowd exited with " + process.exitValue() + " before a generation was live; stderr:\n"
                    + stderr() + "\nstdout:\n" + stdout());
        }
        if (s.isEmpty() || s.get().get("live") == null) {
            fail("timed out waiting for a live generation after " + Slack.describe(timeout) + "; stdout:\n" + stdout()
                    + "\nstderr:\n" + stderr());
        }
        rememberTree();
        return s.get();
    }

    /**
     * {@link TestDaemon#await}, failing with the daemon's own account of what it did (its log)
     * instead of a bare "timed out", and at once if it exits meanwhile.
     */
    void await(String what, BooleanSupplier condition, Duration timeout) throws IOException {
        Poll.until(() -> condition.getAsBoolean() || !process.isAlive(), timeout);
        if (condition.getAsBoolean()) return;
        if (!process.isAlive()) {
            fail("rainbowd exited with " + process.exitValue() + " while waiting for " + what + "; stdout:\n" + stdout()
                    + "\nstderr:\n" + stderr());
        }
        fail("timed out waiting for " + what + " after " + Slack.describe(timeout) + "; status: "
                + status().map(Object::toString).orElse("(no answer)") + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
    }

    /** GET through the proxy; a timeout fails with the daemon's log. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        Duration timeout = Slack.of(Duration.ofSeconds(30));
        try {
            return TestDaemon.HTTP.send(HttpRequest.newBuilder(proxy(path)).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            fail("GET " + path + " got no answer within " + timeout.toSeconds() + " s; status: "
                    + status().map(Object::toString).orElse("(no answer)") + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            return null;
        }
    }

    /** Remembers every process below the daemon (the backends and whatever they started). */
    void rememberTree() {
        process.descendants().forEach(p -> backends.putIfAbsent(p.pid(), p));
    }

    void remember(long pid) {
        ProcessHandle.of(pid).ifPresent(p -> backends.putIfAbsent(pid, p));
    }

    Collection<ProcessHandle> backends() {
        return List.copyOf(backends.values());
    }

    /** Sends a signal by pid with kill(1); the daemon is a process this test started. */
    void signal(String name) throws IOException, InterruptedException {
        rememberTree();
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill -" + name + " did not return");
        if (kill.exitValue() != 0) {
            fail("kill -" + name + " " + process.pid() + " failed: " + new String(kill.getInputStream().readAllBytes()));
        }
    }

    /** Waits for the daemon to exit and returns its exit code; fails (and kills it) after {@code timeout}, with {@link Slack}. */
    int awaitExit(Duration timeout) throws InterruptedException, IOException {
        if (!process.waitFor(Slack.of(timeout).toMillis(), TimeUnit.MILLISECONDS)) {
            String out = stdout();
            process.destroyForcibly();
            fail("rainbowd did not exit within " + Slack.describe(timeout) + "; stdout:\n" + out);
        }
        return process.exitValue();
    }

    /** Every backend seen is gone (a short grace only for the kernel to finish reaping). */
    void assertBackendsGone() throws IOException {
        List<ProcessHandle> alive = Poll.until(() -> backends.values().stream().filter(ProcessHandle::isAlive).toList(),
                List::isEmpty, Duration.ofSeconds(2));
        if (!alive.isEmpty()) {
            String names = alive.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList().toString();
            alive.forEach(ProcessHandle::destroyForcibly);
            fail("backend processes outlived rainbowd: " + names + "\nstdout:\n" + stdout());
        }
    }

    /** Kills the daemon if still running (its descendants first, noting them), then every backend seen. */
    @Override
    public void close() {
        if (process.isAlive()) {
            rememberTree();
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (ProcessHandle p : backends.values()) {
            if (p.isAlive()) p.destroyForcibly();
        }
        for (ProcessHandle p : backends.values()) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // best effort: nothing more we may do
            }
        }
    }
}
