package dev.rainbowd.deploy;

import dev.rainbowd.config.AppConfig;
import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigSource;
import dev.rainbowd.config.DaemonConfig;
import dev.rainbowd.config.Durations;
import dev.rainbowd.config.Readiness;
import dev.rainbowd.health.HealthProbe;
import dev.rainbowd.process.Generation;
import dev.rainbowd.process.Launcher;
import dev.rainbowd.process.StateStore;
import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.ProxySettings;
import dev.rainbowd.proxy.TrafficSwitch;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that changes what runs. Deploys run one at a time on the deployer thread;
 * triggers that arrive meanwhile coalesce into one pending deploy. All state below is guarded by
 * {@code this}; the proxy only ever reads the {@link TrafficSwitch}.
 *
 * <p>Each deploy reads the config file afresh and launches what it says ({@link AppConfig});
 * what the daemon bound at start ({@link DaemonConfig}) stays until a restart. The timeouts and
 * limits in force are those of the live generation's config: they change at its cutover.
 */
public final class Deployer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Deployer.class);

    private final DaemonConfig daemon;
    private final ConfigSource source;
    private final Launcher launcher;
    private final HealthProbe probe;
    private final TrafficSwitch traffic;
    private final Set<Integer> reservedPorts;
    private final Instant started = Instant.now();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(threads("deployer"));
    private final ExecutorService stopper = Executors.newCachedThreadPool(threads("stopper"));
    /** Writes the launched generations to disk, in the order of the changes, off the lock. */
    private final ExecutorService stateWriter = Executors.newSingleThreadExecutor(threads("state"));
    private final StateStore store;
    /** Launched and not yet completely stopped: what the state store records. */
    private final Set<Generation> running = new LinkedHashSet<>();
    /** The output of the last {@link #OUTPUTS_KEPT} generations launched, gone ones too: why did it die? */
    private final Map<Integer, GenerationOutput> outputs = new LinkedHashMap<>();
    private static final int OUTPUTS_KEPT = 10;
    /** Every stop under way: shutdown waits for all of them, whatever started them. */
    private final Set<CompletableFuture<Void>> stopping = ConcurrentHashMap.newKeySet();

    private Generation live;
    private final List<Generation> draining = new ArrayList<>();
    private Generation starting;
    private Pending pending;
    private DeployProgress deploying;
    private Instant deployStarted; // of the deploy under way: status shows since when
    private DeployResult last;
    /** The releases that went live, newest first: where a rollback goes. */
    private final ReleaseHistory releases = new ReleaseHistory();
    /** The release link's state the last deploy that read it deployed, and that deploy: one swap, one deploy. */
    private SwapDeploy lastSwap;
    /** What the daemon started with: the config in force until a generation goes live. */
    private final AppConfig startup;
    /**
     * The last generation that went live, or null: its config's timeouts and limits are in force,
     * and its config and release are what a crash restart relaunches.
     */
    private Generation lastLive;
    private int crashRestarts;    // restarts since a generation last stayed up for STABLE
    private Instant nextRestart;  // when the scheduled crash restart is due, or null
    /** Crash restarts back off 1 s, 2 s, 4 s ... up to this, so a crash loop never spins the CPU. */
    private static final Duration MAX_RESTART_DELAY = Duration.ofSeconds(30);
    /** A generation live this long ends a crash loop: its crash restarts at once again. */
    private static final Duration STABLE = Duration.ofSeconds(10);
    /**
     * How long a failed generation's last lines may take to come through its pipe once its tree is
     * stopped; only a process that left its session keeps the pipe open that long.
     */
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(1);
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(threads("restart-timer"));
    private long nextDeploy = 1;
    private int nextGeneration = 1;
    private boolean closed;

    /** The deploy that starts after the current one. Coalesced requests update it: the newest intent wins. */
    private static final class Pending {
        final long id;
        final CompletableFuture<DeployResult> result = new CompletableFuture<>();
        Trigger trigger;
        Path release; // a rollback's release; null: the current release (workingDir or the link's target)
        /** Only if the release link changed since the last deploy that read it: else that deploy's outcome is this one's. */
        boolean ifChanged;
        int coalesced;
        boolean hopeless; // it failed in a way a retry would repeat (a command not found): no restart follows

        Pending(long id, Trigger trigger, Path release, boolean ifChanged) {
            this.id = id;
            this.trigger = trigger;
            this.release = release;
            this.ifChanged = ifChanged;
        }
    }

    /**
     * A deploy of one state of the release link with one config (its digest), under way or done:
     * a fixed config is a new deploy of the same swap.
     */
    private record SwapDeploy(ReleaseSwap swap, String config, long id, CompletableFuture<DeployResult> result) {}

    /** What the deployer tells the rest of the daemon (status for systemd, metrics). Called outside the lock. */
    public interface Listener {
        /** A deploy ended (live or failed). */
        default void deployed(DeployResult result) {}

        /** A health probe is about to be sent. */
        default void probing() {}

        /** The live generation died. */
        default void crashed() {}
    }

    private volatile Listener listener = new Listener() {};

    public void listener(Listener listener) {
        this.listener = listener;
    }

    /** The backends of the live and draining generations. */
    public synchronized List<Backend> backends() {
        List<Backend> all = new ArrayList<>();
        if (live != null) all.add(live.backend());
        draining.forEach(g -> all.add(g.backend()));
        return all;
    }

    /** {@code config} is what the daemon started with; {@code source} reads the file again for each deploy. */
    public Deployer(Config config, ConfigSource source, Launcher launcher, HealthProbe probe, TrafficSwitch traffic,
            StateStore store) {
        this.daemon = config.daemon();
        this.source = source;
        this.startup = config.app();
        this.store = store;
        this.launcher = launcher;
        this.probe = probe;
        this.traffic = traffic;
        this.reservedPorts = Set.of(daemon.port(), daemon.controlPort());
        applyToTraffic(startup);
    }

    /** The proxy's share of the config in force: set at start and at each cutover. */
    private void applyToTraffic(AppConfig app) {
        traffic.settings(new ProxySettings(app.queueTimeout(), app.tunnelIdleTimeout(), trusted(app),
                app.upstreamKeepAliveAll(), app.buffering()));
    }

    private static Predicate<InetAddress> trusted(AppConfig app) {
        return peer -> app.trustedProxies().stream().anyMatch(r -> r.contains(peer));
    }

    /** The config whose timeouts and limits are in force: the live generation's. */
    public synchronized AppConfig inForce() {
        return lastLive == null ? startup : lastLive.app();
    }

    /**
     * Asks for a deploy. If one is already waiting to start, this request joins it: however many
     * triggers arrive during a deploy, one more deploy follows it, with the newest code.
     */
    public DeployTicket request(Trigger trigger) {
        // A swap of the link is deployed once, whoever notices it (the watcher, CI's --if-changed).
        return enqueue(trigger, null, trigger == Trigger.RELEASE_LINK);
    }

    /**
     * Asks for a deploy of the release the link points to now, unless a deploy of this very swap
     * is under way (then its ticket), or done with the config as it reads now (then that deploy's
     * outcome, failed or live: the deploy decides, having read the config). So CI's swap followed
     * by {@code rainbowd redeploy --if-changed} deploys once, whichever of the two is seen first,
     * and again once the config is fixed. Without a release link, a plain deploy.
     */
    public synchronized DeployTicket requestIfChanged(Trigger trigger) {
        if (daemon.releaseLink().isPresent() && lastSwap != null && !lastSwap.result().isDone()) {
            try {
                Path link = daemon.releaseLink().get();
                if (ReleaseSwap.of(link, link.toRealPath()).equals(lastSwap.swap())) {
                    return new DeployTicket(lastSwap.id(), lastSwap.result());
                }
            } catch (IOException e) {
                // a missing link: the deploy reports it
            }
        }
        return enqueue(trigger, null, daemon.releaseLink().isPresent());
    }

    /** Asks for a deploy of the most recent release that differs from the live one; empty when there is none. */
    public synchronized Optional<DeployTicket> rollback() {
        return releases.rollbackTarget().map(r -> enqueue(Trigger.ROLLBACK, r, false));
    }

    /** Why there is nothing to roll back to. */
    public synchronized String noRollback() {
        List<Path> all = releases.list();
        return all.isEmpty() ? "nothing to roll back to: no generation has gone live yet"
                : "nothing to roll back to: every generation so far ran " + all.get(0);
    }

    private synchronized DeployTicket enqueue(Trigger trigger, Path release, boolean ifChanged) {
        if (closed) {
            return new DeployTicket(0, CompletableFuture.completedFuture(new DeployResult(
                    0, false, trigger, 0, 0, "rainbowd is shutting down", null, null, List.of(), Duration.ZERO, Instant.now(), List.of())));
        }
        if (pending != null) {
            pending.coalesced++;
            // A person's (or CI's) request is the newest intent; our own crash restart only needs
            // *a* deploy, so it must not turn a queued rollback into a plain redeploy.
            if (!trigger.restart()) {
                pending.trigger = trigger;
                pending.release = release;
                pending.ifChanged &= ifChanged; // one request for a deploy whatever the link says is enough
            }
            return new DeployTicket(pending.id, pending.result);
        }
        Pending p = new Pending(nextDeploy++, trigger, release, ifChanged);
        pending = p;
        log.info("deploy #{} ({}): queued", p.id, trigger);
        worker.execute(this::runPending);
        return new DeployTicket(p.id, p.result);
    }

    public synchronized Status status() {
        List<GenerationStatus> drainingNow = draining.stream().map(this::describe).toList();
        return new Status(live == null ? null : describe(live), drainingNow, deploying, pending != null,
                last, nextRestart == null ? null : new Status.Restart(crashRestarts, nextRestart, restartTrigger()),
                releases.list().stream().map(Path::toString).toList(), Duration.between(started, Instant.now()));
    }

    /**
     * The output of generation {@code number}, or with 0 of the live one (else the newest launched);
     * empty when it is not among the last ones launched.
     */
    public synchronized Optional<GenerationOutput> output(int number) {
        if (number == 0 && live != null) number = live.number();
        if (number == 0) return outputs.values().stream().reduce((a, b) -> b);
        return Optional.ofNullable(outputs.get(number));
    }

    /** The generations whose output is kept, oldest first. */
    public synchronized List<Integer> outputsKept() {
        return List.copyOf(outputs.keySet());
    }

    /** Number of generations alive or being stopped, the one being deployed included. */
    public synchronized int generationCount() {
        return (live == null ? 0 : 1) + draining.size() + (starting == null ? 0 : 1);
    }

    private GenerationStatus describe(Generation g) {
        Instant since = g.liveSince() != null ? g.liveSince() : g.started();
        return new GenerationStatus(g.number(), g.color(), g.port(), g.pid(), g.release().toString(), since,
                g.backend().inFlight(), g.backend().tunnels(), g.app().digest(), g.app().read());
    }

    private void runPending() {
        Pending p;
        Trigger trigger;
        Path rollbackTo;
        synchronized (this) {
            p = pending;
            pending = null;
            if (p == null) return;
            trigger = p.trigger;
            rollbackTo = p.release;
            if (trigger.restart() && live != null) {
                // Someone deployed since the crash: nothing to restart.
                DeployResult skipped = new DeployResult(p.id, true, trigger, live.number(), live.port(),
                        "generation " + live.name() + " is live already", live.release().toString(), null, List.of(), Duration.ZERO,
                        Instant.now(), List.of());
                last = skipped;
                p.result.complete(skipped);
                return;
            }
            deployStarted = Instant.now();
            deploying = new DeployProgress(p.id, trigger, 0, 0, 0, "launching", 0, null, deployStarted);
        }
        if (p.coalesced > 0) log.info("deploy #{} ({}): {} more trigger(s) coalesced into it", p.id, p.trigger, p.coalesced);
        long t0 = System.nanoTime();
        DeployResult result;
        try {
            result = deploy(p, trigger, rollbackTo, t0);
        } catch (RuntimeException e) {
            log.error("deploy #{} failed unexpectedly", p.id, e);
            result = failed(p, trigger, t0, 0, 0, "internal error: " + e);
        }
        if (result.id() != p.id) { // this swap was deployed already: its outcome is ours, not a second deploy
            synchronized (this) {
                deploying = null;
            }
            log.info("deploy #{} ({}): release {} was deployed by deploy #{} already ({})", p.id, trigger, result.release(),
                    result.id(), result.state());
            p.result.complete(result);
            return;
        }
        synchronized (this) {
            deploying = null;
            last = result;
            // A deploy failed and nothing is live (the app dies at start, its database is not up
            // yet at boot, a redeploy after a crash failed): try again, later each time. Not a
            // command that is not there: it would fail the same way every time, until someone fixes it.
            if (!result.live() && live == null && !p.hopeless) scheduleCrashRestart();
        }
        if (result.live() && result.reason() != null) {
            log.info("deploy #{} ({}): nothing to do, {}", p.id, trigger, result.reason());
        } else if (result.live()) {
            log.info("deploy #{} ({}): generation {} live on port {} after {} ms{}", p.id, trigger,
                    result.generation(), result.port(), result.duration().toMillis(), result.note() == null ? "" : "; " + result.note());
        } else {
            log.error("deploy #{} ({}): failed after {} ms: {}{}", p.id, trigger, result.duration().toMillis(), result.reason(),
                    quoted(result));
        }
        // Listener first: whoever waits on the result (redeploy?wait=true) may read /metrics next.
        listener.deployed(result);
        p.result.complete(result);
    }

    private DeployResult deploy(Pending p, Trigger trigger, Path rollbackTo, long t0) {
        Generation crashed;
        synchronized (this) {
            crashed = trigger == Trigger.CRASH ? lastLive : null;
        }
        // A crash restart relaunches what crashed, as it ran: an edit to the file since, good or
        // bad, waits for a deploy someone asks for, so it cannot turn a crash into an outage.
        if (crashed != null) return deploy(p, trigger, crashed.app(), crashed.release(), t0);
        // The first deploy launches what the daemon read a moment ago; every other one reads the file.
        if (trigger == Trigger.STARTUP) return deploy(p, trigger, startup, rollbackTo, t0);
        Config fresh;
        try {
            fresh = source.read();
        } catch (ConfigException e) {
            return failed(p, trigger, t0, 0, 0, e.getMessage());
        }
        AppConfig app = fresh.app();
        List<String> needRestart = daemon.changedIn(fresh.daemon());
        log.info("deploy #{} ({}): read {} (config {})", p.id, trigger, daemon.file(), app.digest());
        if (!needRestart.isEmpty()) {
            log.warn("deploy #{}: {} changed in {}: {} until rainbowd restarts; the rest of the file applies now",
                    p.id, String.join(", ", needRestart), daemon.file(), needRestart.size() == 1 ? "it waits" : "they wait");
        }
        DeployResult result = deploy(p, trigger, app, rollbackTo, t0);
        return needRestart.isEmpty() ? result : result.needingRestart(needRestart);
    }

    /** Launches {@code app} in {@code fixedRelease} (a rollback's or a crash restart's), else in the current release. */
    private DeployResult deploy(Pending p, Trigger trigger, AppConfig app, Path fixedRelease, long t0) {
        long deadline = t0 + app.healthDeadline().toNanos();
        Path release;
        try {
            release = fixedRelease != null ? existingRelease(fixedRelease, trigger) : release(app);
        } catch (IOException e) {
            return failed(p, trigger, t0, 0, 0, e.getMessage());
        }
        ReleaseSwap swap = null;
        if (fixedRelease == null && daemon.releaseLink().isPresent()) {
            try {
                swap = ReleaseSwap.of(daemon.releaseLink().get(), release);
            } catch (IOException e) {
                return failed(p, trigger, t0, 0, 0, "cannot read releaseLink " + daemon.releaseLink().get() + ": " + e.getMessage());
            }
        }
        synchronized (this) {
            if (p.ifChanged && swap != null && lastSwap != null && swap.equals(lastSwap.swap())
                    && app.digest().equals(lastSwap.config()) && lastSwap.result().isDone()) {
                return lastSwap.result().join();
            }
            // A release link swapped back to the release that is live already: not a deploy.
            if (trigger == Trigger.RELEASE_LINK && live != null && live.release().equals(release)) {
                return new DeployResult(p.id, true, trigger, live.number(), live.port(),
                        "release " + release + " is already live", release.toString(), null, List.of(), since(t0), Instant.now(),
                        List.of());
            }
            if (swap != null) lastSwap = new SwapDeploy(swap, app.digest(), p.id, p.result);
        }
        for (int attempt = 1; ; attempt++) {
            int number;
            Set<Integer> busy;
            synchronized (this) {
                if (closed) return failed(p, trigger, t0, 0, 0, "rainbowd is shutting down");
                number = nextGeneration++;
                busy = busyPorts();
            }
            Generation gen;
            try {
                gen = launcher.launch(number, app, release, busy);
            } catch (IOException e) {
                return failed(p, trigger, t0, 0, 0, "cannot launch `" + app.run() + "` in " + release + ": " + e.getMessage());
            }
            synchronized (this) {
                starting = gen;
                running.add(gen);
                outputs.put(gen.number(), new GenerationOutput(gen.number(), gen.name(), gen.output()));
                if (outputs.size() > OUTPUTS_KEPT) outputs.remove(outputs.keySet().iterator().next());
                recordState();
                deploying = progress(p, trigger, gen, gen.pid(), phaseOf(app.readiness()), 0, null);
                if (closed) stop(gen); // close() may have looked for `starting` just before we set it
            }
            gen.exit().thenAccept(code -> exited(gen, code));
            String notReady = awaitReady(p, trigger, gen, deadline);
            if (notReady == null) {
                if (cutover(p, trigger, gen)) {
                    DeployResult live = new DeployResult(p.id, true, trigger, gen.number(), gen.port(), null, release.toString(), null,
                            List.of(), since(t0), Instant.now(), List.of());
                    return trigger == Trigger.ROLLBACK ? live.noting(rolledBack(p, release, app)) : live;
                }
                // It died between its healthy answer and the cutover, or we are shutting down.
                notReady = isClosed() ? "rainbowd is shutting down" : exitReason(gen);
            }
            boolean exited = gen.exit().isDone();
            // A running app's words until we gave up on it, before the stop adds its goodbyes; an
            // exited one's last lines may still be in the pipe until its tree is gone.
            List<String> said = exited ? null : gen.output().lines();
            log.warn("generation {} port {}: {}", gen.name(), gen.port(), notReady);
            stopNow(gen);
            if (said == null) said = gen.output().linesAtEnd(OUTPUT_GRACE);
            synchronized (this) {
                starting = null;
            }
            String failure = "generation " + gen.name() + " " + notReady;
            Optional<String> notRunnable = exited ? Launcher.notRunnable(gen.exit().join()) : Optional.empty();
            if (notRunnable.isPresent()) {
                p.hopeless = true;
                return failed(p, trigger, t0, gen.number(), gen.port(), failure + ": " + notRunnable.get()
                        + (said.isEmpty() ? "" : " (" + said.get(said.size() - 1) + ")") + "; not retried", said);
            }
            // Exiting before healthy is what a port race looks like: try again on a fresh port.
            if (exited && attempt < app.launchAttempts() && System.nanoTime() < deadline && !isClosed()) {
                log.info("deploy #{}: launch attempt {} of {} failed, retrying on a fresh port", p.id, attempt, app.launchAttempts());
                continue;
            }
            String attempts = app.launchAttempts() > 1 && exited ? " (attempt " + attempt + " of " + app.launchAttempts() + ")" : "";
            return failed(p, trigger, t0, gen.number(), gen.port(), failure + attempts, said);
        }
    }

    /** Null when the generation is ready for traffic, else why not. */
    private String awaitReady(Pending p, Trigger trigger, Generation gen, long deadlineNanos) {
        Duration left = Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
        AppConfig app = gen.app();
        if (app.readiness() instanceof Readiness.HealthCheck hc) {
            HealthProbe.Outcome outcome = probe.withTimeout(app.healthTimeout()).await(gen.port(), hc.path(), app.healthCheckHost(), left,
                    gen.exit(), new HealthProbe.Attempts() {
                        @Override
                        public void sending(int attempt) {
                            listener.probing();
                            synchronized (Deployer.this) {
                                if (starting == gen) deploying = progress(p, trigger, gen, deploying.pid(), "probing", attempt,
                                        deploying.lastProbe());
                            }
                        }

                        @Override
                        public void ended(int attempt, HealthProbe.ProbeResult result) {
                            long pid = gen.pid(); // the app's, once it wrote its pidfile; read off the lock
                            synchronized (Deployer.this) {
                                if (starting == gen) deploying = progress(p, trigger, gen, pid, "probing", attempt, result.detail());
                            }
                        }
                    });
            if (outcome.healthy()) {
                log.info("generation {} port {}: healthy after {} ms ({} probes)", gen.name(), gen.port(),
                        outcome.elapsed().toMillis(), outcome.attempts());
                return null;
            }
            if (gen.exit().isDone()) return exitReason(gen);
            // Up, and silent until the end: most likely an app that takes longer to start than it was given.
            return outcome.reason() + (outcome.unanswered()
                    ? "; the app is still running but answered no probe: if it needs longer to start, raise healthDeadline ("
                            + Durations.format(app.healthDeadline()) + ")" : "");
        }
        Duration warmup = ((Readiness.Warmup) app.readiness()).time();
        try {
            int code = gen.exit().get(Math.min(warmup.toMillis(), left.toMillis()), TimeUnit.MILLISECONDS);
            return "exited with status " + code + " during warmup";
        } catch (TimeoutException e) {
            return warmup.compareTo(left) <= 0 ? null : "healthDeadline passed before warmupTime";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (ExecutionException e) {
            return "exit could not be observed: " + e.getCause();
        }
    }

    private static String exitReason(Generation gen) {
        return "exited with status " + gen.exit().join() + " before it was healthy";
    }

    /**
     * After a rollback went live: the release link points at its release, so the next touch, SIGHUP
     * or restart deploys it and not the release rolled back from. Said in the deploy's outcome.
     */
    private String rolledBack(Pending p, Path release, AppConfig app) {
        if (daemon.releaseLink().isEmpty()) {
            return "there is no releaseLink: the next deploy deploys workingDir " + app.workingDir() + " again";
        }
        Path link = daemon.releaseLink().get();
        try {
            ReleaseSwap.point(link, release);
            synchronized (this) {
                // The watcher will see this swap: it is this deploy's, not a new one.
                lastSwap = new SwapDeploy(ReleaseSwap.of(link, release), app.digest(), p.id, p.result);
            }
            log.info("deploy #{}: releaseLink {} now points to {}", p.id, link, release);
            return "releaseLink " + link + " now points to " + release;
        } catch (IOException e) {
            log.error("deploy #{}: cannot point releaseLink {} to {}: {}", p.id, link, release, e.toString());
            return "releaseLink " + link + " could not be moved (" + e.getMessage() + "): the next deploy deploys what it points to";
        }
    }

    /** False if the generation exited after its last probe: a dead process never goes live. */
    private boolean cutover(Pending p, Trigger trigger, Generation gen) {
        Generation old;
        List<Generation> evicted = new ArrayList<>();
        synchronized (this) {
            // Checked under the lock: an exit after this point finds gen == live and is a crash.
            if (gen.exit().isDone() || closed) return false;
            old = live;
            live = gen;
            starting = null;
            gen.markLive();
            lastLive = gen;
            applyToTraffic(gen.app());
            traffic.cutover(gen.backend());
            if (old != null) draining.add(old);
            releases.live(gen.release(), trigger == Trigger.ROLLBACK);
            recordState(); // now with the app's own pid, read from its pidfile
            // Over maxGenerations, the oldest draining generations go at once, without draining.
            for (int i = 0; 1 + draining.size() - evicted.size() > gen.app().maxGenerations() && i < draining.size(); i++) {
                evicted.add(draining.get(i));
            }
        }
        log.info("deploy #{}: cutover to generation {} port {} pid {}{}", p.id, gen.name(), gen.port(), gen.pid(),
                old == null ? "" : " (generation " + old.name() + " draining, " + old.backend().inFlight() + " in flight)");
        if (old != null && !evicted.contains(old)) drain(old, gen.app().drainTimeout());
        for (Generation g : evicted) {
            log.warn("generation {} port {}: over maxGenerations ({}), stopping it without waiting for its {} request(s)",
                    g.name(), g.port(), gen.app().maxGenerations(), g.backend().inFlight());
            stop(g);
        }
        return true;
    }

    private void drain(Generation old, Duration drainTimeout) {
        // Async: the last request to finish completes the drain on the proxy's event loop, which
        // must not go on to log and stop a process.
        old.backend().drain().copy()
                .orTimeout(drainTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync((ok, timeout) -> {
                    if (timeout != null) {
                        int aborted = old.backend().abortInFlight();
                        log.warn("generation {} port {}: drainTimeout {} ms passed, ended {} request(s) still in flight, stopping it",
                                old.name(), old.port(), drainTimeout.toMillis(), aborted);
                    } else {
                        log.info("generation {} port {}: drained", old.name(), old.port());
                    }
                    stop(old);
                }, stopper);
    }

    private CompletableFuture<Void> stop(Generation g) {
        // Tracked including the bookkeeping after it, so shutdown has nothing left to write once it waited.
        CompletableFuture<Void> done = g.stop(stopTimeout(), stopper).whenComplete((v, x) -> {
            synchronized (this) {
                draining.remove(g);
                if (running.remove(g)) recordState();
            }
        });
        stopping.add(done);
        done.whenComplete((v, x) -> stopping.remove(done));
        return done;
    }

    /**
     * Stops a generation that never went live, and waits, even when interrupted by a shutdown:
     * a failed deploy leaves nothing behind.
     */
    private void stopNow(Generation g) {
        CompletableFuture<Void> stopped = stop(g);
        boolean interrupted = false;
        while (true) {
            try {
                stopped.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                log.error("generation {}: stop failed: {}", g.name(), e.getCause().toString());
                break;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** The live generation's process ended without being asked to: a crash. */
    private void exited(Generation gen, int code) {
        if (gen.stopRequested()) return;
        synchronized (this) {
            if (gen == starting) return; // the deploy in progress sees it and fails or retries
            if (draining.contains(gen)) {
                log.warn("generation {} port {}: exited with status {} while draining", gen.name(), gen.port(), code);
                draining.remove(gen);
                stop(gen); // whatever is left of its process tree
                return;
            }
            if (gen != live) return;
            live = null;
            traffic.clear(gen.backend());
            log.error("generation {} port {}: exited with status {} while live; {}", gen.name(), gen.port(), code,
                    inForce().restartOnCrash() ? "requests wait for a new generation" : "restartOnCrash is off, requests wait for a redeploy");
            if (gen.liveSince() != null && gen.liveSince().plus(STABLE).isBefore(Instant.now())) crashRestarts = 0;
            scheduleCrashRestart();
        }
        stop(gen); // whatever is left of its process tree
        listener.crashed();
    }

    /** Under the lock. The first restart is at once; each one after it without a stable generation waits twice as long. */
    private void scheduleCrashRestart() {
        if (!inForce().restartOnCrash() || closed || nextRestart != null) return;
        long delay = crashRestarts == 0 ? 0
                : Math.min(MAX_RESTART_DELAY.toMillis(), 1000L << Math.min(crashRestarts - 1, 20));
        crashRestarts++;
        nextRestart = Instant.now().plusMillis(delay);
        Trigger trigger = restartTrigger();
        if (delay > 0 && trigger == Trigger.CRASH) log.warn("crash loop: restart {} in {} ms", crashRestarts, delay);
        if (delay > 0 && trigger == Trigger.START_RETRY) log.warn("start failed: retry {} in {} ms", crashRestarts, delay);
        timer.schedule(() -> {
            synchronized (this) {
                nextRestart = null;
                if (live != null || closed) return; // someone deployed meanwhile
            }
            request(trigger);
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Under the lock. Nothing was ever live: the app has not started yet, which is no crash. */
    private Trigger restartTrigger() {
        return lastLive == null ? Trigger.START_RETRY : Trigger.CRASH;
    }

    private Path release(AppConfig app) throws IOException {
        if (daemon.releaseLink().isPresent()) {
            Path link = daemon.releaseLink().get();
            Path target;
            try {
                target = link.toRealPath();
            } catch (NoSuchFileException e) {
                throw new IOException("releaseLink " + link + " points to a missing path");
            }
            if (!Files.isDirectory(target)) throw new IOException("releaseLink " + link + " points to " + target + ", not a directory");
            return target;
        }
        Path dir = app.workingDir();
        if (!Files.isDirectory(dir)) throw new IOException("workingDir " + dir + " is not a directory");
        return dir;
    }

    private static Path existingRelease(Path release, Trigger trigger) throws IOException {
        if (!Files.isDirectory(release)) {
            throw new IOException(trigger == Trigger.ROLLBACK
                    ? "cannot roll back: the previous release " + release + " is gone"
                    : "cannot restart: the release " + release + " that crashed is gone");
        }
        return release;
    }

    private synchronized Duration stopTimeout() {
        return inForce().stopTimeout();
    }

    /** Called under the lock, so snapshots reach the single writer thread in the order of the changes. */
    private void recordState() {
        List<Generation> snapshot = List.copyOf(running);
        try {
            stateWriter.execute(() -> store.save(snapshot));
        } catch (RejectedExecutionException e) {
            store.save(snapshot); // closing: write it here
        }
    }

    private Set<Integer> busyPorts() {
        Set<Integer> busy = new HashSet<>(reservedPorts);
        if (live != null) busy.add(live.port());
        draining.forEach(g -> busy.add(g.port()));
        return busy;
    }

    private static String phaseOf(Readiness r) {
        return r instanceof Readiness.HealthCheck ? "probing" : "warming up";
    }

    /** Under the lock. */
    private DeployProgress progress(Pending p, Trigger trigger, Generation gen, long pid, String phase, int probes,
            String lastProbe) {
        return new DeployProgress(p.id, trigger, gen.number(), gen.port(), pid, phase, probes, lastProbe, deployStarted);
    }

    private DeployResult failed(Pending p, Trigger trigger, long t0, int generation, int port, String reason) {
        return failed(p, trigger, t0, generation, port, reason, List.of());
    }

    private DeployResult failed(Pending p, Trigger trigger, long t0, int generation, int port, String reason,
            List<String> output) {
        return new DeployResult(p.id, false, trigger, generation, port, reason, null, null, List.of(), since(t0), Instant.now(), output);
    }

    /** A failure's log line ends with the app's last lines, each on a line of its own under it. */
    private static String quoted(DeployResult r) {
        if (r.output().isEmpty()) return "";
        StringBuilder b = new StringBuilder("; its last output:");
        r.output().forEach(line -> b.append("\n    | ").append(line));
        return b.toString();
    }

    private static Duration since(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** Deploys no more: the pending one fails, the one under way is interrupted and cleaned up. */
    public void stopDeploying() {
        Pending p;
        synchronized (this) {
            if (closed) return;
            closed = true;
            p = pending;
            pending = null;
        }
        if (p != null) p.result.complete(failed(p, p.trigger, System.nanoTime(), 0, 0, "rainbowd is shutting down"));
        timer.shutdownNow();
        worker.shutdownNow();
    }

    /**
     * Stops every generation (SIGTERM, SIGKILL after stopTimeout) and waits for them: no backend
     * outlives the daemon.
     */
    @Override
    public void close() {
        stopDeploying();
        // Live and draining generations stop while the deploy under way winds down, not after it.
        synchronized (this) {
            if (live != null) stop(live);
            List.copyOf(draining).forEach(this::stop);
        }
        try {
            worker.awaitTermination(stopTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (starting != null) stop(starting);
        }
        // Including stops started elsewhere: a crashed generation's remains, a failed launch.
        CompletableFuture<?>[] stops = stopping.toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(stops).get(stopTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.error("not every generation stopped cleanly: {}", e.toString());
        }
        stopper.shutdown();
        stateWriter.shutdown();
        try {
            stateWriter.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
