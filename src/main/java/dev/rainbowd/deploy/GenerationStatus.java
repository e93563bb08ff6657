package dev.rainbowd.deploy;

import java.time.Instant;

/**
 * One generation in {@code GET /status}. {@code since} is when it went live (or was launched);
 * {@code tunnels} counts its open upgraded connections (WebSockets), apart from requests in flight;
 * {@code config} is the digest of the settings it runs, read from the file at {@code configRead}.
 */
public record GenerationStatus(
        int generation, String color, int port, long pid, String release, Instant since, int inFlight, int tunnels,
        String config, Instant configRead) {}
