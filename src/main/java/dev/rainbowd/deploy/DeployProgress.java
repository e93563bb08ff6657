package dev.rainbowd.deploy;

import java.time.Instant;

/**
 * The deploy under way: which generation (its pid, 0 before the launch), in which phase, how many
 * health probes so far and what the last one got ({@code lastProbe}, e.g. "connection refused";
 * null before the first ends).
 */
public record DeployProgress(
        long id, Trigger trigger, int generation, int port, long pid, String phase, int probes, String lastProbe,
        Instant started) {}
