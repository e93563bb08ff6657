package dev.rainbowd.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The config file as read, validated and with defaults applied (SPEC section 2). Built only by
 * {@link ConfigLoader}, as the parts the daemon uses apart: {@link #daemon()} is bound once at
 * start, {@link #app()} is read afresh and handed to each deploy, the token guards the control API.
 *
 * @param envFiles where {@code app().env()} took its lines from (shown by {@code check}, never their values)
 */
public record Config(DaemonConfig daemon, AppConfig app, Optional<String> controlToken, List<EnvFile> envFiles) {

    public Config {
        envFiles = List.copyOf(envFiles);
    }

    /** The file these settings were read from. */
    public Path file() {
        return daemon.file();
    }

    /** Where a client finds the daemon. */
    public ControlAddress control() {
        return new ControlAddress(daemon.controlHost(), daemon.controlPort(), controlToken);
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
        StringBuilder out = new StringBuilder("Config[file=").append(file());
        settings().forEach((key, value) -> out.append(", ").append(key).append('=').append(value));
        return out.append(']').toString();
    }

    private Map<String, String> settings() {
        DaemonConfig d = daemon;
        AppConfig a = app;
        Map<String, String> s = new LinkedHashMap<>();
        s.put("run", printable(a.run()));
        s.put("healthCheckPath", a.readiness() instanceof Readiness.HealthCheck h ? printable(h.path()) : "-");
        s.put("warmupTime", a.readiness() instanceof Readiness.Warmup w ? Durations.format(w.time()) : "-");
        s.put("port", Integer.toString(d.port()));
        s.put("host", d.host());
        s.put("controlPort", Integer.toString(d.controlPort()));
        s.put("controlHost", d.controlHost());
        s.put("controlToken", controlToken.isPresent() ? "(set)" : "-");
        s.put("workingDir", printable(a.workingDir().toString()));
        s.put("env", a.env().isEmpty() ? "-" : String.join(", ", new TreeSet<>(a.env().keySet())) + " (values not shown)");
        s.put("envFile", envFiles.isEmpty() ? "-" : String.join(", ", envFiles.stream().map(f -> printable(f.toString())).toList()));
        s.put("triggerFile", d.triggerFile().map(p -> printable(p.toString())).orElse("-"));
        s.put("releaseLink", d.releaseLink().map(p -> printable(p.toString())).orElse("-"));
        s.put("healthTimeout", Durations.format(a.healthTimeout()));
        s.put("healthDeadline", Durations.format(a.healthDeadline()));
        s.put("drainTimeout", Durations.format(a.drainTimeout()));
        s.put("stopTimeout", Durations.format(a.stopTimeout()));
        s.put("maxGenerations", Integer.toString(a.maxGenerations()));
        s.put("launchAttempts", Integer.toString(a.launchAttempts()));
        s.put("restartOnCrash", Boolean.toString(a.restartOnCrash()));
        s.put("queueTimeout", Durations.format(a.queueTimeout()));
        s.put("stateDir", printable(d.stateDir().toString()));
        s.put("stopSignal", a.stopSignal().name());
        s.put("healthCheckHost", a.healthCheckHost().orElse("-"));
        s.put("tunnelIdleTimeout", Durations.format(a.tunnelIdleTimeout()));
        s.put("trustedProxies", String.join(", ", a.trustedProxies().stream().map(AddressRange::toString).toList()));
        s.put("upstreamKeepAlive", a.upstreamKeepAliveAll() ? "all" : "replayable");
        s.put("requestBuffering", Boolean.toString(a.buffering().requests()));
        s.put("maxRequestBody", ByteSize.format(a.buffering().maxRequestBody()));
        s.put("maxResponseBuffer", ByteSize.format(a.buffering().maxResponseBuffer()));
        return s;
    }

    // Quoted only when plain text would mislead: a multi-line `run: |` block, edge spaces, "-".
    private static String printable(String s) {
        boolean plain = !s.isEmpty() && !s.equals("-") && s.strip().equals(s)
                && s.codePoints().noneMatch(Character::isISOControl);
        return plain ? s : ConfigLoader.quote(s, Integer.MAX_VALUE);
    }
}
