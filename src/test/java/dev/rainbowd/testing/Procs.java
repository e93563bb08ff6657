package dev.rainbowd.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Process checks for tests, by pid. */
public final class Procs {
    private Procs() {}

    /** Alive and not a zombie (an orphan killed under a slow-reaping init stays a zombie a while). */
    public static boolean running(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (Exception e) {
            return false;
        }
    }
}
