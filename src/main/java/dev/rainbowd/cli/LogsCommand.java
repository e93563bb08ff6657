package dev.rainbowd.cli;

import dev.rainbowd.config.ConfigException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "logs", description = {
        "Print what a generation of the app wrote (stdout and stderr), from the daemon's memory: the last",
        "2,000 lines of each of the last 10 generations launched, gone ones too. No journald needed.",
        "Exit 0, 1 when no output is kept for that generation, 2 when the daemon is unreachable."})
final class LogsCommand implements Callable<Integer> {
    /** How often -f asks for more: a person reading, not a log shipper. */
    private static final long FOLLOW_MS = 250;

    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Option(names = {"-g", "--generation"}, paramLabel = "N", description = "which generation (default: the live one, else the newest)")
    long generation;

    @Option(names = {"-n", "--lines"}, paramLabel = "LINES", description = "the last LINES lines (default 100)")
    long lines = 100;

    @Option(names = {"-f", "--follow"}, description = "then print new lines as they come, until the generation's output ends")
    boolean follow;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ControlClient client = new ControlClient(config.orElse(parent.config).control(problem -> {}));
        long after = 0;
        long max = Math.max(0, lines);
        long number = generation;
        try {
            while (true) {
                ControlClient.Reply reply = client.get("/logs?generation=" + number + "&after=" + after + "&lines=" + max);
                if (reply.status() != 200) {
                    err.println("rainbowd: " + reply.json().getOrDefault("error", reply.body().strip()));
                    return ExitCodes.FAILED;
                }
                Map<String, Object> body = reply.json();
                for (Object line : (List<?>) body.get("lines")) out.println(((Map<?, ?>) line).get("text"));
                out.flush();
                if (!follow) return ExitCodes.OK;
                if (Boolean.TRUE.equals(body.get("ended"))) {
                    err.println("rainbowd: generation " + body.get("name") + " has ended");
                    return ExitCodes.OK;
                }
                // Follow this generation, not whichever is live next.
                number = ((Number) body.get("generation")).longValue();
                after = ((Number) body.get("next")).longValue();
                max = Integer.MAX_VALUE;
                TimeUnit.MILLISECONDS.sleep(FOLLOW_MS);
            }
        } catch (ControlClient.Unreachable e) {
            err.println("rainbowd: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        } catch (InterruptedException e) {
            return ExitCodes.OK;
        }
    }
}
