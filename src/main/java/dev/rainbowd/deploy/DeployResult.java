package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * How one deploy ended. {@code generation} and {@code port} are 0 when no generation was launched.
 * {@code needRestart} names the keys changed in the file that only a restart of rainbowd applies.
 */
public record DeployResult(
        long id, boolean live, Trigger trigger, int generation, int port, String reason,
        List<String> needRestart, Duration duration, Instant finished) {

    public DeployResult {
        needRestart = List.copyOf(needRestart);
    }

    public String state() {
        return live ? "live" : "failed";
    }

    DeployResult needingRestart(List<String> keys) {
        return new DeployResult(id, live, trigger, generation, port, reason, keys, duration, finished);
    }
}
