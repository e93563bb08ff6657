package dev.rainbowd.daemon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd (Type=notify) when rainbowd is ready, what it is doing, and that it is stopping.
 * The JDK cannot send on the Unix datagram socket that sd_notify uses, so this runs
 * {@code systemd-notify VAR=value...} (which, since v246, waits until systemd took the message;
 * the unit needs NotifyAccess=all). Without NOTIFY_SOCKET it does nothing at all.
 */
final class SystemdNotify implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);

    private final Path binary;
    private final ExecutorService sender; // one at a time, in order
    private boolean ready;

    private SystemdNotify(Path binary) {
        this.binary = binary;
        this.sender = binary == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "systemd-notify");
            t.setDaemon(true);
            return t;
        });
    }

    static SystemdNotify fromEnvironment(Map<String, String> env) {
        if (env.get("NOTIFY_SOCKET") == null || env.get("NOTIFY_SOCKET").isEmpty()) return new SystemdNotify(null);
        for (String dir : env.getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "systemd-notify");
            if (Files.isExecutable(p)) return new SystemdNotify(p);
        }
        log.warn("NOTIFY_SOCKET is set but systemd-notify is not on PATH: systemd will not hear that rainbowd is ready");
        return new SystemdNotify(null);
    }

    boolean enabled() {
        return binary != null;
    }

    /** READY=1 the first time, with the status line; STATUS= alone afterwards. */
    synchronized void status(String line, boolean live) {
        if (!enabled()) return;
        if (live && !ready) {
            ready = true;
            send(List.of("READY=1", "STATUS=" + line));
        } else {
            send(List.of("STATUS=" + line));
        }
    }

    /** Sent before the shutdown starts, and waited for. */
    void stopping() {
        if (!enabled()) return;
        send(List.of("STOPPING=1", "STATUS=stopping: finishing in-flight requests, stopping generations"));
        sender.shutdown();
        try {
            sender.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(List<String> assignments) {
        List<String> argv = new ArrayList<>();
        argv.add(binary.toString());
        argv.addAll(assignments);
        try {
            sender.execute(() -> {
                try {
                    Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (!p.waitFor(5, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        log.warn("systemd-notify {} did not return within 5 s", assignments.get(0));
                    } else if (p.exitValue() != 0) {
                        log.warn("systemd-notify {} failed with status {}", assignments.get(0), p.exitValue());
                    }
                } catch (Exception e) {
                    log.warn("systemd-notify failed: {}", e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            // stopping already sent: later news is moot
        }
    }

    @Override
    public void close() {
        if (sender != null) sender.shutdownNow();
    }
}
