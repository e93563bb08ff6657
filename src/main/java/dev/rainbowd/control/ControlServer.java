package dev.rainbowd.control;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.DeployTicket;
import dev.rainbowd.deploy.Deployer;
import dev.rainbowd.deploy.GenerationOutput;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.deploy.Trigger;
import dev.rainbowd.metrics.Metrics;
import dev.rainbowd.process.OutputTail;
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
            case "/logs" -> {
                if (!isGet(method)) return notAllowed(response, callback, "GET");
                return logs(request, response, callback);
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

    /**
     * A generation's output: {@code generation} (default: the live one), the last {@code lines}
     * (default 100) of those numbered above {@code after} (default 0): a follower passes the
     * {@code next} of its last answer as {@code after}.
     */
    private boolean logs(Request request, Response response, Callback callback) {
        Fields query;
        long generation;
        long after;
        long lines;
        try {
            query = Request.extractQueryParameters(request);
            generation = number(query, "generation", 0);
            after = number(query, "after", 0);
            lines = number(query, "lines", 100);
        } catch (RuntimeException e) { // undecodable %-escapes, or not a number
            return error(response, callback, HttpStatus.BAD_REQUEST_400, "malformed query: generation, after and lines are whole numbers");
        }
        Optional<GenerationOutput> found = generation > Integer.MAX_VALUE ? Optional.empty() : deployer.output((int) generation);
        if (found.isEmpty()) {
            return error(response, callback, HttpStatus.NOT_FOUND_404, (generation == 0 ? "no generation has been launched yet"
                    : "no output kept for generation " + generation) + "; kept: " + deployer.outputsKept());
        }
        GenerationOutput g = found.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("generation", g.generation());
        body.put("name", g.name());
        // Read before the lines: a line written in between is in them, and a follower asks for it once more at worst.
        boolean ended = g.output().ended();
        List<OutputTail.Line> kept = g.output().since(after, (int) Math.min(lines, Integer.MAX_VALUE));
        body.put("ended", ended);
        body.put("next", kept.isEmpty() ? Math.max(after, 0) : kept.get(kept.size() - 1).number());
        body.put("lines", kept.stream().map(l -> Map.of("n", l.number(), "text", l.text())).toList());
        return json(response, callback, HttpStatus.OK_200, body);
    }

    private static long number(Fields query, String name, long fallback) {
        String v = query.getValue(name);
        if (v == null) return fallback;
        long n = Long.parseLong(v);
        if (n < 0) throw new NumberFormatException(name + " is negative");
        return n;
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
