package dev.rainbowd.cli;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.TestDaemon;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket activation for real: a Python process holds a listening socket, as systemd does for
 * rainbowd.socket, and starts, stops and restarts rainbowd on it through the real launcher
 * ({@code agent/rainbowd}, which moves the socket from fd 3 to fd 0 for the JVM). Clients that
 * connect while no rainbowd runs wait in the socket's backlog: a restart refuses no connection.
 */
class SocketActivationTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int CLIENTS = 3;
    /** Per client: the load is bounded in count and in time, and stops by itself. */
    private static final int MAX_REQUESTS = 50_000;
    private static final Duration MAX_LOAD = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private Process holder;
    private Writer holderIn;
    private final BlockingQueue<String> holderOut = new LinkedBlockingQueue<>();

    @AfterEach
    void stopHolder() throws Exception {
        if (holder != null) {
            try {
                holderIn.close(); // end of input: the holder stops its daemon and exits
            } catch (IOException e) {
                // it is gone already
            }
            if (!holder.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                holder.descendants().forEach(ProcessHandle::destroyForcibly);
                holder.destroyForcibly();
                holder.waitFor(10, TimeUnit.SECONDS);
                fail("the socket holder did not exit; stderr:\n" + Files.readString(dir.resolve("holder.err")));
            }
        }
        TestDaemon.assertNoBackendsLeft();
    }

    @Test
    void restartsUnderLoadRefuseNoConnectionAndTheAppGetsNoCopyOfTheSocket() throws Exception {
        int port = startHolder();
        Path config = writeConfig(port);

        command("start");
        long daemon = Long.parseLong(expect("started")[2]);
        int controlPort = Integer.parseInt(configValue(config, "controlPort"));
        Map<String, Object> live = awaitLive(controlPort);

        // The app rainbowd launched has no copy of the listening socket (the JDK closes every fd
        // above 2 in a child, and the app's stdin is /dev/null).
        String socket = Files.readSymbolicLink(Path.of("/proc/" + daemon + "/fd/0")).toString();
        assertTrue(socket.startsWith("socket:["), "the daemon's fd 0 is the passed socket: " + socket);
        long app = ((Number) JsonParse.map(live.get("live")).get("pid")).longValue();
        List<String> appFds = fds(app);
        assertFalse(appFds.isEmpty(), "the app's fds are readable");
        assertFalse(appFds.contains(socket), "the app holds no copy of " + socket + ": " + appFds);

        Load load = new Load(port);
        load.start();
        load.awaitAnswered(50);
        List<String> parts = new ArrayList<>();
        for (int restart = 1; restart <= 2; restart++) {
            command("stop");
            String[] exited = expect("exited");
            assertEquals("0", exited[3], "rainbowd " + exited[2] + " exits 0 on SIGTERM");
            command("start");
            String[] started = expect("started");
            awaitLive(controlPort);
            parts.add(parts(restart, Long.parseLong(exited[4]), Long.parseLong(started[3]),
                    dir.resolve("daemon-" + started[1] + ".log")));
            long before = load.answered();
            load.awaitAnswered(before + 50); // the new daemon serves before the next restart
        }
        load.stop();

        System.out.println("socket activation: " + load + "; " + String.join("; ", parts));
        assertEquals(List.of(), load.failures(), load.toString());
        assertEquals(0, load.refused.get(), load.toString());
        assertTrue(load.answered() > 100, load.toString());

        for (int n = 1; n <= 3; n++) {
            String log = Files.readString(dir.resolve("daemon-" + n + ".log"));
            assertTrue(log.contains("(proxy, on the socket passed as fd 3 \"proxy\")"), "daemon " + n + ":\n" + log);
            assertFalse(log.contains("WARN"), "daemon " + n + " warned:\n" + log);
            if (n < 3) {
                // Closing the JDK's inherited channel would point fds 1 and 2 at /dev/null: the
                // drain's log lines, after the proxy stopped accepting, must still be there.
                assertTrue(log.strip().endsWith("rainbowd stopped"), "daemon " + n + " logged to its end:\n" + log);
            }
        }
    }

    /**
     * A request on a kept-alive connection to the old rainbowd, sent while it drains, would get
     * Jetty's graceful-shutdown 503. The connection is closed instead, as soon as the old rainbowd
     * stops accepting: the client sends again on a new connection, which the next rainbowd answers.
     */
    @Test
    void anIdleKeepAliveConnectionIsClosedAtTheRestartNotAnswered503() throws Exception {
        int port = startHolder();
        Path config = writeConfig(port);
        int controlPort = Integer.parseInt(configValue(config, "controlPort"));
        command("start");
        expect("started");
        awaitLive(controlPort);
        try (Socket keepAlive = new Socket(InetAddress.getLoopbackAddress(), port)) {
            keepAlive.setSoTimeout(30_000);
            assertTrue(exchange(keepAlive).startsWith("HTTP/1.1 200 "));
            // In flight, it holds the old rainbowd in its drain while the kept-alive connection is
            // used: the app answers it once the test has made that request (and creates this file).
            Path release = dir.resolve("release-the-slow-request");
            CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> get(port, "/slow?until=" + release));
            awaitStatus(controlPort, "a request in flight", s -> s.get("live") instanceof Map<?, ?> live
                    && live.get("inFlight") instanceof Number n && n.intValue() > 0);
            command("stop");
            awaitLine(dir.resolve("daemon-1.log"), "rainbowd stopping");

            String second = exchange(keepAlive);
            assertTrue(second.isEmpty() || second.startsWith("HTTP/1.1 200 "),
                    "closed (or answered, had it come first), never refused: " + second);
            assertFalse(slow.isDone(), "the slow request ended before the drain it was to hold: " + (slow.isDone() ? slow.join() : ""));
            Files.createFile(release);
            assertTrue(slow.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).startsWith("HTTP/1.1 200 "), "drained");
            assertEquals("0", expect("exited")[3]);
        }
        command("start");
        expect("started");
        assertTrue(get(port, "/").startsWith("HTTP/1.1 200 "), "a new connection waits for the next rainbowd");
    }

    /** The launcher's part, with a stand-in for java that shows its descriptors: files do for sockets here. */
    @Test
    void ofSeveralPassedDescriptorsTheLauncherMovesTheOneNamedProxyToFd0() throws Exception {
        Path fakeJava = dir.resolve("java");
        Files.writeString(fakeJava, "#!/bin/sh\nfor fd in 0 3 4; do printf '%s ' $fd; readlink /proc/$$/fd/$fd || echo; done\n");
        assertTrue(fakeJava.toFile().setExecutable(true));
        Path control = Files.writeString(dir.resolve("control"), "");
        Path proxy = Files.writeString(dir.resolve("proxy"), "");
        Path jar = Files.writeString(dir.resolve("rainbowd.jar"), "");
        Process p = start(List.of("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=control:proxy exec \"$@\" 3<" + control
                + " 4<" + proxy, "sh", LauncherTest.launcher().toString(), "run"),
                Map.of("RAINBOWD_JAR", jar.toString(), "RAINBOWD_CDS_DIR", "none", "JAVA", fakeJava.toString()), "fds");
        assertEquals(0, exit(p, "fds"), Files.readString(dir.resolve("fds.err")));
        assertEquals(List.of("0 " + proxy, "3 " + control, "4 "), Files.readAllLines(dir.resolve("fds.out")),
                "the one named proxy on fd 0, its own fd closed, the other left as it was");
    }

    @Test
    void listenFdsWithoutASocketOnFd0IsAOneLineErrorAndExit1() throws Exception {
        Path config = writeConfig(Ports.freePair());
        // java started directly, not through the launcher: fd 0 is /dev/null.
        Process p = start(List.of("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=proxy exec \"$@\"", "sh",
                Demo.java().toString(), "-cp", DaemonProcess.classpath(), Main.class.getName(), "run", "-c",
                config.toString()), Map.of(), "direct");
        assertEquals(1, exit(p, "direct"));
        List<String> err = Files.readAllLines(dir.resolve("direct.err"));
        assertEquals(1, err.size(), "one line: " + err);
        assertTrue(err.get(0).startsWith("rainbowd: LISTEN_FDS=1 passes a socket to this process, but fd 0 is not a socket,"
                + " not a listening TCP socket: start rainbowd through agent/rainbowd"), err.get(0));

        // Through the launcher, with nothing on fd 3.
        Process q = start(List.of("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$@\"", "sh",
                LauncherTest.launcher().toString(), "run", "-c", config.toString()),
                Map.of("RAINBOWD_JAR", pathingJar().toString(), "RAINBOWD_CDS_DIR", "none"), "launcher");
        assertEquals(1, exit(q, "launcher"));
        assertEquals(List.of("rainbowd: LISTEN_FDS=1 passes sockets to this process, but fd 3 is not open"),
                Files.readAllLines(dir.resolve("launcher.err")));
    }

    @Test
    void listenPidOfAnotherProcessIsIgnoredAndTheProxyBindsItself() throws Exception {
        Path config = writeConfig(Ports.freePair());
        try (DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"),
                Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "proxy"))) {
            d.awaitLive(TIMEOUT);
            assertTrue(d.stdout().contains("(proxy, bound itself)"), d.stdout());
            HttpResponse<String> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            d.signal("TERM");
            assertEquals(0, d.awaitExit(TIMEOUT));
            d.assertBackendsGone();
        }
    }

    /** Starts socket_holder.py; returns the port of the socket it holds. */
    private int startHolder() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script().toString(), LauncherTest.launcher().toString(),
                dir.resolve("rainbow.yaml").toString(), dir.toString())
                .redirectError(dir.resolve("holder.err").toFile());
        pb.environment().put("RAINBOWD_JAR", pathingJar().toString());
        pb.environment().put("RAINBOWD_CDS_DIR", "none");
        pb.environment().put("JAVA", Demo.java().toString());
        holder = pb.start();
        holderIn = new OutputStreamWriter(holder.getOutputStream(), UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), UTF_8))) {
                for (String line; (line = r.readLine()) != null;) holderOut.add(line);
            } catch (IOException e) {
                // the holder is gone; expect() says so
            }
        }, "socket-holder-out");
        reader.setDaemon(true);
        reader.start();
        return Integer.parseInt(expect("listening")[1]);
    }

    private void command(String command) throws IOException {
        holderIn.write(command + "\n");
        holderIn.flush();
    }

    /** The holder's next line, which must start with {@code word}; split at spaces. */
    private String[] expect(String word) throws IOException, InterruptedException {
        String line = holderOut.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (line == null || !line.startsWith(word + " ")) {
            fail("expected \"" + word + " ...\" from the socket holder, got " + line + "; stderr:\n"
                    + Files.readString(dir.resolve("holder.err")) + "\nlogs:\n" + logs());
        }
        return line.split(" ");
    }

    private String logs() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> logs = s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
            StringBuilder b = new StringBuilder();
            for (Path p : logs) b.append("== ").append(p.getFileName()).append('\n').append(Files.readString(p));
            return b.toString();
        }
    }

    /** The test's config, with the proxy on {@code port} (the held socket's, so that nothing warns). */
    private Path writeConfig(int port) throws IOException {
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("port", Integer.toString(port));
        settings.put("controlPort", Integer.toString(Ports.free()));
        settings.put("drainTimeout", "60s"); // a request the test holds in flight is never cut short
        return TestDaemon.writeConfig(dir, settings);
    }

    private static String configValue(Path config, String key) throws IOException {
        return Files.readAllLines(config).stream().filter(l -> l.startsWith(key + ": ")).findFirst()
                .map(l -> l.substring(key.length() + 2)).orElseThrow();
    }

    /** Waits until the control port's status shows a live generation; returns that status. */
    private static Map<String, Object> awaitLive(int controlPort) {
        return awaitStatus(controlPort, "a live generation", s -> s.get("live") != null);
    }

    private static Map<String, Object> awaitStatus(int controlPort, String what, Predicate<Map<String, Object>> condition) {
        URI status = URI.create("http://127.0.0.1:" + controlPort + "/status");
        List<Map<String, Object>> seen = new ArrayList<>();
        TestDaemon.await(what + " on control port " + controlPort, () -> {
            try {
                HttpResponse<String> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(status).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) return false;
                seen.add(0, JsonParse.object(r.body()));
                return condition.test(seen.get(0));
            } catch (IOException e) {
                return false; // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }, TIMEOUT);
        return seen.get(0);
    }

    private static void awaitLine(Path log, String text) {
        TestDaemon.await("\"" + text + "\" in " + log, () -> {
            try {
                return Files.readString(log).contains(text);
            } catch (IOException e) {
                return false;
            }
        }, TIMEOUT);
    }

    /** GET / on a kept-alive connection: the response's head and body, or "" if it was closed instead. */
    private static String exchange(Socket s) throws IOException {
        try {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(ISO_8859_1));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            for (int b; !head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0;) head.append((char) b);
            Matcher length = Pattern.compile("(?i)\r\ncontent-length: *(\\d+)").matcher(head);
            return head.isEmpty() ? "" : head + (length.find() ? new String(in.readNBytes(Integer.parseInt(length.group(1))), ISO_8859_1) : "");
        } catch (SocketException e) {
            return ""; // reset: closed while the request was on its way
        }
    }

    /** A request on a new connection; the whole response, or the exception's text. */
    private static String get(int port, String path) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 30_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), ISO_8859_1);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * What the gap of one restart is made of, from the holder's figures and the new daemon's log:
     * the old daemon's drain and exit, JVM start to listening, listening to the first generation live.
     */
    private static String parts(int restart, long stopMs, long startedEpochMs, Path log) throws IOException {
        String liveLine = "deploy #1 (startup): generation 1 live";
        awaitLine(log, liveLine); // status shows the generation live at the cutover, a moment before this line
        List<String> lines = Files.readAllLines(log);
        long listening = timestamp(lines, "rainbowd listening on");
        long live = timestamp(lines, liveLine);
        return "restart " + restart + ": old daemon's drain and exit " + stopMs + " ms, JVM start to listening "
                + (listening - startedEpochMs) + " ms, first generation live " + (live - listening) + " ms later";
    }

    private static long timestamp(List<String> lines, String text) {
        String line = lines.stream().filter(l -> l.contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no \"" + text + "\" in " + lines));
        return OffsetDateTime.parse(line.substring(0, line.indexOf(' '))).toInstant().toEpochMilli();
    }

    private static List<String> fds(long pid) throws IOException {
        List<String> targets = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    targets.add(Files.readSymbolicLink(fd).toString());
                } catch (IOException e) {
                    // closed while we looked
                }
            }
        }
        return targets;
    }

    private Process start(List<String> command, Map<String, String> env, String name) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().put("JAVA", Demo.java().toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    private int exit(Process p, String name) throws Exception {
        if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(name + " did not exit; stdout:\n" + Files.readString(dir.resolve(name + ".out")));
        }
        return p.exitValue();
    }

    /** The stand-in for target/rainbowd.jar, which does not exist while the tests run. */
    private Path pathingJar() throws IOException {
        return DaemonProcess.pathingJar(dir);
    }

    private static Path script() {
        try {
            return Path.of(SocketActivationTest.class.getResource("/socket_holder.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A few clients, each sending requests one after another, each on a new connection. */
    private static final class Load {
        private final int port;
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        private final AtomicLong longestNanos = new AtomicLong();
        private volatile boolean stop;

        Load(int port) {
            this.port = port;
        }

        void start() {
            long deadline = System.nanoTime() + MAX_LOAD.toNanos();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = new Thread(() -> {
                    for (int n = 0; n < MAX_REQUESTS && !stop && System.nanoTime() < deadline; n++) request();
                }, "client-" + i);
                t.start();
                threads.add(t);
            }
        }

        private void request() {
            long start = System.nanoTime();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 30_000);
                s.setSoTimeout(30_000);
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(ISO_8859_1));
                String response = new String(s.getInputStream().readAllBytes(), ISO_8859_1);
                longestNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                if (response.startsWith("HTTP/1.1 200 ")) {
                    ok.incrementAndGet();
                } else {
                    failures.add(response.isEmpty() ? "an empty response" : response.lines().findFirst().orElse(""));
                }
            } catch (ConnectException e) {
                refused.incrementAndGet();
            } catch (IOException e) {
                failures.add(e.toString());
            }
        }

        long answered() {
            return ok.get();
        }

        void awaitAnswered(long count) {
            TestDaemon.await(count + " answered requests", () -> ok.get() >= count || !failures.isEmpty(), TIMEOUT);
        }

        void stop() throws InterruptedException {
            stop = true;
            for (Thread t : threads) t.join(TIMEOUT.toMillis());
            for (Thread t : threads) assertFalse(t.isAlive(), t.getName() + " still running");
        }

        List<String> failures() {
            synchronized (failures) {
                return failures.size() > 10 ? List.copyOf(failures.subList(0, 10)) : List.copyOf(failures);
            }
        }

        @Override
        public String toString() {
            return ok.get() + " requests answered 200, " + refused.get() + " refused, " + failures.size()
                    + " failed; longest wait " + TimeUnit.NANOSECONDS.toMillis(longestNanos.get()) + " ms";
        }
    }
}
