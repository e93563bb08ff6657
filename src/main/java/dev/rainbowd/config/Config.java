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
        Map<String, String> s = new LinkedHashMap<>();
        s.put("run", printable(app.run()));
        s.put("healthCheckPath", app.readiness() instanceof Readiness.HealthCheck h ? printable(h.path()) : "-");
        s.put("warmupTime", app.readiness() instanceof Readiness.Warmup w ? Durations.format(w.time()) : "-");
        s.put("port", Integer.toString(daemon.port()));
        s.put("host", daemon.host());
        s.put("controlPort", Integer.toString(daemon.controlPort()));
        s.put("controlHost", daemon.controlHost());
        s.put("controlToken", controlToken.isPresent() ? "(set)" : "-");
        s.put("workingDir", printable(app.workingDir().toString()));
        s.put("env", app.env().isEmpty() ? "-" : String.join(", ", new TreeSet<>(app.env().keySet())) + " (values not shown)");
        s.put("envFile", envFiles.isEmpty() ? "-" : String.join(", ", envFiles.stream().map(f -> printable(f.toString())).toList()));
        s.put("triggerFile", daemon.triggerFile().map(p -> printable(p.toString())).orElse("-"));
        s.put("releaseLink", daemon.releaseLink().map(p -> printable(p.toString())).orElse("-"));
        s.put("healthTimeout", Durations.format(app.healthTimeout()));
        s.put("healthDeadline", Durations.format(app.healthDeadline()));
        s.put("drainTimeout", Durations.format(app.drainTimeout()));
        s.put("stopTimeout", Durations.format(app.stopTimeout()));
        s.put("maxGenerations", Integer.toString(app.maxGenerations()));
        s.put("launchAttempts", Integer.toString(app.launchAttempts()));
        s.put("restartOnCrash", Boolean.toString(app.restartOnCrash()));
        s.put("queueTimeout", Durations.format(app.queueTimeout()));
        s.put("stateDir", printable(daemon.stateDir().toString()));
        s.put("stopSignal", app.stopSignal().name());
        s.put("healthCheckHost", app.healthCheckHost().orElse("-"));
        s.put("tunnelIdleTimeout", Durations.format(app.tunnelIdleTimeout()));
        s.put("trustedProxies", String.join(", ", app.trustedProxies().stream().map(AddressRange::toString).toList()));
        s.put("upstreamKeepAlive", app.upstreamKeepAliveAll() ? "all" : "replayable");
        s.put("requestBuffering", Boolean.toString(app.buffering().requests()));
        s.put("maxRequestBody", ByteSize.format(app.buffering().maxRequestBody()));
        s.put("maxResponseBuffer", ByteSize.format(app.buffering().maxResponseBuffer()));
        return s;
    }

    // Quoted only when plain text would mislead: a multi-line `run: |` block, edge spaces, "-".
    private static String printable(String s) {
        boolean plain = !s.isEmpty() && !s.equals("-") && s.strip().equals(s)
                && s.codePoints().noneMatch(Character::isISOControl);
        return plain ? s : ConfigLoader.quote(s, Integer.MAX_VALUE);
    }
}
