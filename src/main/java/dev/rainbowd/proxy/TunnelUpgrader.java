package dev.rainbowd.proxy;

import java.time.Duration;
import org.eclipse.jetty.client.HttpUpgrader;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.TunnelSupport;
import org.eclipse.jetty.util.Callback;

/**
 * The upstream half of a protocol switch: asks the app with the client's {@code Upgrade}, and
 * only when the app answers {@code 101} (see {@link UpgradeResponses}) turns both connections
 * into a {@link Tunnel}. Any other answer is relayed as a plain response by the proxy and no
 * tunnel opens: a tunnel on a non-101 is a known smuggling hole.
 */
final class TunnelUpgrader implements HttpUpgrader {
    private final String protocols;
    private final Request clientRequest;
    private final Response clientResponse;
    private final Callback exchange;
    private final Backend backend;
    private final Duration idleTimeout;

    TunnelUpgrader(String protocols, Request clientRequest, Response clientResponse, Callback exchange, Backend backend,
            Duration idleTimeout) {
        this.protocols = protocols;
        this.clientRequest = clientRequest;
        this.clientResponse = clientResponse;
        this.exchange = exchange;
        this.backend = backend;
        this.idleTimeout = idleTimeout;
    }

    /** Jetty's proxy dropped both as hop-by-hop: the app gets them back, as the client sent them. */
    @Override
    public void prepare(org.eclipse.jetty.client.Request upstream) {
        upstream.headers(h -> h.put(HttpHeader.UPGRADE, protocols).put(HttpHeader.CONNECTION, "Upgrade"));
    }

    /**
     * The app said 101: the app's connection is ours at once (nothing is read from it yet), the
     * 101 goes to the client, and once it is out Jetty hands us the client's connection too.
     */
    @Override
    public void upgrade(org.eclipse.jetty.client.Response response, EndPoint appEnd, Callback upgraded) {
        TunnelSupport support = clientRequest.getTunnelSupport();
        EndPoint clientEnd = support == null ? null : support.getEndPoint();
        if (clientEnd == null) {
            // Only HTTP/1.1 requests are sent with an Upgrade (see Upgrades), so this is a bug of ours.
            appEnd.close();
            upgraded.failed(new IllegalStateException("no client connection to tunnel"));
            return;
        }
        Tunnel tunnel = new Tunnel(backend, clientEnd, appEnd, idleTimeout, clientRequest.getComponents().getExecutor(),
                clientRequest.getComponents().getByteBufferPool());
        appEnd.upgrade(tunnel.appSide());
        clientResponse.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
        for (HttpField field : response.getHeaders()) {
            HttpHeader h = field.getHeader();
            if (h == HttpHeader.CONTENT_LENGTH || h == HttpHeader.TRANSFER_ENCODING) continue;
            clientResponse.getHeaders().add(field);
        }
        clientRequest.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, tunnel.clientSide());
        clientResponse.write(true, null, Callback.from(() -> {
            upgraded.succeeded();
            exchange.succeeded(); // Jetty then upgrades the client's connection: the tunnel starts
        }, failure -> {
            tunnel.abort(failure);
            upgraded.succeeded(); // the app's side is handled: closed with the tunnel
            exchange.failed(failure);
        }));
    }
}
