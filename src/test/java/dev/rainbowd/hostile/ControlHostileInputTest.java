package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.deploy.Status;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or broken client can send to the control port of a real daemon (real demo app
 * behind it). The daemon must answer cleanly and keep serving, on both ports.
 */
class ControlHostileInputTest {
    @TempDir
    Path dir;
    private TestDaemon d;

    @BeforeEach
    void start() throws Exception {
        d = TestDaemon.start(dir).awaitLive();
        awaitQuiet();
    }

    @AfterEach
    void stop() {
        if (d != null) d.close(); // fails the test if a backend process is left
    }

    private int control() {
        return d.daemon().controlPort();
    }

    /** No deploy running or pending, and the start-up one finished. */
    private void awaitQuiet() {
        TestDaemon.await("no deploy under way", () -> {
            Status s = d.status();
            return s.deploying() == null && !s.pending() && s.lastDeploy() != null;
        }, Duration.ofSeconds(60));
    }

    /** The daemon still answers on both ports. */
    private void stillServing() throws Exception {
        HttpResponse<String> status = d.controlGet("/status");
        assertEquals(200, status.statusCode(), status.body());
        assertTrue(JsonParse.object(status.body()).containsKey("live"), status.body());
        HttpResponse<String> index = d.controlGet("/");
        assertEquals(200, index.statusCode());
        assertTrue(index.body().startsWith("Current backend port: "), index.body());
        HttpResponse<String> app = d.get("/");
        assertEquals(200, app.statusCode(), app.body());
        assertTrue(app.body().startsWith("Hello from generation"), app.body());
    }

    /** An answer of the daemon's own: JSON with an "error" key, no stack trace. */
    private static Map<String, Object> assertJsonError(Raw.Resp r, int status) {
        assertEquals(status, r.status(), r.toString());
        return assertJsonErrorBody(r);
    }

    private static Map<String, Object> assertJsonErrorBody(Raw.Resp r) {
        String type = r.header("Content-Type");
        assertTrue(type != null && type.startsWith("application/json"), "not JSON: " + r);
        Map<String, Object> body = JsonParse.object(r.text());
        assertNotNull(body, r.toString());
        assertTrue(body.get("error") instanceof String, "no \"error\" string: " + r);
        assertNoStackTrace(r);
        return body;
    }

    private static void assertNoStackTrace(Raw.Resp r) {
        String t = r.text();
        assertFalse(t.contains("\tat ") || t.contains("at org.eclipse") || t.contains("at dev.rainbowd")
                || t.contains("at java."), "stack trace in the answer: " + r);
    }

    private Raw.Resp send(String request) throws IOException {
        return Raw.exchange(control(), Raw.ascii(request), request.startsWith("HEAD "));
    }

    private Raw.Resp request(String method, String target) throws IOException {
        String body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH") ? "Content-Length: 0\r\n" : "";
        return send(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + body + "Connection: close\r\n\r\n");
    }

    // ---- huge bodies ------------------------------------------------------------------------

    private static final int HUGE = 20 * 1024 * 1024;

    /** Streams {@code total} bytes of body after {@code head}; stops quietly when the daemon closes. */
    private Raw.Resp streamBody(String head, int total, boolean chunked) throws IOException {
        try (Socket s = Raw.connect(control(), 15_000)) {
            OutputStream out = s.getOutputStream();
            long sent = 0;
            try {
                out.write(Raw.ascii(head));
                byte[] block = new byte[64 * 1024];
                new Random(1).nextBytes(block);
                for (int i = 0; sent < total && i < 10_000; i++) {
                    int n = (int) Math.min(block.length, total - sent);
                    if (chunked) out.write(Raw.ascii(Integer.toHexString(n) + "\r\n"));
                    out.write(block, 0, n);
                    if (chunked) out.write(Raw.ascii("\r\n"));
                    sent += n;
                }
                if (chunked) out.write(Raw.ascii("0\r\n\r\n"));
                out.flush();
            } catch (IOException e) {
                // the daemon answered and closed before reading it all: allowed
            }
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            System.out.println("huge body (" + (chunked ? "chunked" : "content-length") + "), sent " + sent
                    + " bytes, the daemon answered: " + r.statusLine() + " " + r.text().trim());
            return r;
        }
    }

