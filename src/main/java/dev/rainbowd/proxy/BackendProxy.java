package dev.rainbowd.proxy;

import java.time.Duration;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Request;

/**
 * Jetty's reverse proxy, sending each request to the backend {@link ProxyRouter} chose for it.
 * Responses are streamed as they arrive (chunked, SSE), never buffered.
 */
final class BackendProxy extends org.eclipse.jetty.proxy.ProxyHandler {
    static final String BACKEND = Backend.class.getName();
    private static final HttpField PROTO_HTTP = new HttpField(HttpHeader.X_FORWARDED_PROTO, "http");
    private static final HttpField PROTO_HTTPS = new HttpField(HttpHeader.X_FORWARDED_PROTO, "https");

    private final Duration idleTimeout;

    BackendProxy(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
        setViaHost("rainbowd"); // we send no Via, and this skips a host name lookup at start
    }

    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        Backend backend = (Backend) request.getAttribute(BACKEND);
        return HttpURI.build(request.getHttpURI()).scheme("http").host("127.0.0.1").port(backend.port());
    }

    @Override
    protected void configureHttpClient(HttpClient client) {
        super.configureHttpClient(client);
        client.setUserAgentField(null); // the client's own User-Agent is copied; don't add a second one
        client.setIdleTimeout(idleTimeout.toMillis());
        client.setConnectTimeout(5_000);
        // Each generation is a new port, hence a new destination: let the pools of old ones go.
        client.setDestinationIdleTimeout(10_000);
        client.setMaxConnectionsPerDestination(1024);
        client.setMaxRequestsQueuedPerDestination(8192);
    }

    /**
     * X-Forwarded-For is appended to; X-Forwarded-Proto and -Host are kept when a proxy in front
     * of us (Apache, nginx: rainbowd listens on loopback by default) already set them.
     */
    @Override
    protected void addProxyHeaders(Request in, org.eclipse.jetty.client.Request out) {
        String remote = Request.getRemoteAddr(in);
        out.headers(h -> {
            String xff = h.get(HttpHeader.X_FORWARDED_FOR);
            h.put(HttpHeader.X_FORWARDED_FOR, xff == null || xff.isBlank() ? remote : xff + ", " + remote);
            if (!h.contains(HttpHeader.X_FORWARDED_PROTO)) h.put(in.isSecure() ? PROTO_HTTPS : PROTO_HTTP);
            if (!h.contains(HttpHeader.X_FORWARDED_HOST)) {
                String host = in.getHeaders().get(HttpHeader.HOST);
                if (host != null) h.put(HttpHeader.X_FORWARDED_HOST, host);
            }
        });
    }
}
