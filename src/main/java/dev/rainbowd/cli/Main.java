package dev.rainbowd.cli;

import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/** {@code rainbowd [run] | check | redeploy | rollback | status | help}: without a subcommand, runs the daemon. */
@Command(name = "rainbowd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs a web app behind a proxy and redeploys it with zero downtime.",
        subcommands = {RunCommand.class, CheckCommand.class, RedeployCommand.class, RollbackCommand.class, StatusCommand.class,
                LogsCommand.class, HelpCommand.class})
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
            err.println("rainbowd: " + usageError(e) + " (see rainbowd --help)");
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

    /**
     * picocli's message, but a word where a command was expected (a typo, {@code rainbowd start})
     * names the commands there are, and the one meant when it is close.
     */
    private static String usageError(ParameterException e) {
        CommandLine where = e.getCommandLine();
        if (e instanceof UnmatchedArgumentException u && !where.getSubcommands().isEmpty()
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            String word = u.getUnmatched().get(0);
            // picocli's suggestions are generous ("bogus": status): only a typo's worth of edits away.
            List<String> close = u.getSuggestions().stream().filter(where.getSubcommands()::containsKey)
                    .filter(c -> ConfigLoader.distance(word, c) <= Math.max(1, c.length() / 3)).toList();
            return "unknown command \"" + word + "\"; "
                    + (close.isEmpty() ? "" : "did you mean \"" + close.get(0) + "\"? ")
                    + "the commands are " + String.join(", ", where.getSubcommands().keySet());
        }
        return e.getMessage();
    }

    /** {@code rainbowd 0.1.0 (commit 8b616cc1d2e3)}: the build filled in version.properties (pom.xml). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/dev/rainbowd/version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {describe(p)};
        }

        /** A value the build did not fill in (a build outside git, a run from an IDE's classes) is unknown. */
        static String describe(Properties p) {
            return "rainbowd " + known(p.getProperty("version")) + " (commit " + known(p.getProperty("commit")) + ")";
        }

        private static String known(String value) {
            return value == null || value.isBlank() || value.contains("${") ? "unknown" : value.strip();
        }
    }
}
