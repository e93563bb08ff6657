package dev.rainbowd.cli;

import dev.rainbowd.config.ControlAddress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** Talks to a running daemon's control API, found through the same config file. */
final class ControlClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final URI base;
    private final String token;

    ControlClient(ControlAddress control) {
        String host = control.host();
        // A daemon listening on every address is reached on loopback.
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) host = "127.0.0.1";
        if (host.contains(":") && !host.startsWith("[")) host = "[" + host + "]";
        this.base = URI.create("http://" + host + ":" + control.port());
        this.token = control.token().orElse(null);
    }

    record Reply(int status, String body) {
        /** The JSON body as a map (JSON is YAML, and we already ship a YAML parser). */
        @SuppressWarnings("unchecked")
        Map<String, Object> json() {
            Object doc = new Load(LoadSettings.builder().build()).loadFromString(body);
            return doc instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        }
    }

    /** The daemon could not be reached at all. */
    static final class Unreachable extends Exception {
        Unreachable(String message) {
            super(message);
        }
    }

    Reply get(String path) throws Unreachable {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET().timeout(Duration.ofSeconds(10)));
    }

    /** No timeout: a waiting redeploy lasts as long as the deploy does. */
    Reply post(String path) throws Unreachable {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.noBody()));
    }

    URI base() {
        return base;
    }

    private Reply send(HttpRequest.Builder request) throws Unreachable {
        if (token != null) request.header("Authorization", "Bearer " + token);
        try {
            HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Unreachable("cannot reach rainbowd at " + base + " (is it running?)");
        } catch (IOException e) {
            throw new Unreachable("lost the connection to rainbowd at " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
    }
}
