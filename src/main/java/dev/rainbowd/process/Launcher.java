package dev.rainbowd.process;

import dev.rainbowd.config.AppConfig;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts generations: {@code /bin/sh -c RUN run PORT PIDFILE} in a session of its own, with
 * the app's output passed to our log line by line, and its last lines kept for a failure's reason.
 */
public final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);
    private static final Logger appLog = LoggerFactory.getLogger("app");

    /** {@code $1}, {@code ${2}}, {@code $PORT}, {@code ${PIDFILE:-x}}: the run line places the arguments itself. */
    private static final Pattern REFERENCES =
            Pattern.compile("\\$\\{?[12]|\\$\\{?(PORT|PIDFILE)(?![A-Za-z0-9_])");
    private static final Path SETSID = findSetsid();
    /**
     * Ignored signals stay ignored across fork and exec, and no shell can undo it: rainbowd started
     * as a background job of a script (SIGINT and SIGQUIT ignored) would give every app a deaf ear
     * to its stopSignal, and waitress (INT) would only ever stop by SIGKILL. coreutils' env (8.31+)
     * resets them; without it, apps get what rainbowd got.
     */
    private static final List<String> DEFAULT_SIGNALS = defaultSignals();
    private static final List<String> SYSTEMD_VARIABLES = List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
            "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");

    private final Path stateDir;
    private final String daemonId;

    /**
     * What to launch comes with each launch; the launcher knows where pidfiles go, and the id it
     * marks every generation's environment with (see {@link StateStore#stopOrphans}).
     */
    public Launcher(Path stateDir, String daemonId) {
        this.stateDir = stateDir;
        this.daemonId = daemonId;
    }

    /**
     * The shell's {@code $0}: it starts the shell's own messages, and the only way to fix those is
     * in the {@code run} key, so {@code run: 1: exec: gunicorrn: not found} reads as line 1 of it
     * (as {@code rainbowd: 1: ...} it read as rainbowd's own error). The generation is named by the
     * log's prefix and by the failure that quotes the line.
     */
    static final String SHELL_NAME = "run";

    /** The argv rainbowd executes for a run line, port and pidfile. */
    static List<String> command(String run, int port, Path pidfile) {
        // The original appended port and pidfile to the command: keep that for run lines that
        // don't place them (`sh run.sh`), without letting the shell re-split them.
        String script = REFERENCES.matcher(run).find() ? run : run + " \"$@\"";
        List<String> argv = new ArrayList<>();
        if (SETSID != null) {
            argv.add(SETSID.toString());
        }
        argv.addAll(DEFAULT_SIGNALS);
        argv.addAll(List.of("/bin/sh", "-c", script, SHELL_NAME, Integer.toString(port), pidfile.toString()));
        return argv;
    }

    /** Launches generation {@code number} of {@code app} in {@code release}, on a free port not in {@code busy}. */
    public Generation launch(int number, AppConfig app, Path release, Set<Integer> busy) throws IOException {
        int port = freePort(busy);
        Path pidfile = stateDir.resolve("generation-" + number + ".pid");
        Files.deleteIfExists(pidfile);
        ProcessBuilder pb = new ProcessBuilder(command(app.run(), port, pidfile))
                .directory(release.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> environment = pb.environment();
        // systemd's messages are rainbowd's: an app that notifies (gunicorn does) would tell systemd
        // READY before it is healthy, or STOPPING for us. Socket activation is not passed on either.
        for (String var : SYSTEMD_VARIABLES) environment.remove(var);
        environment.putAll(app.env());
        environment.put("PORT", Integer.toString(port));
        environment.put("PIDFILE", pidfile.toString());
        environment.put("RAINBOW_GENERATION", Integer.toString(number));
        environment.put(StateStore.DAEMON_ID, daemonId);
        Process process = pb.start();
        Generation gen = new Generation(number, port, pidfile, release, app, process);
        pump(gen, process);
        log.info("generation {} port {} pid {}: launched in {} (config {})", gen.name(), port, process.pid(), release, app.digest());
        return gen;
    }

    private static void pump(Generation gen, Process process) {
        String prefix = "[" + gen.name() + "] ";
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    appLog.info("{}{}", prefix, line);
                    gen.output().add(line);
                }
            } catch (IOException e) {
                // the process and everything that held its output are gone
            } finally {
                gen.output().end();
            }
        }, "gen-" + gen.number() + "-output");
        t.setDaemon(true);
        t.start();
    }

    /**
     * What the shell's own exit statuses mean: 127, a command of the run line was not found; 126,
     * found but not executable. Neither is a port race, and a relaunch would fail the same way.
     */
    public static Optional<String> notRunnable(int status) {
        return switch (status) {
            case 127 -> Optional.of("a command in `run` was not found");
            case 126 -> Optional.of("a command in `run` is not executable");
            default -> Optional.empty();
        };
    }

    /** Asks the kernel for a free port. Another process may still take it first: see launchAttempts. */
    static int freePort(Set<Integer> busy) throws IOException {
        for (int i = 0; i < 100; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = s.getLocalPort();
                if (!busy.contains(port)) return port;
            }
        }
        throw new IOException("no free port on 127.0.0.1");
    }

    private static List<String> defaultSignals() {
        String env = "/usr/bin/env";
        String option = "--default-signal=TERM,QUIT,INT,HUP,USR1,USR2,WINCH";
        try {
            Process p = new ProcessBuilder(env, option, "true").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) return List.of(env, option);
            p.destroyForcibly();
        } catch (IOException e) {
            // no such env: below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.debug("env --default-signal is not available: apps inherit rainbowd's ignored signals");
        return List.of();
    }

    private static Path findSetsid() {
        for (String p : List.of("/usr/bin/setsid", "/bin/setsid")) {
            Path path = Path.of(p);
            if (Files.isExecutable(path)) return path;
        }
        log.warn("setsid not found: stopping a generation will only reach the processes it started directly");
        return null;
    }
}
