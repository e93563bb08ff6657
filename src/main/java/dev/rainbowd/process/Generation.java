package dev.rainbowd.process;

import dev.rainbowd.config.AppConfig;
import dev.rainbowd.proxy.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One launched copy of the app: its process tree, port, pidfile and release, and the
 * {@link Backend} the proxy routes to. Created by {@link Launcher}; its lifecycle is driven by the
 * deployer.
 */
public final class Generation {
    private static final Logger log = LoggerFactory.getLogger(Generation.class);

    private final int number;
    private final int port;
    private final Path pidfile;
    private final Path release;
    private final AppConfig app;
    private final Process process;
    private final ProcessTree tree;
    private final Backend backend;
    private final OutputTail output = new OutputTail();
    private final Instant started = Instant.now();
    private final CompletableFuture<Integer> exit;
    private volatile long appPid;            // from the pidfile, once the app wrote it
    private volatile Instant liveSince;
    private volatile boolean pidfileSettled;
    private CompletableFuture<Void> stopped; // guarded by this

    Generation(int number, int port, Path pidfile, Path release, AppConfig app, Process process) {
        this.number = number;
        this.port = port;
        this.pidfile = pidfile;
        this.release = release;
        this.app = app;
        this.process = process;
        this.tree = new ProcessTree(process.toHandle());
        this.backend = new Backend(number, port);
        this.exit = process.onExit().thenApply(Process::exitValue);
    }

    public int number() { return number; }
    public String color() { return Colors.of(number); }
    public int port() { return port; }
    public Path release() { return release; }
    /** The settings it was launched with: its own timeouts, and what a crash restart relaunches. */
    public AppConfig app() { return app; }
    public Backend backend() { return backend; }
    /** The last lines it wrote: what a failed deploy reports of it. */
    public OutputTail output() { return output; }
    public Instant started() { return started; }
    public Instant liveSince() { return liveSince; }

    /** Completes with the exit status of the process rainbowd started. */
    public CompletableFuture<Integer> exit() { return exit; }

    /** True once {@link #stop} was called: an exit after that is not a crash. */
    public synchronized boolean stopRequested() { return stopped != null; }

    /** The app's pid: the pidfile's when the app wrote one that belongs to this tree, else the started process's. */
    public long pid() {
        long p = appPid;
        if (p > 0) return p;
        // An app writes its pidfile as it starts; once it is live and has not, it will not: stop
        // reading a missing file on every status request.
        if (pidfileSettled) return process.pid();
        OptionalLong fromFile = readPidfile();
        if (fromFile.isPresent()) {
            appPid = fromFile.getAsLong();
            return appPid;
        }
        return process.pid();
    }

    /** How the state store records this generation. */
    StateStore.Entry stateEntry() {
        long start = process.toHandle().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        long app = pid(); // the pidfile's, once the app wrote it: the one an orphan cleanup should SIGTERM
        return new StateStore.Entry(number, process.pid(), start, app != process.pid() ? app : 0, port);
    }

    /** Called by the deployer at cutover. */
    public void markLive() {
        pid();
        pidfileSettled = true;
        liveSince = Instant.now();
    }

    /** "3 yellow" */
    public String name() { return number + " " + color(); }

    @Override
    public String toString() {
        return "generation " + name() + " (port " + port + ", pid " + pid() + ")";
    }

    private OptionalLong readPidfile() {
        try {
            String text = Files.readString(pidfile).trim();
            if (text.isEmpty()) return OptionalLong.empty();
            long pid = Long.parseLong(text);
            // A stale or foreign pid is never signalled: it must be one of ours.
            return pid > 0 && tree.contains(pid) ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Stops the generation: its stopSignal (SIGTERM by default) to the app's pid, then SIGKILL to whatever is left of its
     * process tree after {@code timeout}. Idempotent: later calls return the same future.
     */
    public CompletableFuture<Void> stop(Duration timeout, Executor executor) {
        synchronized (this) {
            if (stopped != null) return stopped;
            stopped = new CompletableFuture<>();
        }
        executor.execute(() -> {
            try {
                terminate(timeout);
            } catch (RuntimeException e) {
                log.error("generation {}: stop failed: {}", name(), e.toString());
            } finally {
                deletePidfile();
                stopped.complete(null);
            }
        });
        return stopped;
    }

    private void terminate(Duration timeout) {
        long target = pid();
        long t0 = System.nanoTime();
        log.info("generation {} port {} pid {}: {}", name(), port, target, app.stopSignal());
        int killed = tree.terminate(target, app.stopSignal(), timeout);
        if (killed > 0) {
            log.warn("generation {} port {}: {} process(es) still running after {} ms, SIGKILL", name(), port, killed,
                    timeout.toMillis());
        }
        try {
            exit.get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // reported below as an unknown exit
        }
        log.info("generation {} port {} pid {}: stopped in {} ms (exit {})", name(), port, target,
                (System.nanoTime() - t0) / 1_000_000, exit.isDone() ? exit.join() : "unknown");
    }

    private void deletePidfile() {
        try {
            Files.deleteIfExists(pidfile);
        } catch (IOException e) {
            log.debug("cannot delete {}: {}", pidfile, e.toString());
        }
    }

}
