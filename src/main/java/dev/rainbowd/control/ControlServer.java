package dev.rainbowd.control;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.DeployTicket;
import dev.rainbowd.deploy.Deployer;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.deploy.Trigger;
import dev.rainbowd.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/** The control API (SPEC section 3). A waiting redeploy holds no thread: it answers when its deploy ends. */
public final class ControlServer extends Handler.Abstract.NonBlocking {
    private final Deployer deployer;
    private final Metrics metrics;
    private final ControlToken token;
    private final BrowserGuard browsers;

    public ControlServer(Deployer deployer, Metrics metrics, ControlToken token, String controlHost, int controlPort) {
        this.deployer = deployer;
        this.metrics = metrics;
        this.token = token;
        this.browsers = new BrowserGuard(controlHost, controlPort);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String refused = browsers.refusal(request);
        if (refused != null) return error(response, callback, HttpStatus.FORBIDDEN_403, refused);
        byte[] expected = token.expected();
        if (expected != null && !authorized(request, expected)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            return error(response, callback, HttpStatus.UNAUTHORIZED_401, "missing or wrong Authorization: Bearer token");
        }
        String path = request.getHttpURI().getPath();
        if (path == null) path = "/";
        if (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        String method = request.getMethod();
        switch (path) {
            case "/" -> {
                if (!isGet(method)) return notAllowed(response, callback, "GET");
                return text(response, callback, index());
            }
            case "/status" -> {
                if (!isGet(method)) return notAllowed(response, callback, "GET");
                return json(response, callback, HttpStatus.OK_200, StatusView.status(deployer.status()));
            }
            case "/metrics" -> {
                if (!isGet(method)) return notAllowed(response, callback, "GET");
                return send(response, callback, HttpStatus.OK_200, Metrics.CONTENT_TYPE, metrics.scrape());
            }
            case "/redeploy", "/rollback" -> {
                if (!HttpMethod.POST.is(method)) return notAllowed(response, callback, "POST");
                return deploy(path.equals("/rollback"), request, response, callback);
            }
            default -> {
                return error(response, callback, HttpStatus.NOT_FOUND_404, "no such endpoint: " + path);
            }
        }
    }

    private boolean deploy(boolean rollback, Request request, Response response, Callback callback) {
        Boolean wait = flag(request, "wait");
        if (wait == null) {
            return error(response, callback, HttpStatus.BAD_REQUEST_400, "malformed query: wait must be true or false");
        }
        Boolean ifChanged = flag(request, "ifChanged");
        if (ifChanged == null) {
            return error(response, callback, HttpStatus.BAD_REQUEST_400, "malformed query: ifChanged must be true or false");
        }
        DeployTicket ticket;
        if (rollback) {
            Optional<DeployTicket> t = deployer.rollback();
            if (t.isEmpty()) return error(response, callback, HttpStatus.CONFLICT_409, deployer.noRollback());
            ticket = t.get();
        } else {
            ticket = ifChanged ? deployer.requestIfChanged(Trigger.CONTROL) : deployer.request(Trigger.CONTROL);
        }
        if (!wait) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("deploy", ticket.id());
            body.put("state", ticket.result().isDone() ? ticket.result().join().state() : "queued");
            return json(response, callback, HttpStatus.ACCEPTED_202, body);
        }
        ticket.result().whenComplete((DeployResult r, Throwable x) -> {
            if (x != null) {
                error(response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500, String.valueOf(x));
            } else {
                json(response, callback, r.live() ? HttpStatus.OK_200 : HttpStatus.INTERNAL_SERVER_ERROR_500,
                        StatusView.outcome(r));
            }
        });
        return true;
    }

    /** true, false (also when absent), or null when the value is neither. A bare {@code ?wait} means true. */
    private static Boolean flag(Request request, String name) {
        Fields query;
        try {
            query = Request.extractQueryParameters(request);
        } catch (RuntimeException e) { // undecodable %-escapes: Jetty's BadMessageException
            return null;
        }
        List<String> values = query.getValues(name);
        if (values == null || values.isEmpty()) return false;
        return switch (values.get(values.size() - 1).toLowerCase(Locale.ROOT)) {
            case "", "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> null;
        };
    }

    private String index() {
        Status s = deployer.status();
        String port = s.live() == null ? "none" : Integer.toString(s.live().port());
        return "Current backend port: " + port + "\nNumber of backends: " + deployer.generationCount() + "\n";
    }

    private static boolean authorized(Request request, byte[] expected) {
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        // MessageDigest.isEqual takes the same time wherever the first difference is.
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected);
    }

    private static boolean isGet(String method) {
        return HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method);
    }

    private static boolean notAllowed(Response response, Callback callback, String allow) {
        response.getHeaders().put(HttpHeader.ALLOW, allow);
        return error(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "method not allowed, use " + allow);
    }

    static boolean error(Response response, Callback callback, int status, String message) {
        return json(response, callback, status, Map.of("error", message));
    }

    static boolean json(Response response, Callback callback, int status, Object body) {
        return send(response, callback, status, "application/json", Json.write(body) + "\n");
    }

    private static boolean text(Response response, Callback callback, String body) {
        return send(response, callback, HttpStatus.OK_200, "text/plain; charset=utf-8", body);
    }

    private static boolean send(Response response, Callback callback, int status, String type, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        Content.Sink.write(response, true, body, callback);
        return true;
    }
}
