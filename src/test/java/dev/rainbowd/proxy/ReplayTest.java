package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rainbowd.config.Buffering;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app closes an idle keep-alive connection just as the proxy sends a request on it (gunicorn
 * does after 2 s; hypercorn right after answering, without Connection: close). A backend on a raw
 * socket makes that race happen every time: it answers the first request of a connection, then
 * closes it when the second arrives, as if its close had crossed that request on the wire.
 */
class ReplayTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private ServerSocket backend;
    private Thread acceptor;
    private final AtomicInteger served = new AtomicInteger();
    /** Request lines as they arrived, each with its number on its connection ("POST / 1"). */
    private final Queue<String> arrived = new ConcurrentLinkedQueue<>();
    /** First requests of connections wait here for each other (so that the pool holds that many). */
    private volatile CountDownLatch together = new CountDownLatch(0);
    private Server server;
    private TrafficSwitch traffic;
    private ServerConnector connector;

    @TempDir
    Path spool;

    @BeforeEach
    void start() throws Exception {
        backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::serve, "stale-backend");
        acceptor.setDaemon(true);
        acceptor.start();
        traffic = new TrafficSwitch();
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        traffic.settings(ProxySettings.DEFAULT.withQueueTimeout(Duration.ofSeconds(2)));
        server.setHandler(new ProxyRouter(traffic, Duration.ofSeconds(30), spool));
        server.start();
        traffic.cutover(new Backend(1, backend.getLocalPort()));
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        backend.close();
        acceptor.join(5_000);
    }

    private void serve() {
        while (!backend.isClosed()) {
            try {
                Socket s = backend.accept();
                Thread t = new Thread(() -> connection(s));
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void connection(Socket s) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            for (int request = 1; ; request++) {
                int length = 0;
                String line0 = in.readLine();
                if (line0 == null) return;
                String line;
                while (!(line = in.readLine()).isEmpty()) {
                    if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
                }
                if (line0.startsWith("POST /crash-early ")) {
                    arrived.add(line0 + " " + request);
                    s.setSoLinger(true, 0); // unread body: reset, as a worker that dies mid-upload
                    return;
                }
                for (int i = 0; i < length; i++) in.read();
                arrived.add(line0 + " " + request);
                if (request == 2) return; // keep-alive timeout hit just as the request came in
                if (line0.startsWith("POST /crash ")) return; // the worker died on it
                if (request == 1) {
                    together.countDown();
                    together.await(10, TimeUnit.SECONDS);
                }
                served.incrementAndGet();
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the proxy went away
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return client.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
    }

    @Test
    void anIdempotentRequestOnAConnectionTheAppClosedIsSentAgain() throws Exception {
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri()));
            assertEquals(200, r.statusCode(), "request " + i);
            assertEquals("ok", r.body());
        }
        assertEquals(5, served.get());
    }

    /**
     * Every idle connection in the pool is stale: a replay through the pool took the next stale
     * one and the client got 502. A replay goes on a connection opened for it.
     */
    @Test
    void aReplayGoesOnANewConnectionNotOnAnotherPooledOne() throws Exception {
        int pooled = 4;
        together = new CountDownLatch(pooled);
        List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
        for (int i = 0; i < pooled; i++) {
            // Each on a client connection of its own: the proxy opens as many to the app.
            HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            first.add(own.sendAsync(HttpRequest.newBuilder(uri()).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : first) assertEquals(200, f.get(30, TimeUnit.SECONDS).statusCode());
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri()));
            assertEquals(200, r.statusCode(), "request " + i + "; arrived: " + arrived);
        }
        assertEquals(pooled + 10, served.get());
    }

    /** Not on a kept-alive connection, which the app may have closed: on one opened for it. */
    @Test
    void aRequestWithABodyGoesOnANewConnection() throws Exception {
        assertEquals(200, send(HttpRequest.newBuilder(uri())).statusCode()); // leaves a pooled connection
        HttpResponse<String> post = send(HttpRequest.newBuilder(uri()).POST(HttpRequest.BodyPublishers.ofString("x".repeat(8 << 20))));
        assertEquals(200, post.statusCode(), post.body() + arrived);
        assertEquals(List.of("GET / HTTP/1.1 1", "POST / HTTP/1.1 1"), List.copyOf(arrived));
    }

    @Test
    void aRequestWithABodyIsNeverSentTwice() throws Exception {
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(uri() + "crash"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(8 << 20))));
        assertEquals(502, post.statusCode());
        assertEquals(List.of("POST /crash HTTP/1.1 1"), List.copyOf(arrived));
    }

    /**
     * The app failed while it was sent the body: 502, the app's fault, not 400 as if the client's
     * body were bad. A small body, read whole with the head: with megabytes still on their way,
     * rainbowd closes on unread bytes, the kernel sends a reset, and the client may lose the 502
     * before it reads it (nginx lingers to read them; rainbowd does not yet). The next test covers
     * a client still sending.
     */
    @Test
    void anAppThatDiesOnTheRequestIsA502() throws Exception {
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(uri() + "crash-early"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100))));
        assertEquals(502, post.statusCode(), post.body());
        assertEquals(List.of("POST /crash-early HTTP/1.1 1"), List.copyOf(arrived));
    }

    /**
     * The same while the client is still sending (bodies streamed, requestBuffering: false; else
     * the app never sees a request before its body is whole): the upstream failure is not the
     * client's body failing.
     */
    @Test
    void anAppThatDiesWhileTheClientIsStillUploadingIsA502() throws Exception {
        traffic.settings(traffic.settings().withBuffering(new Buffering(false, 0, Buffering.MAX_RESPONSE_BUFFER)));
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), connector.getLocalPort())) {
            c.setSoTimeout(10_000);
            c.getOutputStream().write(("POST /crash-early HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
                    .getBytes(StandardCharsets.US_ASCII));
            String status = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertEquals("HTTP/1.1 502 Bad Gateway", status);
        }
    }

    /** A POST without a body cannot be sent twice either: it goes out once, on a connection opened for it. */
    @Test
    void aNonIdempotentRequestWithoutABodyIsNotSentTwice() throws Exception {
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(uri() + "crash")).POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(502, post.statusCode());
        assertEquals(List.of("POST /crash HTTP/1.1 1"), List.copyOf(arrived));
    }

    @Test
    void aRequestWithABodyRefusedByADeadBackendWaitsForTheNextOne() throws Exception {
        // The 8 MB body may take a busy machine seconds to buffer: the wait must not end before the test does.
        traffic.settings(traffic.settings().withQueueTimeout(Duration.ofSeconds(60)));
        traffic.cutover(new Backend(2, Ports.free())); // died; not noticed yet
        CompletableFuture<HttpResponse<String>> post = client.sendAsync(HttpRequest.newBuilder(uri())
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(8 << 20))).timeout(Slack.of(Duration.ofSeconds(30))).build(),
                HttpResponse.BodyHandlers.ofString());
        TestDaemon.await("the request refused and waiting for a backend", () -> traffic.waiting() == 1, Duration.ofSeconds(10));
        assertEquals(false, post.isDone(), "answered before any backend could have: " + (post.isDone() ? post.join().statusCode() : ""));
        traffic.cutover(new Backend(3, backend.getLocalPort()));
        assertEquals(200, post.get(Slack.of(Duration.ofSeconds(10)).toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(1, served.get());
    }
}
