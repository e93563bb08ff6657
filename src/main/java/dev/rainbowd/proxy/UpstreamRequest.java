package dev.rainbowd.proxy;

import java.net.URI;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpConversation;
import org.eclipse.jetty.client.transport.HttpRequest;

/**
 * A request to the app whose request-target is the client's, byte for byte.
 *
 * <p>Jetty's proxy rebuilt each target as a {@link URI}, which refuses what browsers send and apps
 * accept: a {@code |} in a query (browsers do not escape it) became a 500, as did a stray
 * {@code %} in a query. The app, not the proxy, judges its URLs, as behind nginx. It also saves
 * a URI parse per request.
 */
final class UpstreamRequest extends HttpRequest {
    private final String path;
    private final String query;

    /** {@code origin} is the app's {@code http://127.0.0.1:port}; {@code target} the client's path and query. */
    UpstreamRequest(HttpClient client, URI origin, String target) {
        super(client, new HttpConversation(), origin);
        int q = target.indexOf('?');
        this.path = q < 0 ? target : target.substring(0, q);
        this.query = q < 0 ? null : target.substring(q + 1);
    }

    /** Jetty's client writes the request-target as path, then "?" and the query if there is one. */
    @Override
    public String getPath() {
        return path;
    }

    @Override
    public String getQuery() {
        return query;
    }
}
