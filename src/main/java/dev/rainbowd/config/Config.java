package dev.rainbowd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The config file as read at {@code read}, validated and with defaults applied (SPEC section 2).
 * Built only by {@link ConfigLoader}. The daemon splits it: {@link #daemon()} is bound once at
 * start, {@link #app()} is read afresh and handed to each deploy.
 */
public record Config(
        Path file,
        String run,
        Readiness readiness,
        String host,
        int port,
        String controlHost,
        int controlPort,
        Optional<String> controlToken,
        Path workingDir,
        Map<String, String> env,
        Optional<Path> triggerFile,
        Optional<Path> releaseLink,
        Duration healthTimeout,
        Duration healthDeadline,
        Duration drainTimeout,
        Duration stopTimeout,
        int maxGenerations,
        int launchAttempts,
        boolean restartOnCrash,
        Duration queueTimeout,
        Path stateDir,
        StopSignal stopSignal,
        Optional<String> healthCheckHost,
        Duration tunnelIdleTimeout,
        List<AddressRange> trustedProxies,
        boolean upstreamKeepAliveAll,
        Buffering buffering,
        List<EnvFile> envFiles,
        Instant read) {

    public Config {
        env = Map.copyOf(env);
        trustedProxies = List.copyOf(trustedProxies);
        envFiles = List.copyOf(envFiles);
    }

    /** What the daemon binds once: a change to these waits for a restart. */
    public DaemonConfig daemon() {
        return new DaemonConfig(file, host, port, controlHost, controlPort, stateDir, triggerFile, releaseLink);
    }

    /** Where a client finds the daemon. */
    public ControlAddress control() {
        return new ControlAddress(controlHost, controlPort, controlToken);
    }

    /** What a deploy launches with these settings. */
    public AppConfig app() {
        return new AppConfig(run, readiness, healthCheckHost, workingDir, env, healthTimeout, healthDeadline,
                drainTimeout, stopTimeout, stopSignal, maxGenerations, launchAttempts, restartOnCrash, queueTimeout, tunnelIdleTimeout, trustedProxies, upstreamKeepAliveAll, buffering, read);
    }

    /**
     * The effective settings as aligned {@code key = value} lines, every key of SPEC section 2
     * in its order, for {@code rainbowd check}. Durations use {@link Durations#format}; unset
     * optional keys show {@code -}. Secrets stay out: the token shows as {@code (set)} and env
     * only by its names, since env commonly carries credentials and this output lands in CI logs.
     */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        settings().forEach((key, value) -> lines.add(String.format("%-17s = %s", key, value)));
        return lines;
    }

    /** Like the record's, but with the token hidden: configs get logged. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("Config[file=").append(file);
        settings().forEach((key, value) -> out.append(", ").append(key).append('=').append(value));
        return out.append(']').toString();
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("run", printable(run));
        s.put("healthCheckPath", readiness instanceof Readiness.HealthCheck h ? printable(h.path()) : "-");
        s.put("warmupTime", readiness instanceof Readiness.Warmup w ? Durations.format(w.time()) : "-");
        s.put("port", Integer.toString(port));
        s.put("host", host);
        s.put("controlPort", Integer.toString(controlPort));
        s.put("controlHost", controlHost);
        s.put("controlToken", controlToken.isPresent() ? "(set)" : "-");
        s.put("workingDir", printable(workingDir.toString()));
        s.put("env", env.isEmpty() ? "-" : String.join(", ", new TreeSet<>(env.keySet())) + " (values not shown)");
        s.put("envFile", envFiles.isEmpty() ? "-" : String.join(", ", envFiles.stream().map(f -> printable(f.toString())).toList()));
        s.put("triggerFile", triggerFile.map(p -> printable(p.toString())).orElse("-"));
        s.put("releaseLink", releaseLink.map(p -> printable(p.toString())).orElse("-"));
        s.put("healthTimeout", Durations.format(healthTimeout));
        s.put("healthDeadline", Durations.format(healthDeadline));
        s.put("drainTimeout", Durations.format(drainTimeout));
        s.put("stopTimeout", Durations.format(stopTimeout));
        s.put("maxGenerations", Integer.toString(maxGenerations));
        s.put("launchAttempts", Integer.toString(launchAttempts));
        s.put("restartOnCrash", Boolean.toString(restartOnCrash));
        s.put("queueTimeout", Durations.format(queueTimeout));
        s.put("stateDir", printable(stateDir.toString()));
        s.put("stopSignal", stopSignal.name());
        s.put("healthCheckHost", healthCheckHost.orElse("-"));
        s.put("tunnelIdleTimeout", Durations.format(tunnelIdleTimeout));
        s.put("trustedProxies", String.join(", ", trustedProxies.stream().map(AddressRange::toString).toList()));
        s.put("upstreamKeepAlive", upstreamKeepAliveAll ? "all" : "replayable");
        s.put("requestBuffering", Boolean.toString(buffering.requests()));
        s.put("maxRequestBody", ByteSize.format(buffering.maxRequestBody()));
        s.put("maxResponseBuffer", ByteSize.format(buffering.maxResponseBuffer()));
        return s;
    }

    // Quoted only when plain text would mislead: a multi-line `run: |` block, edge spaces, "-".
    private static String printable(String s) {
        boolean plain = !s.isEmpty() && !s.equals("-") && s.strip().equals(s)
                && s.codePoints().noneMatch(Character::isISOControl);
        return plain ? s : ConfigLoader.quote(s, Integer.MAX_VALUE);
    }
}
