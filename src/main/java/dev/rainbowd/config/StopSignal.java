package dev.rainbowd.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The signal that starts a generation's graceful stop. App servers disagree: unicorn stops
 * gracefully on QUIT (TERM kills its workers at once), waitress on INT (it has no TERM handler);
 * gunicorn, uvicorn, puma, node on TERM. SIGKILL after stopTimeout stays the same for all.
 */
public enum StopSignal {
    TERM, QUIT, INT, HUP, USR1, USR2, WINCH;

    /** "QUIT", "SIGQUIT", "quit": the same signal. */
    static Optional<StopSignal> parse(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT);
        if (n.startsWith("SIG")) n = n.substring(3);
        for (StopSignal s : values()) {
            if (s.name().equals(n)) return Optional.of(s);
        }
        return Optional.empty();
    }

    static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return "SIG" + name();
    }
}
