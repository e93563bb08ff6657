package dev.rainbowd.control;

import dev.rainbowd.config.ConfigLoader;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * Keeps web pages out of the control API. Without controlToken, a page open in a browser on this
 * host could POST /rollback (a "simple" cross-site request needs no preflight), or read /status
 * through DNS rebinding (its own name resolving to 127.0.0.1). Browsers say where a request comes
 * from (Origin, Sec-Fetch-Site) and which name it was sent to (Host): a request from another
 * site, or to a name that is not this control port's, is refused. curl and the CLI send neither
 * Origin nor Sec-Fetch-Site, and a loopback Host: they pass as before.
 */
final class BrowserGuard {
    private final String controlHost;
    private final int controlPort;

    BrowserGuard(String controlHost, int controlPort) {
        this.controlHost = controlHost;
        this.controlPort = controlPort;
    }

    /** Why the request is refused, or null when it may go on. */
    String refusal(Request request) {
        String site = request.getHeaders().get("Sec-Fetch-Site");
        if (site != null && (site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site"))) {
            return "refused: a request from a web page (Sec-Fetch-Site: " + site + ")";
        }
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null && !ownOrigin(origin)) {
            return "refused: a request from another origin (" + origin + ")";
        }
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host != null && !ownName(withoutPort(host))) {
            return "refused: Host " + host + " is not a name of this control port (" + controlHost + ")";
        }
        return null;
    }

    private boolean ownOrigin(String origin) {
        try {
            URI uri = new URI(origin);
            int port = uri.getPort() == -1 ? 80 : uri.getPort();
            return "http".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null && port == controlPort
                    && ownName(unbracket(uri.getHost()));
        } catch (URISyntaxException e) {
            return false; // "null" (a sandboxed page, a file) included
        }
    }

    /**
     * Loopback names and addresses, and controlHost. Listening on every address needs a token
     * (see ConfigLoader), so there the name cannot be known and need not be.
     */
    private boolean ownName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (controlHost.equals("0.0.0.0") || controlHost.equals("::")) return true;
        return ConfigLoader.isLoopback(n) || n.equalsIgnoreCase(controlHost) || n.equals(unbracket(controlHost));
    }

    private static String withoutPort(String host) {
        String h = host.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        return colon >= 0 && colon == h.lastIndexOf(':') ? h.substring(0, colon) : h;
    }

    private static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
