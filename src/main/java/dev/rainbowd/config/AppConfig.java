package dev.rainbowd.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one deploy launches, and how it is judged and stopped: read from the file at each deploy
 * and handed to it. A generation keeps the one it was launched with, so a crash restart
 * relaunches what crashed, whatever the file says by then.
 *
 * @param read when the file was read
 */
public record AppConfig(
        String run,
        Readiness readiness,
        Optional<String> healthCheckHost,
        Path workingDir,
        Map<String, String> env,
        Duration healthTimeout,
        Duration healthDeadline,
        Duration drainTimeout,
        Duration stopTimeout,
        StopSignal stopSignal,
        int maxGenerations,
        int launchAttempts,
        boolean restartOnCrash,
        Duration queueTimeout,
        Duration tunnelIdleTimeout,
        List<AddressRange> trustedProxies,
        boolean upstreamKeepAliveAll,
        Buffering buffering,
        Instant read) {

    public AppConfig {
        env = Map.copyOf(env);
        trustedProxies = List.copyOf(trustedProxies);
    }

    /**
     * A short digest of the settings (not of when they were read), shown per generation in
     * status and by {@code check}: the same file gives the same digest, so a user sees whether
     * an edit reached the app. Env values are in it but cannot be read back out of 12 hex digits.
     */
    public String digest() {
        StringBuilder s = new StringBuilder();
        s.append("run=").append(run).append('\0')
                .append("readiness=").append(readiness).append('\0')
                .append("healthCheckHost=").append(healthCheckHost.orElse("")).append('\0')
                .append("workingDir=").append(workingDir).append('\0');
        new TreeMap<>(env).forEach((k, v) -> s.append("env.").append(k).append('=').append(v).append('\0'));
        s.append(healthTimeout).append('\0').append(healthDeadline).append('\0').append(drainTimeout).append('\0')
                .append(stopTimeout).append('\0').append(stopSignal).append('\0').append(maxGenerations).append('\0').append(launchAttempts).append('\0')
                .append(restartOnCrash).append('\0').append(queueTimeout).append('\0').append(tunnelIdleTimeout).append('\0').append(trustedProxies).append('\0').append(upstreamKeepAliveAll)
                .append('\0').append(buffering);
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(s.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
