package dev.rainbowd.deploy;

import java.time.Instant;

/** One generation in {@code GET /status}. {@code since} is when it went live (or was launched). */
public record GenerationStatus(
        int generation, String color, int port, long pid, String release, Instant since, int inFlight) {}
