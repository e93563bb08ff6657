package dev.rainbowd.proxy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deadline for every request head on one connection, as nginx's client_header_timeout: the first
 * head must be complete that long after the connection opened, each later one that long after its
 * first byte arrived (between requests the idle timeout runs, as nginx's keepalive_timeout). The
 * idle timeout restarts with every byte, so a client dripping a header byte every few seconds
 * (slowloris) held a connection, and a few hundred of them every descriptor; a kept-alive
 * connection's second request could do the same after a first one that was whole.
 *
 * <p>A timer is armed only for a head that a read left incomplete: a head that arrives in one read
 * (nearly all) costs a clock reading. Its methods run on the thread parsing the connection, one
 * at a time; the timer on the scheduler's.
 */
final class HeadDeadline {
    private static final Logger log = LoggerFactory.getLogger(HeadDeadline.class);

    private final Connection connection;
    private final Scheduler scheduler;
    private final long deadlineNanos;
    private boolean underWay;
    private long began;
    private volatile Scheduler.Task timer;
    /** Heads completed while a timer was armed: a timer that fires after its head completed does nothing. */
    private volatile int completed;

    HeadDeadline(Connection connection, Scheduler scheduler, Duration deadline) {
        this.connection = connection;
        this.scheduler = scheduler;
        this.deadlineNanos = deadline.toNanos();
    }

    /** The connection opened: its first head's time runs from now. */
    void opened() {
        began = System.nanoTime();
        underWay = true;
    }

    /** A byte of a new head arrived (the parser was between messages). */
    void begins() {
        if (underWay) return; // the first head: from the opening
        began = System.nanoTime();
        underWay = true;
    }

    /** A read ended with the head not complete. */
    void incomplete() {
        if (!underWay || timer != null) return;
        long left = Math.max(0, began + deadlineNanos - System.nanoTime());
        int seen = completed;
        timer = scheduler.schedule(() -> expire(seen), left, TimeUnit.NANOSECONDS);
    }

    /** The head is complete (or refused: the connection closes). */
    void complete() {
        underWay = false;
        Scheduler.Task t = timer;
        if (t == null) return;
        completed++; // only this thread writes it
        timer = null;
        t.cancel();
    }

    void closed() {
        Scheduler.Task t = timer;
        if (t != null) t.cancel(); // the scheduler drops it: nothing holds a closed connection for a minute
    }

    private void expire(int seen) {
        EndPoint end = connection.getEndPoint();
        // Still that head, and still an HTTP connection (not a tunnel now).
        if (completed != seen || !end.isOpen() || end.getConnection() != connection) return;
        log.debug("closing {}: request head not complete within {} ms", end.getRemoteSocketAddress(),
                TimeUnit.NANOSECONDS.toMillis(deadlineNanos));
        end.close();
    }
}
