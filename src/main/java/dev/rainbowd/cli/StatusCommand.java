package dev.rainbowd.cli;

import dev.rainbowd.config.ConfigException;
import dev.rainbowd.control.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "status", description = "Print the running daemon's generations and last deploy.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Option(names = "--json", description = "print the JSON of GET /status")
    boolean json;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", paramLabel = "SECONDS",
            description = "refresh every SECONDS (default 2) until interrupted; while the daemon is down (a restart), "
                    + "says it is unreachable and keeps trying")
    Integer watch;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ControlClient client = new ControlClient(config.orElse(parent.config).control(problem ->
                err.println("rainbowd: warning: " + problem.getMessage() + " (the next deploy will fail with this)")));
        boolean ansi = Ansi.AUTO.enabled();
        Instant unreachableSince = null;
        try {
            while (true) {
                String screen;
                try {
                    ControlClient.Reply reply = client.get("/status");
                    if (reply.status() != 200) {
                        err.printf("rainbowd: status answered %d: %s%n", reply.status(), reply.body().strip());
                        return ExitCodes.FAILED;
                    }
                    unreachableSince = null;
                    screen = json ? reply.body() : table(reply.json(), Instant.now(), ansi);
                } catch (ControlClient.Unreachable e) {
                    if (watch == null) {
                        err.println("rainbowd: " + e.getMessage());
                        return ExitCodes.UNREACHABLE;
                    }
                    if (Thread.currentThread().isInterrupted()) return ExitCodes.OK;
                    // A watch outlives the daemon's restarts: it says so, and shows the daemon again once it answers.
                    if (unreachableSince == null) unreachableSince = Instant.now();
                    screen = unreachable(e.getMessage(), unreachableSince, Instant.now());
                }
                if (watch != null && ansi) out.print("\033[H\033[2J"); // clear the screen between refreshes
                out.print(screen);
                if (!screen.endsWith("\n")) out.println();
                out.flush();
                if (watch == null) return ExitCodes.OK;
                Thread.sleep(Math.max(1, watch) * 1000L);
                if (!ansi && !json) out.println();
            }
        } catch (InterruptedException e) {
            return ExitCodes.OK;
        }
    }

    /** What a watch shows while the daemon does not answer: a line, or with --json an object like the API's errors. */
    private String unreachable(String why, Instant since, Instant now) {
        if (json) return Json.write(Map.of("error", why, "unreachableSince", since.toString())) + "\n";
        return "unreachable for " + age(since.toString(), now) + ": " + why + "\n";
    }

    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> s, Instant now, boolean ansi) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"STATE", "GEN", "COLOR", "PORT", "PID", "IN-FLIGHT", "TUNNELS", "AGE", "CONFIG", "CONFIG-READ", "RELEASE"});
        if (s.get("live") instanceof Map<?, ?> live) rows.add(row("live", (Map<String, Object>) live, now));
        for (Object d : (List<Object>) s.getOrDefault("draining", List.of())) {
            rows.add(row("draining", (Map<String, Object>) d, now));
        }
        if (s.get("deploying") instanceof Map<?, ?> d) {
            Object pid = d.get("pid");
            rows.add(new String[] {"starting", str(d.get("generation")), "", str(d.get("port")),
                    pid == null || Integer.valueOf(0).equals(pid) ? "" : str(pid), "", "", age(d.get("since"), now), "", "",
                    "deploy #" + d.get("id") + " " + d.get("phase") + " (" + d.get("trigger") + ")"
                            + (d.get("lastProbe") == null ? "" : ", last probe: " + d.get("lastProbe"))});
        }
        StringBuilder out = new StringBuilder();
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                String cell = String.format("%-" + (width[i] + 2) + "s", r[i]);
                // The colour column in its colour, on a terminal: the names are what people remember.
                line.append(ansi && i == 2 && r != rows.get(0) ? paint(r[i], cell) : cell);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        if (s.get("live") == null) out.append("no live generation\n");
        if (s.get("restarting") instanceof Map<?, ?> r) {
            out.append("start-retry".equals(r.get("trigger")) ? "start failed: retry " : "crash loop: restart ")
                    .append(r.get("attempt")).append(" at ").append(r.get("at")).append('\n');
        }
        if (s.get("releases") instanceof List<?> releases && releases.size() > 1) {
            // Where `rainbowd rollback` goes: the first one after the newest.
            out.append("releases, newest first: ").append(releases.stream().map(String::valueOf).collect(Collectors.joining(", ")))
                    .append('\n');
        }
        if (s.get("lastDeploy") instanceof Map<?, ?> last) {
            out.append("last deploy: #").append(last.get("id")).append(' ').append(last.get("state"))
                    .append(" (").append(last.get("trigger")).append(", ").append(last.get("durationMs")).append(" ms, ")
                    .append(age(last.get("finished"), now)).append(" ago)");
            if (last.get("reason") != null) out.append(": ").append(last.get("reason"));
            out.append('\n');
            if ("failed".equals(last.get("state"))) out.append(output(last.get("output")));
            if (last.get("needRestart") instanceof List<?> keys && !keys.isEmpty()) {
                out.append("changed in the config, waiting for a restart of rainbowd: ")
                        .append(keys.stream().map(String::valueOf).collect(Collectors.joining(", "))).append('\n');
            }
        }
        return out.toString();
    }

    /** A failed generation's last lines, under the failure: "its last output:", then each line indented. */
    static String output(Object lines) {
        if (!(lines instanceof List<?> list) || list.isEmpty()) return "";
        StringBuilder b = new StringBuilder("its last output:\n");
        list.forEach(line -> b.append("  | ").append(line).append('\n'));
        return b.toString();
    }

    private static String[] row(String state, Map<String, Object> g, Instant now) {
        return new String[] {state, str(g.get("generation")), str(g.get("color")), str(g.get("port")),
                str(g.get("pid")), str(g.get("inFlight")), str(g.get("tunnels")), age(g.get("since"), now), str(g.get("config")),
                age(g.get("configRead"), now), str(g.get("release"))};
    }

    /** 5s, 3m12s, 2h05m, 3d04h: how long ago an ISO instant was. */
    static String age(Object since, Instant now) {
        if (since == null) return "";
        long s;
        try {
            s = Math.max(0, Duration.between(Instant.parse(since.toString()), now).getSeconds());
        } catch (DateTimeParseException e) {
            return since.toString();
        }
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m" + String.format("%02d", s % 60) + "s";
        if (s < 86400) return s / 3600 + "h" + String.format("%02d", s % 3600 / 60) + "m";
        return s / 86400 + "d" + String.format("%02d", s % 86400 / 3600) + "h";
    }

    private static final Map<String, Integer> ANSI = Map.of("red", 196, "orange", 208, "yellow", 226, "green", 46,
            "blue", 33, "indigo", 63, "violet", 177);

    private static String paint(String color, String cell) {
        Integer code = ANSI.get(color);
        if (code == null) return cell;
        return "\033[38;5;" + code + "m" + color + "\033[0m" + cell.substring(color.length());
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }
}
