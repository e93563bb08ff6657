package dev.rainbowd.cli;

import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ControlAddress;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * A deploy asked of the running daemon (redeploy, rollback). While it waits for the outcome (one
 * request with ?wait=true), it follows GET /status and prints each step as it happens: launching,
 * probing, cut over, draining, stopped. Exit 0 live, 1 failed, 2 unreachable.
 */
abstract class DeployCommand implements Callable<Integer> {
    private static final long POLL_MS = 100;

    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Option(names = "--no-wait", description = "return once the deploy is queued")
    boolean noWait;

    @Option(names = {"-q", "--quiet"}, description = "print nothing but errors (the exit code tells)")
    boolean quiet;

    @Option(names = "--wait-drain", description = "after the cutover, follow the old generation until it has drained and stopped")
    boolean waitDrain;

    @Spec
    CommandSpec spec;

    /** The control API path and query: /redeploy or /rollback, and how. */
    abstract String path();

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = quiet ? new PrintWriter(Writer.nullWriter()) : spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ControlAddress control;
        try {
            // A mistake in the file is the daemon's to report: it fails this deploy with it.
            control = config.orElse(parent.config).control(problem -> {});
        } catch (ConfigException e) {
            // Not even the control port can be read: no deploy starts, the live generation serves on.
            err.println("rainbowd: no deploy started: " + e.getMessage());
            return ExitCodes.FAILED;
        }
        ControlClient client = new ControlClient(control);
        try {
            ControlClient.Reply reply;
            if (noWait || quiet) {
                reply = client.post(noWait ? path() : waiting(path()));
            } else {
                Map<String, Object> before = client.get("/status").json();
                CompletableFuture<ControlClient.Reply> outcome = CompletableFuture.supplyAsync(() -> {
                    try {
                        return client.post(waiting(path()));
                    } catch (ControlClient.Unreachable e) {
                        throw new CompletionException(e);
                    }
                });
                try {
                    new Progress(client, out, before, waitDrain).follow(outcome);
                } catch (ControlClient.Unreachable e) {
                    // progress is best effort: the outcome comes from the deploy's own reply
                }
                reply = outcome.join();
            }
            return report(reply, client, out, err);
        } catch (ControlClient.Unreachable e) {
            err.println("rainbowd: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        } catch (CompletionException e) {
            err.println("rainbowd: " + e.getCause().getMessage());
            return ExitCodes.UNREACHABLE;
        }
    }

    private static String waiting(String path) {
        return path + (path.contains("?") ? "&" : "?") + "wait=true";
    }

    private static int report(ControlClient.Reply reply, ControlClient client, PrintWriter out, PrintWriter err) {
        Map<String, Object> body = reply.json();
        switch (reply.status()) {
            case 200 -> {
                if ("rollback".equals(body.get("trigger"))) {
                    out.printf("deploy #%s: rolled back to %s, generation %s on port %s (%s ms)%n",
                            body.get("deploy"), body.get("release"), body.get("generation"), body.get("port"), body.get("durationMs"));
                } else {
                    out.printf("deploy #%s: live, generation %s on port %s (%s ms)%n",
                            body.get("deploy"), body.get("generation"), body.get("port"), body.get("durationMs"));
                }
                if (body.get("note") != null) out.printf("deploy #%s: %s%n", body.get("deploy"), body.get("note"));
                needRestart(body, err);
                return ExitCodes.OK;
            }
            case 202 -> {
                out.printf("deploy #%s: %s%n", body.get("deploy"), body.get("state"));
                return ExitCodes.OK;
            }
            case 500 -> {
                err.printf("rainbowd: deploy #%s failed: %s%n", body.get("deploy"), body.get("reason"));
                err.printf("%s", StatusCommand.output(body.get("output"))); // printf: the writer flushes it
                needRestart(body, err);
                return ExitCodes.FAILED;
            }
            default -> {
                err.printf("rainbowd: %s answered %d: %s%n", client.base(), reply.status(),
                        body.getOrDefault("error", reply.body().strip()));
                return ExitCodes.FAILED;
            }
        }
    }

    /** On stderr, even with --quiet: a changed port that silently waits would be a surprise later. */
    private static void needRestart(Map<String, Object> body, PrintWriter err) {
        if (body.get("needRestart") instanceof List<?> keys && !keys.isEmpty()) {
            err.printf("rainbowd: changed in the config, applied only when rainbowd restarts: %s%n",
                    keys.stream().map(String::valueOf).collect(Collectors.joining(", ")));
        }
    }

    /** Prints what changes in GET /status until the deploy's outcome is known, then (asked to) follows the drain. */
    private static final class Progress {
        private final ControlClient client;
        private final PrintWriter out;
        private final Object oldLive;
        private final boolean waitDrain;
        private String lastLine = "";

        Progress(ControlClient client, PrintWriter out, Map<String, Object> before, boolean waitDrain) {
            this.client = client;
            this.out = out;
            this.waitDrain = waitDrain;
            this.oldLive = before.get("live") instanceof Map<?, ?> live ? live.get("generation") : null;
        }

        void follow(CompletableFuture<ControlClient.Reply> outcome) throws ControlClient.Unreachable {
            while (!outcome.isDone()) {
                if (client.get("/status").json().get("deploying") instanceof Map<?, ?> d) {
                    String phase = String.valueOf(d.get("phase"));
                    print(phase.equals("launching")
                            ? "deploy #" + d.get("id") + ": launching"
                            : "deploy #" + d.get("id") + ": generation " + d.get("generation") + " on port " + d.get("port")
                                    + ", " + phase + (phase.equals("probing") ? " (" + d.get("probes") + " probes)" : ""));
                }
                sleep();
            }
            ControlClient.Reply reply;
            try {
                reply = outcome.join();
            } catch (CompletionException e) {
                return; // reported by the caller
            }
            if (reply.status() != 200 || oldLive == null) return;
            Map<String, Object> body = reply.json();
            print("deploy #" + body.get("deploy") + ": cut over to generation " + body.get("generation"));
            // The deploy's outcome is known at the cutover: CI goes on while old requests finish
            // (an SSE client could hold the drain for drainTimeout).
            if (waitDrain) followDrain();
        }

        /** The generation that was live before: its in-flight requests, then its stop. */
        private void followDrain() throws ControlClient.Unreachable {
            while (true) {
                Map<String, Object> draining = null;
                for (Object o : (List<?>) client.get("/status").json().getOrDefault("draining", List.of())) {
                    if (o instanceof Map<?, ?> g && Objects.equals(g.get("generation"), oldLive)) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> m = (Map<String, Object>) g;
                        draining = m;
                    }
                }
                if (draining == null) {
                    print("generation " + oldLive + " stopped");
                    return;
                }
                Object inFlight = draining.get("inFlight");
                print("generation " + oldLive + (Integer.valueOf(0).equals(inFlight) ? " drained, stopping"
                        : " draining: " + inFlight + " request(s) in flight"));
                sleep();
            }
        }

        private void print(String line) {
            if (line.equals(lastLine)) return;
            lastLine = line;
            out.println(line);
            out.flush();
        }

        private static void sleep() {
            try {
                TimeUnit.MILLISECONDS.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
