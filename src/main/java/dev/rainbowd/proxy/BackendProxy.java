package dev.rainbowd.proxy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpUpgrader;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.transport.internal.HttpConnectionOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Jetty's reverse proxy, sending each request to the backend {@link ProxyRouter} chose for it.
 * Responses are streamed as they arrive (chunked, SSE), never buffered.
 */
final class BackendProxy extends org.eclipse.jetty.proxy.ProxyHandler {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BackendProxy.class);
    static final String BACKEND = Backend.class.getName();
    /** Set when reading the client's request body failed (a malformed chunk): the client's fault, not the app's. */
    private static final String CLIENT_BODY_FAILED = BackendProxy.class.getName() + ".clientBodyFailed";
    private static final HttpField PROTO_HTTP = new HttpField(HttpHeader.X_FORWARDED_PROTO, "http");
    private static final HttpField PROTO_HTTPS = new HttpField(HttpHeader.X_FORWARDED_PROTO, "https");

    /** Client idle time of a pooled upstream connection: below the keep-alive of common app servers (gunicorn: 2 s). */
    private static final long POOL_IDLE_MS = 1_500;

    private final Duration idleTimeout;
    /** The settings in force that the proxy reads per request (tunnel idle timeout, trusted proxies, buffering). */
    private final TrafficSwitch settings;
    /** Where a response that runs ahead of its client goes beyond memory. */
    private final Path spoolDir;

    /** A request that can be sent again after its backend failed before answering. */
    interface Replay {
        /** True if the request was taken over (sent again or parked); false to answer 502/504. */
        boolean replay(Throwable failure);

        /** The upstream request is about to be sent. */
        void sending(org.eclipse.jetty.client.Request upstream);

        /** True if the request must go out on a connection opened for it, not on a kept-alive one. */
        boolean needsFreshConnection();

        /** The app's whole response is here (the client may still be reading it): the app is done with the request. */
        void answered();
    }

    BackendProxy(Duration idleTimeout, TrafficSwitch settings, Path spoolDir) {
        this.idleTimeout = idleTimeout;
        this.settings = settings;
        this.spoolDir = spoolDir;
        setViaHost("rainbowd"); // we send no Via, and this skips a host name lookup at start
    }

    /**
     * Nothing here blocks (the upstream exchange is asynchronous), so Jetty may run a request on
     * the selector thread that read it instead of handing it to another thread (an unpark and a
     * context switch per request). {@link ProxyThreadPool} relies on this.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    /** Jetty's proxy, given the request without its Expect: 100-continue (see {@link WithoutExpect}). */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        return super.handle(WithoutExpect.of(request), response, callback);
    }

    /** Not used to build the upstream request (see {@link #newProxyToServerRequest}); non-null means "proxy it". */
    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        return request.getHttpURI();
    }

    /**
     * The upstream client shares the server's thread pool (Jetty's default gives it a second pool:
     * every response then crosses pools), scheduler and buffers. Its
     * connections are non-blocking too: the response listeners below only write to the client
     * asynchronously, so the selector that read an app's response goes on to send it instead of
     * handing it to another thread.
     */
    @Override
    protected HttpClient newHttpClient() {
        ClientConnector connector = new ClientConnector() {
            /** Apps are plain HTTP on 127.0.0.1: no TLS context (it loaded ~500 classes and the CA certificates). */
            @Override
            protected SslContextFactory.Client newSslContextFactory() {
                return null;
            }
        };
        connector.setSelectors(ProxyThreadPool.EVENT_LOOPS);
        if (getServer() != null) {
            connector.setExecutor(getServer().getThreadPool());
            connector.setScheduler(getServer().getScheduler());
            connector.setByteBufferPool(getServer().getByteBufferPool()); // one pool of buffers, not two
        }
        HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector) {
            @Override
            public org.eclipse.jetty.io.Connection newConnection(EndPoint endPoint, Map<String, Object> context) {
                HttpConnectionOverHTTP connection = new HttpConnectionOverHTTP(endPoint, context) {
                    @Override
                    public InvocationType getInvocationType() {
                        return InvocationType.NON_BLOCKING;
                    }
                };
                connection.setInitialize(isInitializeConnections());
                return customize(connection, context);
            }
        };
        // Jetty's parser reuses a header value seen earlier on the same connection when a new one
        // matches it ignoring case: one user's "Cache-Control: private, ABCdef" went out as
        // another's "abcDEF", "charset=utf-8" as "UTF-8".
        transport.setHeaderCacheCaseSensitive(true);
        HttpClient client = new HttpClient(transport);
        transport.setConnectionPoolFactory(new UpstreamPools(client));
        return client;
    }

    /** Jetty's proxy starts its client with no handler of 101s: an app's 101 went to the client bare. */
    @Override
    protected void doStart() throws Exception {
        super.doStart();
        getHttpClient().getProtocolHandlers().put(new UpgradeResponses());
    }

    @Override
    protected void configureHttpClient(HttpClient client) {
        super.configureHttpClient(client);
        client.setUserAgentField(null); // the client's own User-Agent is copied; don't add a second one
        client.setDefaultRequestContentType(null); // nor a Content-Type the client did not send
        // Pooled connections idle briefly; an exchange may be silent for up to idleTimeout (see below).
        client.setIdleTimeout(POOL_IDLE_MS);
        client.setConnectTimeout(5_000);
        // Each generation is a new port, hence a new destination: let the pools of old ones go.
        client.setDestinationIdleTimeout(10_000);
        client.setMaxConnectionsPerDestination(1024);
        client.setMaxRequestsQueuedPerDestination(8192);
        // What the server side let in, plus what we add: X-Forwarded-* (X-Forwarded-Host repeats the
        // Host) would push headers just under the limit over it, and the client got a 502.
        client.setMaxRequestHeadersSize(2 * ProxyRouter.MAX_HEADERS);
        client.setMaxResponseHeadersSize(ProxyRouter.MAX_HEADERS);
    }

    /** To the app this request was routed to, with the client's request-target as sent (see {@link UpstreamRequest}). */
    @Override
    protected org.eclipse.jetty.client.Request newProxyToServerRequest(Request request, HttpURI ignored) {
        Backend backend = (Backend) request.getAttribute(BACKEND);
        byte[] raw = request.getConnectionMetaData().getConnection() instanceof GuardedHttpConnection c ? c.rawTarget(request.getId()) : null;
        UpstreamRequest upstream = raw == null ? null : UpstreamRequest.raw(getHttpClient(), backend.origin(), raw);
        if (upstream == null) {
            HttpURI target = request.getHttpURI();
            upstream = UpstreamRequest.of(getHttpClient(), backend.origin(), target.getPath(), target.getQuery());
        }
        return upstream.method(request.getMethod())
                .idleTimeout(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void sendProxyToServerRequest(Request clientToProxyRequest, org.eclipse.jetty.client.Request proxyToServerRequest,
            Response proxyToClientResponse, Callback proxyToClientCallback) {
        if (proxyToClientCallback instanceof Replay r) {
            if (r.needsFreshConnection()) UpstreamPools.fresh(proxyToServerRequest);
            r.sending(proxyToServerRequest);
        }
        String upgrade = Upgrades.requested(clientToProxyRequest);
        if (upgrade != null) {
            Backend backend = (Backend) clientToProxyRequest.getAttribute(BACKEND);
            Duration idle = settings.settings().tunnelIdleTimeout();
            HttpUpgrader.Factory tunnel = version -> new TunnelUpgrader(upgrade, clientToProxyRequest, proxyToClientResponse,
                    proxyToClientCallback, backend, idle);
            proxyToServerRequest.attribute(HttpUpgrader.Factory.class.getName(), tunnel);
        }
        super.sendProxyToServerRequest(clientToProxyRequest, proxyToServerRequest, proxyToClientResponse, proxyToClientCallback);
    }

    @Override
    protected void onServerToProxyResponseFailure(Request clientToProxyRequest,
            org.eclipse.jetty.client.Request proxyToServerRequest, org.eclipse.jetty.client.Response serverToProxyResponse,
            Response proxyToClientResponse, Callback proxyToClientCallback, Throwable failure) {
        boolean nothingAnswered = !proxyToClientResponse.isCommitted()
                && (serverToProxyResponse == null || serverToProxyResponse.getStatus() <= 0);
        // Which failure it was (refused, reset, closed, timeout) decides replay or 502/504: at debug level, say.
        if (log.isDebugEnabled()) {
            log.debug("{} {} to {} failed ({}): {}", clientToProxyRequest.getMethod(),
                    clientToProxyRequest.getHttpURI().getPathQuery(), clientToProxyRequest.getAttribute(BACKEND),
                    nothingAnswered ? "nothing answered yet" : "answer under way", failure.toString());
        }
        if (clientToProxyRequest.getAttribute(CLIENT_BODY_FAILED) != null && !proxyToClientResponse.isCommitted()) {
            Response.writeError(clientToProxyRequest, proxyToClientResponse, proxyToClientCallback, HttpStatus.BAD_REQUEST_400);
            return;
        }
        boolean unsolicited = ProxyRouter.causedBy(failure, UpgradeResponses.Unsolicited.class);
        if (unsolicited) log.warn("{} to {}: {}; answered 502", clientToProxyRequest.getHttpURI().getPathQuery(),
                clientToProxyRequest.getAttribute(BACKEND), failure.getMessage());
        if (nothingAnswered && !unsolicited && proxyToClientCallback instanceof Replay r && r.replay(failure)) return;
        // The app's head may be in the response already, copied when it came: none of it belongs
        // on our 502 (its Content-Length made that a 500, its Set-Cookie or Cache-Control would go out).
        if (!proxyToClientResponse.isCommitted()) proxyToClientResponse.reset();
        super.onServerToProxyResponseFailure(clientToProxyRequest, proxyToServerRequest, serverToProxyResponse,
                proxyToClientResponse, proxyToClientCallback, failure);
    }

    @Override
    protected org.eclipse.jetty.client.Request.Content newProxyToServerRequestContent(Request clientToProxyRequest,
            Response proxyToClientResponse, org.eclipse.jetty.client.Request proxyToServerRequest) {
        return new ProxyRequestContent(clientToProxyRequest) {
            /** Set when the app's side failed the body (see fail): the failure read next is not the client's. */
            private volatile boolean failedByApp;

            @Override
            public Content.Chunk read() {
                Content.Chunk chunk = super.read();
                if (Content.Chunk.isFailure(chunk) && !failedByApp) clientToProxyRequest.setAttribute(CLIENT_BODY_FAILED, Boolean.TRUE);
                return chunk;
            }

            /**
             * A refused connection read nothing of the body: leave it intact for the next
             * generation (see ProxyRouter's replay) instead of failing the client's request.
             * Any other failure here is the app's (it closed the connection while the body was
             * on its way): it fails the client's body, whose next read must not then be taken for
             * a malformed body (a 400 where the app's failure is a 502).
             */
            @Override
            public void fail(Throwable failure) {
                if (ProxyRouter.causedBy(failure, ConnectException.class)) return;
                failedByApp = true;
                super.fail(failure);
            }
        };
    }

    /**
     * Jetty drops the fixed hop-by-hop headers; the ones the app's Connection header names go too
     * (RFC 9110 7.6.1). The body goes through a {@link ResponseBuffer} unless maxResponseBuffer is 0.
     */
    @Override
    protected org.eclipse.jetty.client.Response.CompleteListener newServerToProxyResponseListener(Request clientToProxyRequest,
            org.eclipse.jetty.client.Request proxyToServerRequest, Response proxyToClientResponse, Callback proxyToClientCallback) {
        long max = settings.settings().buffering().maxResponseBuffer();
        return new ProxyResponseListener(clientToProxyRequest, proxyToServerRequest, proxyToClientResponse, proxyToClientCallback) {
            private ResponseBuffer buffer;

            @Override
            public void onHeaders(org.eclipse.jetty.client.Response serverToProxyResponse) {
                super.onHeaders(serverToProxyResponse);
                List<String> named = serverToProxyResponse.getHeaders().getCSV(HttpHeader.CONNECTION, false);
                for (String name : named) proxyToClientResponse.getHeaders().remove(name);
                // Said again in the response: once it has sent an interim response (our 100
                // Continue, the app's 103) Jetty forgets that the client asked to close.
                if (serverToProxyResponse.getStatus() != HttpStatus.SWITCHING_PROTOCOLS_101
                        && clientToProxyRequest.getHeaders().contains(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString())) {
                    proxyToClientResponse.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
                }
                if (max > 0) buffer = new ResponseBuffer(proxyToClientResponse, serverToProxyResponse, spoolDir, max, this);
            }

            @Override
            public void onContent(org.eclipse.jetty.client.Response serverToProxyResponse, Content.Chunk chunk, Runnable demander) {
                if (buffer == null) super.onContent(serverToProxyResponse, chunk, demander);
                else buffer.content(chunk, demander);
            }

            /**
             * A response without a body (to a HEAD, a 304) that came without a length is sent
             * before its end: committed by its last write, Jetty would give it
             * {@code Content-Length: 0}, a length the app never said (nginx passes it as sent).
             * Committed before, Jetty frames it as a response of unknown length: no length, and
             * chunked to a HEAD (no chunk follows one).
             */
            @Override
            public void onSuccess(org.eclipse.jetty.client.Response serverToProxyResponse) {
                boolean bodiless = HttpMethod.HEAD.is(clientToProxyRequest.getMethod())
                        || serverToProxyResponse.getStatus() == HttpStatus.NOT_MODIFIED_304;
                Runnable end = () -> {
                    if (buffer == null) super.onSuccess(serverToProxyResponse);
                    else buffer.end();
                };
                if (bodiless && !proxyToClientResponse.isCommitted()
                        && !serverToProxyResponse.getHeaders().contains(HttpHeader.CONTENT_LENGTH)) {
                    proxyToClientResponse.write(false, BufferUtil.EMPTY_BUFFER, Callback.from(end, this::failed));
                } else {
                    end.run();
                }
            }

            @Override
            public void onComplete(Result result) {
                if (result.isSucceeded() && proxyToClientCallback instanceof Replay r) r.answered();
                // The app failed mid-response: the client's response is cut (below); what is held goes.
                if (result.isFailed() && buffer != null) buffer.abort(result.getFailure());
                super.onComplete(result);
            }
        };
    }

    /**
     * X-Forwarded-For: every line the client sent, in order (HAProxy's forwardfor adds a line of its
     * own), joined, then the peer, as nginx's $proxy_add_x_forwarded_for. X-Forwarded-Proto and
     * -Host are kept only from a trusted proxy in front of us (trustedProxies, default loopback:
     * Apache or nginx on this host); from anyone else they are what rainbowd saw, or any client
     * could tell the app it came over https from another site.
     */
    @Override
    protected void addProxyHeaders(Request in, org.eclipse.jetty.client.Request out) {
        String remote = Request.getRemoteAddr(in);
        out.headers(h -> {
            StringBuilder xff = new StringBuilder();
            for (HttpField f : h.getFields(HttpHeader.X_FORWARDED_FOR)) {
                if (!f.getValue().isBlank()) xff.append(f.getValue()).append(", ");
            }
            h.put(HttpHeader.X_FORWARDED_FOR, xff.append(remote).toString());
            // Asked only when there is something to keep: most requests carry neither.
            boolean keep = (h.contains(HttpHeader.X_FORWARDED_PROTO) || h.contains(HttpHeader.X_FORWARDED_HOST)) && trusted(in);
            if (!keep || !h.contains(HttpHeader.X_FORWARDED_PROTO)) h.put(in.isSecure() ? PROTO_HTTPS : PROTO_HTTP);
            if (!keep || !h.contains(HttpHeader.X_FORWARDED_HOST)) {
                String host = in.getHeaders().get(HttpHeader.HOST);
                if (host != null) h.put(HttpHeader.X_FORWARDED_HOST, host);
                else h.remove(HttpHeader.X_FORWARDED_HOST);
            }
        });
    }

    private boolean trusted(Request in) {
        return in.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress peer
                && peer.getAddress() != null && settings.settings().trustedProxy().test(peer.getAddress());
    }

    /**
     * Header names with an underscore are dropped, as nginx does by default
     * (underscores_in_headers off): WSGI and CGI map "_" and "-" to the same variable, so an
     * X_Forwarded_For could shadow the X-Forwarded-For we set.
     */
    @Override
    protected void copyRequestHeaders(Request in, org.eclipse.jetty.client.Request out) {
        super.copyRequestHeaders(in, out);
        for (HttpField field : in.getHeaders()) {
            if (field.getName().indexOf('_') >= 0) out.headers(h -> h.remove(field.getName()));
        }
    }
}
