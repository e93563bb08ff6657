package dev.rainbowd.deploy;

import java.time.Duration;
import java.util.List;

/** A consistent snapshot of the deployer's state, taken under its lock. */
public record Status(
        GenerationStatus live,
        List<GenerationStatus> draining,
        DeployProgress deploying,
        boolean pending,
        DeployResult lastDeploy,
        Duration uptime) {}
