package dev.rainbowd.deploy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * How one deploy ended. {@code generation} and {@code port} are 0 when no generation was launched.
 * {@code release} is the directory it launched in (null if none); {@code note} what the user should
 * know besides (where a rollback left the release link), or null. {@code needRestart} names the
 * keys changed in the file that only a restart of rainbowd applies. {@code output}: the last lines
 * the failed generation wrote (stdout and stderr), so the app's own error travels with the reason;
 * empty when it went live or nothing was launched.
 */
public record DeployResult(
        long id, boolean live, Trigger trigger, int generation, int port, String reason, String release, String note,
        List<String> needRestart, Duration duration, Instant finished, List<String> output) {

    public DeployResult {
        needRestart = List.copyOf(needRestart);
        output = List.copyOf(output);
    }

    public String state() {
        return live ? "live" : "failed";
    }

    DeployResult needingRestart(List<String> keys) {
        return new DeployResult(id, live, trigger, generation, port, reason, release, note, keys, duration, finished, output);
    }

    DeployResult noting(String text) {
        return new DeployResult(id, live, trigger, generation, port, reason, release, text, needRestart, duration, finished, output);
    }
}
