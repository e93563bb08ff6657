package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** A consistent snapshot of the deployer's state, taken under its lock. */
public record Status(
        GenerationStatus live,
        List<GenerationStatus> draining,
        DeployProgress deploying,
        boolean pending,
        DeployResult lastDeploy,
        Restart restarting,
        Duration uptime) {

    /** A crash restart waiting for its back-off: the how-manieth, and when. */
    public record Restart(int attempt, Instant at) {}
}
