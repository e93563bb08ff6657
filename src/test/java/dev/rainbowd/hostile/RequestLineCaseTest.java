package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A request line nginx refuses for its case (security review, issue 14): Jetty's parser matches
 * the version ignoring case and the client library upper-cases the method, so {@code get} and
 * {@code http/1.1} reached the app as {@code GET} and {@code HTTP/1.1}. nginx answers 400 to both
 * (its methods are A-Z, '_' and '-'; its version is "HTTP/" as written): so does rainbowd now.
 */
class RequestLineCaseTest {
    private RecordingBackend app;
    private StandaloneProxy proxy;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        proxy = new StandaloneProxy(app.port());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        app.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"get / HTTP/1.1", "Get / HTTP/1.1", "gET /x?a=b HTTP/1.1", "GET / http/1.1", "GET / Http/1.1",
            "get / http/1.1", "G3T / HTTP/1.1", "post / HTTP/1.1"})
    void aRequestLineNginxRefusesFor400AndClosesTheConnection(String line) throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 10_000)) {
            Raw.write(s, Raw.ascii(line + "\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            assertEquals(400, r.status(), line + ": " + r);
            assertTrue(Raw.closedAfter(s), line + ": the connection stayed open");
        }
        assertEquals(List.of(), app.requests(), "requests that reached the app");
        assertEquals(List.of(), List.copyOf(app.heads), "request heads that reached the app");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST", "M-SEARCH", "X_Y", "PROPFIND", "VERSION-CONTROL"})
    void methodsOfCapitalsDashesAndUnderscoresReachTheAppAsSent(String method) throws Exception {
        Raw.Resp r = Raw.exchange(proxy.port(), method + " /m HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
        assertEquals(200, r.status(), r.toString());
        assertEquals(method + " /m HTTP/1.1", app.requests().get(0).requestLine());
    }

    @Test
    void http10AsWrittenIsServed() throws Exception {
        Raw.Resp r = Raw.exchange(proxy.port(), "GET /ten HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        assertEquals(200, r.status(), r.toString());
        assertEquals(1, app.requests().size());
    }

    /** Leading empty lines are allowed before a request line (RFC 9112 2.2); what follows is checked as any. */
    @Test
    void aLowercaseRequestAfterLeadingEmptyLinesIsRefused() throws Exception {
        assertEquals(400, Raw.exchange(proxy.port(), "\r\n\r\nget / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
        assertEquals(200, Raw.exchange(proxy.port(), "\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
    }

    /** The second request on a kept-alive connection is checked as the first was. */
    @Test
    void aLowercaseRequestPipelinedAfterAGoodOneIsRefused() throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 10_000)) {
            Raw.write(s, Raw.ascii("GET /one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nget /two HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            assertEquals(200, Raw.read(s.getInputStream(), false).status());
            assertEquals(400, Raw.read(s.getInputStream(), false).status());
            assertTrue(Raw.closedAfter(s));
        }
        assertEquals(1, app.requests().size(), app.requests().toString());
        assertEquals("GET /one HTTP/1.1", app.requests().get(0).requestLine());
    }
}
