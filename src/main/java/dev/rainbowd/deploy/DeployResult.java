package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * How one deploy ended. {@code generation} and {@code port} are 0 when no generation was launched.
 * {@code needRestart} names the keys changed in the file that only a restart of rainbowd applies.
 * {@code output}: the last lines the failed generation wrote (stdout and stderr), so the app's own
 * error travels with the reason; empty when it went live or nothing was launched.
 */
public record DeployResult(
        long id, boolean live, Trigger trigger, int generation, int port, String reason,
        List<String> needRestart, Duration duration, Instant finished, List<String> output) {

    public DeployResult {
        needRestart = List.copyOf(needRestart);
        output = List.copyOf(output);
    }

    /** Without output: a deploy that went live, or failed before it had a generation to hear from. */
    public DeployResult(long id, boolean live, Trigger trigger, int generation, int port, String reason,
            List<String> needRestart, Duration duration, Instant finished) {
        this(id, live, trigger, generation, port, reason, needRestart, duration, finished, List.of());
    }

    public String state() {
        return live ? "live" : "failed";
    }

    DeployResult needingRestart(List<String> keys) {
        return new DeployResult(id, live, trigger, generation, port, reason, keys, duration, finished, output);
    }
}
