package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;

/** How one deploy ended. {@code generation} and {@code port} are 0 when no generation was launched. */
public record DeployResult(
        long id, boolean live, Trigger trigger, int generation, int port, String reason,
        Duration duration, Instant finished) {

    public String state() {
        return live ? "live" : "failed";
    }
}
