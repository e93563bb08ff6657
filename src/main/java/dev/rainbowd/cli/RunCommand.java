package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.daemon.Daemon;
import dev.rainbowd.daemon.Signals;
import dev.rainbowd.deploy.Trigger;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "run", description = "Run the daemon in the foreground (the default command).")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Spec
    CommandSpec spec;

    @Mixin
    LogFormatting logFormat;

    @Override
    public Integer call() throws ConfigException {
        logFormat.apply();
        return run(config.orElse(parent.config), spec.commandLine().getErr());
    }

    static int run(ConfigOption option, PrintWriter err) throws ConfigException {
        Config config = option.load();
        // Taken over before the first generation starts: a SIGTERM during start-up is a clean stop too.
        CountDownLatch stopRequested = new CountDownLatch(1);
        AtomicReference<Daemon> running = new AtomicReference<>();
        Signals.on("TERM", stopRequested::countDown);
        Signals.on("INT", stopRequested::countDown);
        // `systemctl reload` / `kill -HUP`: redeploy (the JVM's default would be to exit).
        Signals.on("HUP", () -> {
            Daemon d = running.get();
            if (d != null) d.deployer().request(Trigger.SIGHUP);
        });
        Daemon daemon;
        try {
            daemon = Daemon.start(config);
        } catch (Daemon.StartupException e) {
            err.println("rainbowd: " + e.getMessage());
            return ExitCodes.FAILED;
        }
        running.set(daemon);
        markStarted();
        // Any other way out of the JVM still stops the generations: no backend outlives us.
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "shutdown-hook"));
        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        daemon.close();
        return ExitCodes.OK;
    }

    /**
     * Tells the launcher this run started: it maps only the AppCDS archive of a run that did (the
     * JVM writes one at any exit, and one from a run that failed at start-up holds few classes).
     */
    private static void markStarted() {
        String marker = System.getProperty("rainbowd.cdsMarker");
        if (marker == null) return;
        try {
            Files.writeString(Path.of(marker), "");
        } catch (IOException | RuntimeException e) { // then the archive is written again next time: no harm
            org.slf4j.LoggerFactory.getLogger(RunCommand.class).debug("cannot mark the AppCDS archive {}: {}", marker, e.toString());
        }
    }
}
