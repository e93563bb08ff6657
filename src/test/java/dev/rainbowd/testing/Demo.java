package dev.rainbowd.testing;

import dev.rainbowd.demo.DemoApp;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** How tests launch the real demo backend: the same JVM binary, the compiled classes. */
public final class Demo {
    private Demo() {}

    public static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    public static Path classes() {
        try {
            return Path.of(DemoApp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A shell command (for a config's {@code run}) that starts the demo app, without its arguments. */
    public static String command() {
        // C1 only and serial GC: the demo starts in a few hundred ms and stays small.
        return "exec '" + java() + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m -Xss256k"
                + " -cp '" + classes() + "' dev.rainbowd.demo.DemoApp";
    }

    /**
     * A {@code run} value whose app misbehaves once a marker file exists in its directory: the same
     * config then deploys well, then badly. {@code then} is shell, e.g. {@code exit 1} or
     * {@code export DEMO_HEALTH_STATUS=500}.
     */
    public static String runWhen(String marker, String then) {
        return "if [ -e " + marker + " ]; then " + then + "; fi; " + run();
    }

    /** A {@code run} value using the spec's inline form. */
    public static String run() {
        return command() + " \"$1\" \"$2\"";
    }
}
