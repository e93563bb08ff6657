package dev.rainbowd.daemon;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's limit on one port's connections: at the limit the port stops accepting, and clients wait
 * in the kernel's listen queue until connections close (nginx, out of worker_connections, also
 * stops accepting). What it adds is the log: under a steady overload the port stops and resumes
 * with nearly every connection that closes, so an episode is logged once, one line when it starts
 * and one when the port has accepted freely for {@link #QUIET}.
 */
final class PortConnectionLimit extends NetworkConnectionLimit {
    private static final Logger log = LoggerFactory.getLogger(PortConnectionLimit.class);
    static final Duration QUIET = Duration.ofSeconds(5);

    private final String name;
    private final ServerConnector connector;
    private final Scheduler scheduler;
    private String why = "";
    // Guarded by this (limit() and unlimit() run under Jetty's lock, the check on the scheduler).
    private boolean limited;
    private boolean episode;
    private boolean checkPending;
    private long episodeBegan;
    private long lastResumed;

    PortConnectionLimit(String name, ServerConnector connector, Scheduler scheduler) {
        super(Integer.MAX_VALUE, connector);
        this.name = name;
        this.connector = connector;
        this.scheduler = scheduler;
    }

    /** At most {@code max} connections; {@code why} says where the number comes from, in the log. */
    void max(int max, String why) {
        this.why = why;
        setMaxNetworkConnectionCount(max);
    }

    @Override
    protected void limit() {
        super.limit();
        synchronized (this) {
            limited = true;
            if (episode) return;
            episode = true;
            episodeBegan = System.nanoTime();
            log.warn("{} port {}: at the limit of {} connections{}; more wait in the listen queue until some close", name,
                    connector.getLocalPort(), getMaxNetworkConnectionCount(), why);
        }
    }

    @Override
    protected void unlimit() {
        super.unlimit();
        synchronized (this) {
            limited = false;
            lastResumed = System.nanoTime();
            if (!episode || checkPending) return;
            checkPending = true;
        }
        schedule(QUIET.toNanos());
    }

    private void schedule(long nanos) {
        try {
            scheduler.schedule(this::check, nanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) { // the server is stopping: no episode to end
            synchronized (this) {
                checkPending = false;
            }
        }
    }

    private void check() {
        long again;
        synchronized (this) {
            long quietFor = System.nanoTime() - lastResumed;
            if (!limited && quietFor >= QUIET.toNanos()) {
                checkPending = false;
                episode = false;
                log.info("{} port {}: accepting connections again ({} ms at the limit of {})", name, connector.getLocalPort(),
                        TimeUnit.NANOSECONDS.toMillis(lastResumed - episodeBegan), getMaxNetworkConnectionCount());
                return;
            }
            again = limited ? QUIET.toNanos() : QUIET.toNanos() - quietFor;
        }
        schedule(again);
    }
}
