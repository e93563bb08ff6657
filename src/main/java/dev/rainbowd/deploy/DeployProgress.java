package dev.rainbowd.deploy;

import java.time.Instant;

/** The deploy under way: which generation, in which phase, how many health probes so far. */
public record DeployProgress(
        long id, Trigger trigger, int generation, int port, String phase, int probes, Instant started) {}
