package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Config c = config.orElse(parent.config).load();
        try {
            ControlClient.Reply reply = new ControlClient(c).get("/status");
            if (reply.status() != 200) {
                err.printf("rainbowd: status answered %d: %s%n", reply.status(), reply.body().strip());
                return ExitCodes.FAILED;
            }
            out.print(json ? reply.body() : table(reply.json()));
            out.flush();
            return ExitCodes.OK;
        } catch (ControlClient.Unreachable e) {
            err.println("rainbowd: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        }
    }

    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> s) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"STATE", "GEN", "COLOR", "PORT", "PID", "IN-FLIGHT", "SINCE", "RELEASE"});
        if (s.get("live") instanceof Map<?, ?> live) rows.add(row("live", (Map<String, Object>) live));
        for (Object d : (List<Object>) s.getOrDefault("draining", List.of())) {
            rows.add(row("draining", (Map<String, Object>) d));
        }
        if (s.get("deploying") instanceof Map<?, ?> d) {
            rows.add(new String[] {"starting", str(d.get("generation")), "", str(d.get("port")), "", "",
                    str(d.get("since")), "deploy #" + d.get("id") + " " + d.get("phase")});
        }
        StringBuilder out = new StringBuilder();
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) line.append(String.format("%-" + (width[i] + 2) + "s", r[i]));
            out.append(line.toString().stripTrailing()).append('\n');
        }
        if (s.get("live") == null) out.append("no live generation\n");
        if (s.get("restarting") instanceof Map<?, ?> r) {
            out.append("crash loop: restart ").append(r.get("attempt")).append(" at ").append(r.get("at")).append('\n');
        }
        if (s.get("lastDeploy") instanceof Map<?, ?> last) {
            out.append("last deploy: #").append(last.get("id")).append(' ').append(last.get("state"))
                    .append(" (").append(last.get("trigger")).append(", ").append(last.get("durationMs")).append(" ms)");
            if (last.get("reason") != null) out.append(": ").append(last.get("reason"));
            out.append('\n');
        }
        return out.toString();
    }

    private static String[] row(String state, Map<String, Object> g) {
        return new String[] {state, str(g.get("generation")), str(g.get("color")), str(g.get("port")),
                str(g.get("pid")), str(g.get("inFlight")), str(g.get("since")), str(g.get("release"))};
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }
}
