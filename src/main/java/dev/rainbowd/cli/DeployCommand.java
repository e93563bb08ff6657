package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A deploy asked of the running daemon (redeploy, rollback), told as a user reads it, with its exit code. */
abstract class DeployCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Option(names = "--no-wait", description = "return once the deploy is queued")
    boolean noWait;

    @Option(names = {"-q", "--quiet"}, description = "print nothing but errors (the exit code tells)")
    boolean quiet;

    @Spec
    CommandSpec spec;

    /** The control API path: /redeploy or /rollback. */
    abstract String path();

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = quiet ? new PrintWriter(java.io.Writer.nullWriter()) : spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Config c = config.orElse(parent.config).load();
        ControlClient client = new ControlClient(c);
        try {
            ControlClient.Reply reply = client.post(noWait ? path() : path() + "?wait=true");
            Map<String, Object> body = reply.json();
            switch (reply.status()) {
                case 200 -> {
                    out.printf("deploy #%s: live, generation %s on port %s (%s ms)%n",
                            body.get("deploy"), body.get("generation"), body.get("port"), body.get("durationMs"));
                    return ExitCodes.OK;
                }
                case 202 -> {
                    out.printf("deploy #%s: %s%n", body.get("deploy"), body.get("state"));
                    return ExitCodes.OK;
                }
                case 500 -> {
                    err.printf("rainbowd: deploy #%s failed: %s%n", body.get("deploy"), body.get("reason"));
                    return ExitCodes.FAILED;
                }
                default -> {
                    err.printf("rainbowd: %s answered %d: %s%n", client.base(), reply.status(),
                            body.getOrDefault("error", reply.body().strip()));
                    return ExitCodes.FAILED;
                }
            }
        } catch (ControlClient.Unreachable e) {
            err.println("rainbowd: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        }
    }
}
