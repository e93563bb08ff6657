package dev.rainbowd.process;

import dev.rainbowd.config.StopSignal;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes that belong to one generation.
 *
 * <p>Every generation is started in a session of its own ({@code setsid}), so its session id is the
 * pid rainbowd started. Membership is read from {@code /proc/PID/stat}: unlike
 * {@link ProcessHandle#descendants()}, this still finds a worker whose parent already exited and
 * that was re-parented to init, which is exactly the process that would otherwise be leaked.
 */
final class ProcessTree {
    private static final Logger log = LoggerFactory.getLogger(ProcessTree.class);
    private static final Path PROC = Path.of("/proc");
    private static final long POLL_MS = 20;
    private static final long SCAN_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final long session;
    private final ProcessHandle root; // null when it is already gone (an orphaned tree)
    /**
     * Set once the tree was seen empty. From then on its session id and pids may be recycled for
     * unrelated processes, so nothing must match them again.
     */
    private volatile boolean gone;

    ProcessTree(ProcessHandle root) {
        this(root.pid(), root);
    }

    /**
     * The tree of the session that {@code session} led. The caller has checked that {@code root},
     * if alive, is still that process (its start time): a recycled pid is someone else's.
     */
    ProcessTree(long session, ProcessHandle root) {
        this.session = session;
        this.root = root;
    }

    private boolean rootAlive() {
        return root != null && root.isAlive();
    }

    /** The live processes of the tree: the session's members plus the root's descendants. */
    List<ProcessHandle> members() {
        if (gone) return List.of();
        Map<Long, ProcessHandle> found = new LinkedHashMap<>();
        if (rootAlive()) {
            found.put(root.pid(), root);
            root.descendants().forEach(p -> found.put(p.pid(), p));
        }
        if (Files.isDirectory(PROC)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, "[0-9]*")) {
                for (Path dir : dirs) {
                    long pid = Long.parseLong(dir.getFileName().toString());
                    if (found.containsKey(pid)) continue;
                    OptionalLong sid = sessionOf(pid);
                    if (sid.isPresent() && sid.getAsLong() == session) {
                        ProcessHandle.of(pid).ifPresent(p -> found.put(pid, p));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // /proc is a best effort on top of descendants(): a process may vanish mid-scan
            }
        }
        found.values().removeIf(p -> !running(p));
        if (found.isEmpty() && !rootAlive()) gone = true;
        return List.copyOf(found.values());
    }

    boolean contains(long pid) {
        if (gone) return false;
        if (pid == session) return rootAlive();
        OptionalLong sid = sessionOf(pid);
        if (sid.isPresent() && sid.getAsLong() == session) return true;
        return rootAlive() && root.descendants().anyMatch(p -> p.pid() == pid);
    }

    /**
     * {@code signal} to {@code target} (if it is one of ours), then SIGKILL to whatever of the tree is
     * left after {@code timeout}. Returns how many processes had to be killed.
     */
    int terminate(long target, StopSignal signal, Duration timeout) {
        if (contains(target)) ProcessHandle.of(target).ifPresent(p -> send(p, signal));
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ProcessHandle> left = members();
        // Liveness of the known members is cheap; a full scan of /proc (for new children) is not.
        long nextScan = System.nanoTime() + SCAN_EVERY_NANOS;
        // Interrupted (daemon shutting down in a hurry): go straight to SIGKILL.
        while (!left.isEmpty() && System.nanoTime() < deadline && pause(POLL_MS)) {
            left = left.stream().filter(ProcessTree::running).toList();
            if (left.isEmpty() || System.nanoTime() > nextScan) {
                left = members();
                nextScan = System.nanoTime() + SCAN_EVERY_NANOS;
            }
        }
        if (!left.isEmpty()) left = members(); // all of it, just before SIGKILL
        if (left.isEmpty()) return 0;
        left.forEach(ProcessHandle::destroyForcibly);
        // Polled: onExit() of a process that is not our child (re-parented to init) reports late.
        long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        List<ProcessHandle> dying = left;
        while (!(dying = dying.stream().filter(ProcessTree::running).toList()).isEmpty()
                && System.nanoTime() < killDeadline && pause(5)) {
            // SIGKILL cannot be caught: this is only the kernel tearing them down
        }
        return left.size();
    }

    /**
     * The JDK sends only SIGTERM and SIGKILL; any other signal goes through the shell's kill
     * builtin (/bin/sh is what runs every generation anyway). A stop is rare: one fork is nothing.
     */
    static void send(ProcessHandle p, StopSignal signal) {
        if (signal == StopSignal.TERM) {
            p.destroy();
            return;
        }
        try {
            Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal.name() + " \"$1\"", "rainbowd-stop",
                    Long.toString(p.pid())).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!kill.waitFor(5, TimeUnit.SECONDS)) kill.destroyForcibly();
        } catch (IOException e) {
            log.warn("cannot send {} to pid {} ({}); SIGKILL follows after stopTimeout", signal, p.pid(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean pause(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Alive and not a zombie. A killed process re-parented to an init that reaps slowly stays a
     * zombie for a while; it holds no port and runs no code, so waiting for it is pointless.
     */
    static boolean running(ProcessHandle p) {
        if (!p.isAlive()) return false;
        String[] f = stat(p.pid());
        return f == null || !f[0].equals("Z");
    }

    /** The session id (field 6 of /proc/PID/stat), if the process exists. */
    static OptionalLong sessionOf(long pid) {
        String[] f = stat(pid);
        try {
            return f == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(f[3]));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Fields 3 and on of /proc/PID/stat (state, ppid, pgrp, session, ...), or null. */
    private static String[] stat(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            // comm (field 2) is in parentheses and may hold spaces: count fields after the last ')'
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
