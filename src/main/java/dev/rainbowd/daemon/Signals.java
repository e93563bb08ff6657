package dev.rainbowd.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OS signals. The JVM's own SIGTERM handling would exit with 143 after running hooks; the spec
 * wants a clean shutdown to exit 0, so we take the signals over. {@code sun.misc.Signal} is the
 * only way to do that in Java 17 (jdk.unsupported, kept for exactly this use).
 */
public final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /** Runs {@code action} on a fresh thread each time the signal arrives. */
    @SuppressWarnings("removal")
    public static void on(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                Thread t = new Thread(action, "SIG" + name);
                t.start();
            });
        } catch (IllegalArgumentException e) {
            log.warn("cannot handle SIG{} here: {}", name, e.getMessage());
        }
    }
}
