package dev.rainbowd.proxy;

import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Request;

/** Which client requests ask for a protocol switch that rainbowd passes on to the app. */
final class Upgrades {
    private Upgrades() {}

    /**
     * The {@code Upgrade} value to send on, or null for a request proxied as plain HTTP (its
     * Upgrade dropped as hop-by-hop, as before). An upgrade needs {@code Connection: upgrade}, HTTP/1.1
     * and no body. {@code h2c} is never passed on, as nginx's default proxying does not (its
     * advised WebSocket config, which passes $http_upgrade on, does): HTTP/2 to the app is not the
     * client's to start through us.
     */
    static String requested(Request request) {
        String upgrade = request.getHeaders().get(HttpHeader.UPGRADE);
        if (upgrade == null || upgrade.isBlank()) return null;
        if (request.getConnectionMetaData().getHttpVersion() != HttpVersion.HTTP_1_1) return null;
        if (!request.getHeaders().contains(HttpHeader.CONNECTION, "upgrade")) return null;
        if (request.getLength() > 0 || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) return null;
        for (String token : upgrade.split(",")) {
            String protocol = token.strip().toLowerCase(Locale.ROOT);
            if (protocol.equals("h2c") || protocol.startsWith("h2c/")) return null;
        }
        return upgrade.strip();
    }
}
