package dev.rainbowd.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo backend shipped in the jar: {@code java -cp rainbowd.jar dev.rainbowd.demo.DemoApp PORT PIDFILE}.
 * JDK only, so it starts fast and exercises rainbowd the way a real app would.
 */
public final class DemoApp {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);
    private static final int DRAIN_SECONDS = 30;

    private final String generation = envOr("RAINBOW_GENERATION", "?");
    private final String release = release();
    private final long pid = ProcessHandle.current().pid();
    private final Integer healthStatus = intEnv("DEMO_HEALTH_STATUS");
    /** Crash right after the first health answer: a generation that dies as it goes live. */
    private final boolean dieAfterHealth = System.getenv("DEMO_DIE_AFTER_HEALTH") != null;
    /** Accept health checks but never answer them: an app stuck at start. */
    private final boolean hangOnHealth = System.getenv("DEMO_HANG_ON_HEALTH") != null;
    private final AtomicInteger inFlight = new AtomicInteger();

    private DemoApp() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args.length > 0 ? args[0] : envOr("PORT", "8080"));
        String pidArg = args.length > 1 ? args[1] : System.getenv("PIDFILE");
        Path pidFile = pidArg == null || pidArg.isBlank() ? null : Path.of(pidArg);
        new DemoApp().run(port, pidFile);
    }

    private void run(int port, Path pidFile) throws Exception {
        Integer exitCode = intEnv("DEMO_EXIT_CODE");
        if (exitCode != null) {
            log("exiting at once with code " + exitCode + " (DEMO_EXIT_CODE)");
            System.exit(exitCode);
        }
        Integer delay = intEnv("DEMO_START_DELAY_MS");
        if (delay != null) Thread.sleep(delay);

        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
        server.setExecutor(Executors.newCachedThreadPool()); // /slow and /stream hold a thread each
        server.createContext("/", this::handle);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(server, pidFile), "demo-shutdown"));
        if (pidFile != null) writePid(pidFile);
        log("listening on 127.0.0.1:" + port);
    }

    private void shutdown(HttpServer server, Path pidFile) {
        log("SIGTERM: draining " + inFlight.get() + " in-flight request(s)");
        // On JDK 17 stop(delay) closes the listener at once but then waits the full delay when no
        // exchange is in flight, so run it aside and wait on our own count of running handlers.
        Thread stopper = new Thread(() -> server.stop(DRAIN_SECONDS), "demo-stop");
        stopper.setDaemon(true);
        stopper.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
        try {
            while (inFlight.get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (pidFile != null) {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                log("could not remove pidfile: " + e);
            }
        }
        log("stopped");
    }

    private void handle(HttpExchange ex) throws IOException {
        inFlight.incrementAndGet();
        try {
            ex.getResponseHeaders().set("X-Generation", generation);
            ex.getResponseHeaders().set("X-Pid", Long.toString(pid));
            ex.getResponseHeaders().set("X-Release", release);
            Map<String, String> query = query(ex.getRequestURI());
            switch (ex.getRequestURI().getPath()) {
                case "/" -> text(ex, 200, "Hello from generation " + generation
                        + " (pid " + pid + ", release " + release + ")\n");
                case "/health" -> {
                    if (hangOnHealth) Thread.sleep(Long.MAX_VALUE);
                    text(ex, healthStatus == null ? 200 : healthStatus, "ok\n");
                    if (dieAfterHealth) Runtime.getRuntime().halt(3);
                }
                case "/env" -> {
                    // Only DEMO_ variables: the demo must not hand out whatever secrets its environment holds.
                    String name = query.getOrDefault("name", "");
                    String value = name.startsWith("DEMO_") ? System.getenv(name) : null;
                    text(ex, value == null ? 404 : 200, value == null ? "not set\n" : value + "\n");
                }
                case "/slow" -> {
                    String until = query.get("until");
                    if (until != null) { // once the file exists (a test's event), at most a minute
                        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
                        while (!Files.exists(Path.of(until)) && System.nanoTime() < deadline) Thread.sleep(10);
                        text(ex, 200, "released\n");
                        return;
                    }
                    long ms = Long.parseLong(query.getOrDefault("ms", "1000"));
                    Thread.sleep(ms);
                    text(ex, 200, "slept " + ms + " ms\n");
                }
                case "/stream" -> stream(ex, Integer.parseInt(query.getOrDefault("chunks", "5")),
                        Long.parseLong(query.getOrDefault("ms", "100")));
                case "/headers" -> {
                    StringBuilder sb = new StringBuilder();
                    ex.getRequestHeaders().forEach((name, values) -> values.forEach(
                            v -> sb.append(name.toLowerCase()).append(": ").append(v).append('\n')));
                    text(ex, 200, sb.toString());
                }
                case "/echo" -> {
                    if (!ex.getRequestMethod().equals("POST")) {
                        text(ex, 405, "POST only\n");
                        return;
                    }
                    byte[] body = ex.getRequestBody().readAllBytes();
                    String type = ex.getRequestHeaders().getFirst("Content-Type");
                    ex.getResponseHeaders().set("Content-Type", type == null ? "application/octet-stream" : type);
                    ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                    ex.getResponseBody().write(body);
                }
                default -> text(ex, 404, "not found\n");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (NumberFormatException e) {
            text(ex, 400, "bad number: " + e.getMessage() + "\n");
        } finally {
            ex.close();
            inFlight.decrementAndGet();
        }
    }

    private static void stream(HttpExchange ex, int chunks, long ms) throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0); // chunked
        OutputStream out = ex.getResponseBody();
        for (int i = 0; i < chunks; i++) {
            if (i > 0) Thread.sleep(ms);
            out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    private static void text(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        ex.getResponseBody().write(bytes);
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> params = new HashMap<>();
        String raw = uri.getQuery();
        if (raw == null) return params;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) params.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return params;
    }

    /** Write to a temp file and rename, so a reader never sees a half-written pid. */
    private void writePid(Path pidFile) throws IOException {
        Path dir = pidFile.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, ".demo-pid", ".tmp");
        Files.writeString(tmp, pid + "\n");
        Files.move(tmp, pidFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String release() {
        Path cwd = Path.of("").toAbsolutePath();
        Path version = cwd.resolve("VERSION");
        try {
            if (Files.isRegularFile(version)) return Files.readString(version).trim();
        } catch (IOException ignored) {
            // fall back to the directory name, like a release directory named after its version
        }
        Path name = cwd.getFileName();
        return name == null ? "/" : name.toString();
    }

    private void log(String message) {
        System.out.println(TIME.format(Instant.now()) + " demo generation " + generation + " pid " + pid
                + " release " + release + " " + message);
        System.out.flush();
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    private static Integer intEnv(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : Integer.valueOf(v.trim());
    }
}
