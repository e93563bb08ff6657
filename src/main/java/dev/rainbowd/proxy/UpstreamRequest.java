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

    private UpstreamRequest(HttpClient client, URI origin, String path, String query) {
        super(client, new HttpConversation(), origin);
        this.path = path;
        this.query = query;
    }

    /** {@code origin} is the app's {@code http://127.0.0.1:port}; {@code path} and {@code query} (or null) the client's, as Jetty's server read them. */
    static UpstreamRequest of(HttpClient client, URI origin, String path, String query) {
        return new UpstreamRequest(client, origin, asSent(path), query == null ? null : asSent(query));
    }

    /**
     * Jetty's server decodes a target's raw bytes as UTF-8 and its client writes them as ISO-8859-1:
     * "/café" reached the app as "/caf\xe9", "/✓" as "/?". Back to the bytes the client sent, one
     * char each. (Bytes that were not UTF-8 Jetty has replaced with U+FFFD: such a target goes by
     * {@link #raw}, from the bytes as they came.)
     */
    private static String asSent(String target) {
        for (int i = 0; i < target.length(); i++) {
            if (target.charAt(i) >= 0x80) {
                return new String(target.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            }
        }
        return target;
    }

    /**
     * A request whose target came in bytes that are not UTF-8 ({@link GuardedHttpConnection#rawTarget}):
     * those bytes, one char each, as the client wrote them. Only an origin-form target ("/...");
     * null for another.
     */
    static UpstreamRequest raw(HttpClient client, URI origin, byte[] target) {
        if (target.length == 0 || target[0] != '/') return null;
        String t = new String(target, StandardCharsets.ISO_8859_1);
        int q = t.indexOf('?');
        return new UpstreamRequest(client, origin, q < 0 ? t : t.substring(0, q), q < 0 ? null : t.substring(q + 1));
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