    private void assertAnsweredOrClosed(Raw.Resp r) {
        if (r.status() == 0) return; // closed the connection: allowed
        assertTrue(r.status() / 100 == 2 || r.status() / 100 == 4, r.toString());
        if (r.status() / 100 == 4 && r.status() != 413 && r.status() != 400) assertJsonErrorBody(r);
        if (r.status() / 100 == 2) assertTrue(JsonParse.object(r.text()).containsKey("deploy"), r.toString());
        assertNoStackTrace(r);
    }

    @Test
    void aHugeBodyOnRedeployDoesNotHurtTheDaemon() throws Exception {
        Raw.Resp r = streamBody("POST /redeploy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: " + HUGE + "\r\n\r\n", HUGE, false);
        assertAnsweredOrClosed(r);
        stillServing();
        awaitQuiet();
        stillServing();
    }

    @Test
    void aHugeChunkedBodyOnRedeployDoesNotHurtTheDaemon() throws Exception {
        Raw.Resp r = streamBody("POST /redeploy HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n", HUGE, true);
        assertAnsweredOrClosed(r);
        stillServing();
        awaitQuiet();
        stillServing();
    }

    @Test
    void aHugeBodyOnAnUnknownPathDoesNotHurtTheDaemon() throws Exception {
        Raw.Resp r = streamBody("POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + HUGE + "\r\n\r\n", HUGE, false);
        if (r.status() != 0) assertJsonError(r, 404);
        stillServing();
    }

    @Test
    void aHugeHeaderOrUrlIsRefused() throws Exception {
        Raw.Resp header = send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(64 * 1024) + "\r\n\r\n");
        assertTrue(header.status() == 431 || header.status() == 400, header.toString());
        Raw.Resp url = send("GET /status?" + "q".repeat(64 * 1024) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertTrue(url.status() == 414 || url.status() == 431 || url.status() == 400, url.toString());
        stillServing();
    }

    // ---- garbage ----------------------------------------------------------------------------

    /**
     * Unparseable requests are refused by Jetty's HTTP parser before the daemon's handler sees
     * them: its 400 (an HTML or empty body, not our JSON) is acceptable as it is.
     */
    @Test
    void garbageAndMalformedRequestLinesGet400() throws Exception {
        byte[] random = new byte[1024];
        new Random(7).nextBytes(random);
        List<byte[]> bad = List.of(
                random,
                Raw.ascii("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003 TLS hello\r\n\r\n"),
                Raw.ascii("this is not http\r\n\r\n"),
                Raw.ascii("POST /redeploy\r\n\r\n"),
                Raw.ascii("POST /redeploy HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
                Raw.ascii("POST  HTTP/1.1\r\nHost: x\r\n\r\n"),
                Raw.ascii("POST /re deploy HTTP/1.1\r\nHost: x\r\n\r\n"),
                Raw.ascii("POST /redeploy HTTP/7.0\r\nHost: x\r\n\r\n"),
                // nginx refuses these for their case; Jetty took them for POST and HTTP/1.1 (a deploy)
                Raw.ascii("post /redeploy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
                Raw.ascii("POST /redeploy http/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
                Raw.ascii("P\0ST /redeploy HTTP/1.1\r\nHost: x\r\n\r\n"),
                Raw.ascii("POST /redeploy HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n"),
                Raw.ascii("POST /redeploy HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n"),
                Raw.ascii("POST /redeploy HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"));
        for (byte[] req : bad) {
            Raw.Resp r = Raw.exchange(control(), req);
            String shown = new String(req, 0, Math.min(40, req.length), StandardCharsets.ISO_8859_1);
            assertTrue(r.status() == 400 || r.status() == 505 || r.status() == 0, shown + " -> " + r);
            assertNoStackTrace(r);
        }
        stillServing();
        assertEquals(1, d.status().lastDeploy().id(), "none of that started a deploy");
    }

    // ---- unknown paths, wrong methods -------------------------------------------------------

    @Test
    void unknownPathsAreJson404() throws Exception {
        for (String path : List.of("/nope", "/redeploy/now", "/status.json", "/STATUS", "/Redeploy", "/status/x",
                "/redeploy/../../etc/passwd", "/%00", "/index.html", "/metrics/../status/x")) {
            for (String method : List.of("GET", "POST")) {
                Raw.Resp r = request(method, path);
                if (r.status() == 400) {
                    // Jetty's URI compliance refused an ambiguous path before the handler saw it.
                    assertNoStackTrace(r);
                    continue;
                }
                Map<String, Object> body = assertJsonError(r, 404);
                assertTrue(body.get("error").toString().length() > 0, r.toString());
            }
        }
        stillServing();
        assertEquals(1, d.status().lastDeploy().id(), "no deploy started");
    }

    @Test
    void wrongMethodsAreJson405WithAllow() throws Exception {
        Map<String, String> allowed = Map.of("/redeploy", "POST", "/rollback", "POST", "/status", "GET", "/", "GET",
                "/redeploy/", "POST", "/status/", "GET");
        for (Map.Entry<String, String> e : allowed.entrySet()) {
            for (String method : List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW")) {
                if (method.equals(e.getValue())) continue;
                if (method.equals("GET") && e.getValue().equals("GET")) continue;
                Raw.Resp r = request(method, e.getKey());
                assertJsonError(r, 405);
                assertTrue(r.header("Allow") != null && r.header("Allow").contains(e.getValue()), r.toString());
            }
            Raw.Resp head = request("HEAD", e.getKey());
            if (e.getValue().equals("GET")) {
                assertEquals(200, head.status(), e.getKey() + " " + head);
            } else {
                assertEquals(405, head.status(), e.getKey() + " " + head);
            }
        }
        stillServing();
        assertEquals(1, d.status().lastDeploy().id(), "no deploy started");
    }

    // ---- query garbage ----------------------------------------------------------------------

    private static final List<String> UNDECODABLE = List.of("wait=%ZZ", "wait=%", "wait=%2", "%ZZ=1", "wait=%FF%FE",
            "wait=%E0%A4%A");
    private static final List<String> BAD_VALUES = List.of("wait=maybe", "wait=tr%00ue", "wait==true", "wait=true;x",
            "wait=truetrue", "wait=%20true");

    /** Malformed query strings: a clean 4xx, never a 500 or a stack trace, and no deploy. */
    @Test
    void garbageQueriesGetAClean400() throws Exception {
        for (String q : concat(UNDECODABLE, BAD_VALUES)) {
            Raw.Resp r = request("POST", "/redeploy?" + q);
            assertTrue(r.status() >= 400 && r.status() < 500, q + " -> " + r);
            assertNoStackTrace(r);
        }
        for (String q : BAD_VALUES) {
            Raw.Resp r = request("POST", "/redeploy?" + q);
            Map<String, Object> body = assertJsonError(r, 400);
            assertTrue(body.get("error").toString().contains("wait"), r.toString());
        }
        stillServing();
        assertEquals(1, d.status().lastDeploy().id(), "a refused request deploys nothing");
        assertFalse(d.status().pending());
    }

    /**
     * The daemon's own handler reads the query, so its refusal should be the daemon's JSON error like
     * every other one (scripts parse {"error": ...}).
     */
    @Test
    void undecodableQueriesGetTheDaemonsJsonError() throws Exception {
        for (String q : UNDECODABLE) {
            Raw.Resp r = request("POST", "/redeploy?" + q);
            assertJsonError(r, 400);
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Queries that are odd but well-formed have a defined meaning: the last wait value counts. */
    @Test
    void oddButWellFormedQueriesHaveADefinedResult() throws Exception {
        // The last value is empty: a bare ?wait, i.e. true. The answer comes when the deploy ends.
        Raw.Resp waited = request("POST", "/redeploy?wait=true&wait=");
        assertTrue(waited.status() == 200 || waited.status() == 400, waited.toString());
        Map<String, Object> w = JsonParse.object(waited.text());
        if (waited.status() == 200) assertEquals("live", w.get("state"), waited.toString());
        else assertTrue(w.containsKey("error"), waited.toString());

        // The last value is false: answered at once.
        Raw.Resp queued = request("POST", "/redeploy?wait=true&wait=false");
        assertEquals(202, queued.status(), queued.toString());
        assertEquals("queued", JsonParse.object(queued.text()).get("state"));

        // No wait parameter at all, just noise: answered at once.
        Raw.Resp noise = request("POST", "/redeploy?&&&=&==&x=%41");
        assertEquals(202, noise.status(), noise.toString());
        awaitQuiet();
        stillServing();
    }

    // ---- a stampede ----------------------------------------------------------------------------

    @Test
    void aHundredConcurrentRedeploysCoalesce() throws Exception {
        long before = d.status().lastDeploy().id();
        int n = 100;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Raw.Resp>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                answers.add(pool.submit(() -> {
                    try (Socket s = Raw.connect(control(), 20_000)) {
                        ready.countDown();
                        go.await(20, TimeUnit.SECONDS);
                        Raw.write(s, Raw.ascii("POST /redeploy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                                + "Connection: close\r\n\r\n"));
                        return Raw.read(s.getInputStream(), false);
                    }
                }));
            }
            assertTrue(ready.await(20, TimeUnit.SECONDS), "connections not opened");
            go.countDown();
            Set<Long> ids = new TreeSet<>();
            for (Future<Raw.Resp> f : answers) {
                Raw.Resp r = f.get(30, TimeUnit.SECONDS);
                assertEquals(202, r.status(), r.toString());
                Map<String, Object> body = JsonParse.object(r.text());
                assertEquals("queued", body.get("state"), r.toString());
                ids.add(((Number) body.get("deploy")).longValue());
            }
            assertTrue(ids.size() <= 2, "deploy ids " + ids);
            assertTrue(ids.stream().allMatch(id -> id > before && id <= before + 2), "deploy ids " + ids);
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        stillServing(); // while the deploys run
        awaitQuiet();
        Status s = d.status();
        assertTrue(s.lastDeploy().id() <= before + 2, "deploys after the stampede: " + (s.lastDeploy().id() - before));
        assertTrue(s.lastDeploy().live(), String.valueOf(s.lastDeploy()));
        stillServing();
    }

    // ---- a web page in a browser on this host (the security review's MEDIUM finding) ----

    @Test
    void aCrossSitePageCannotRollBackOrRedeploy() throws Exception {
        for (String path : List.of("/rollback", "/redeploy")) {
            Raw.Resp r = Raw.exchange(control(), "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + control() + "\r\n"
                    + "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n");
            assertEquals(403, r.status(), path + ": " + r);
            assertTrue(new String(r.body()).contains("\"error\""), new String(r.body()));
        }
        // Each signal alone is enough: an Origin of another site, a Sec-Fetch-Site of another site.
        assertEquals(403, Raw.exchange(control(), "POST /redeploy HTTP/1.1\r\nHost: localhost:" + control() + "\r\n"
                + "Origin: http://localhost:8080\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status());
        assertEquals(403, Raw.exchange(control(), "POST /redeploy HTTP/1.1\r\nHost: localhost:" + control() + "\r\n"
                + "Sec-Fetch-Site: same-site\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status());
        assertEquals(1, d.status().live().generation(), "no deploy happened");
    }

    @Test
    void aRebindingNameCannotReadTheStatus() throws Exception {
        Raw.Resp r = Raw.exchange(control(), "GET /status HTTP/1.1\r\nHost: rebind.evil.example:" + control()
                + "\r\nConnection: close\r\n\r\n");
        assertEquals(403, r.status(), r.toString());
        assertFalse(new String(r.body()).contains("\"pid\""), new String(r.body()));
    }

    @Test
    void curlAndTheControlPortsOwnPagesStillWork() throws Exception {
        // curl -d '' localhost:7001/redeploy, exactly as curl sends it
        Raw.Resp r = Raw.exchange(control(), "POST /redeploy HTTP/1.1\r\nHost: localhost:" + control() + "\r\n"
                + "User-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Length: 0\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n");
        assertEquals(202, r.status(), r.toString());
        for (String host : List.of("127.0.0.1", "[::1]", "localhost")) {
            Raw.Resp s = Raw.exchange(control(), "GET /status HTTP/1.1\r\nHost: " + host + ":" + control() + "\r\n"
                    + "Origin: http://" + host + ":" + control() + "\r\nSec-Fetch-Site: same-origin\r\n"
                    + "Connection: close\r\n\r\n");
            assertEquals(200, s.status(), host + ": " + s);
        }
        awaitQuiet();
    }
}
