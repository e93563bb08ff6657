package dev.rainbowd.proxy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
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

    /** {@code origin} is the app's {@code http://127.0.0.1:port}; {@code path} and {@code query} (or null) the client's, raw. */
    UpstreamRequest(HttpClient client, URI origin, String path, String query) {
        super(client, new HttpConversation(), origin);
        this.path = asSent(path);
        this.query = query == null ? null : asSent(query);
    }

    /**
     * Jetty's server decodes a target's raw bytes as UTF-8 and its client writes them as ISO-8859-1:
     * "/café" reached the app as "/caf\xe9", "/✓" as "/?". Back to the bytes the client sent, one
     * char each. (Bytes that were not UTF-8 Jetty has already replaced with U+FFFD: the app gets its
     * UTF-8 bytes.)
     */
    private static String asSent(String target) {
        for (int i = 0; i < target.length(); i++) {
            if (target.charAt(i) >= 0x80) {
                return new String(target.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            }
        }
        return target;
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
