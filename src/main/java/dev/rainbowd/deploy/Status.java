package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A consistent snapshot of the deployer's state, taken under its lock. {@code releases}: those that
 * went live, newest first (where a rollback goes: the first that differs from the newest).
 */
public record Status(
        GenerationStatus live,
        List<GenerationStatus> draining,
        DeployProgress deploying,
        boolean pending,
        DeployResult lastDeploy,
        Restart restarting,
        List<String> releases,
        Duration uptime) {

    /**
     * A restart waiting for its back-off: the how-manieth, when, and whether it heals a crash
     * ({@code crash-restart}) or retries a start that never went live ({@code start-retry}).
     */
    public record Restart(int attempt, Instant at, Trigger trigger) {}
}
