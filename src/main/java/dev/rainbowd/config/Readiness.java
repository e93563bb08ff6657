package dev.rainbowd.config;

import java.time.Duration;

/** How rainbowd decides that a new generation may take traffic. */
public sealed interface Readiness {

    /** Healthy once {@code GET path} answers 2xx. */
    record HealthCheck(String path) implements Readiness {}

    /** Healthy once the process has stayed up this long (the original's warmupTime; discouraged). */
    record Warmup(Duration time) implements Readiness {}
}
