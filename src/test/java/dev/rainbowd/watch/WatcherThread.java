package dev.rainbowd.watch;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The daemon's trigger watcher (its thread, in this JVM), as a test sees it: what a file event
 * did to it is shown by what the thread does, so a test waits on that rather than on a time.
 * <ul>
 * <li>{@link #idle}: it waits in {@code WatchService.take()} for the next event. Then no burst
 * is open (during one it waits in {@code poll(QUIET_MS)}) and no lost directory is looked for:
 * every trigger it was going to give, the trailing one included, has been handed to the
 * deployer, and it gives none until the next event.
 * <li>{@link #cpuNanos}: grows only when it runs; in {@code take()} it runs only to read an
 * event. Grown and idle again: it has read what happened meanwhile and acted on it.
 * </ul>
 */
final class WatcherThread {
    private static final String NAME = "trigger-watcher";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private WatcherThread() {}

    /** Every watcher thread alive (one per running daemon) waits in take(). */
    static boolean idle() {
        List<Map.Entry<Thread, StackTraceElement[]>> watchers = watchers();
        return !watchers.isEmpty() && watchers.stream().allMatch(w -> w.getKey().getState() == Thread.State.WAITING
                && Arrays.stream(w.getValue()).anyMatch(f -> f.getMethodName().equals("take")
                        && f.getClassName().contains("WatchService")));
    }

    /** CPU time of the watcher threads alive, in ns. */
    static long cpuNanos() {
        return watchers().stream().mapToLong(w -> THREADS.getThreadCpuTime(w.getKey().getId())).sum();
    }

    private static List<Map.Entry<Thread, StackTraceElement[]>> watchers() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals(NAME) && e.getKey().isAlive()).toList();
    }
}
