package dev.rainbowd.cli;

import dev.rainbowd.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code rainbowd [run] | check | redeploy | rollback | status}: without a subcommand, runs the daemon. */
@Command(name = "rainbowd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs a web app behind a proxy and redeploys it with zero downtime.",
        subcommands = {RunCommand.class, CheckCommand.class, RedeployCommand.class, RollbackCommand.class, StatusCommand.class,
                LogsCommand.class})
public final class Main implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Mixin
    LogFormatting logFormat;

    @Override
    public Integer call() throws ConfigException {
        logFormat.apply();
        return RunCommand.run(config, spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line and returns its exit code (tests call this directly). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(e -> ExitCodes.FAILED);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("rainbowd: " + e.getMessage() + " (see rainbowd --help)");
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            if (e instanceof ConfigException) {
                // Bad input is one line naming file, key and value: never a stack trace.
                err.println("rainbowd: " + e.getMessage());
                return ExitCodes.CONFIG;
            }
            err.println("rainbowd: " + e);
            return ExitCodes.FAILED;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/dev/rainbowd/version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"rainbowd " + p.getProperty("version", "unknown")};
        }
    }
}
