package dev.rainbowd.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the daemon binds and watches once, at start: its listeners, its state and the paths it
 * watches. A change to any of these in the file waits for a restart; {@link #changedIn} names them.
 */
public record DaemonConfig(
        Path file,
        String host,
        int port,
        String controlHost,
        int controlPort,
        Path stateDir,
        Optional<Path> triggerFile,
        Optional<Path> releaseLink) {

    /**
     * The keys whose value in {@code reread} differs from this one's, in the file's order: what a
     * deploy cannot apply. The trigger file and the release link are watched from start-up on,
     * so a new path would be watched by nobody until a restart.
     */
    public List<String> changedIn(DaemonConfig reread) {
        List<String> keys = new ArrayList<>();
        if (port != reread.port) keys.add("port");
        if (!host.equals(reread.host)) keys.add("host");
        if (controlPort != reread.controlPort) keys.add("controlPort");
        if (!controlHost.equals(reread.controlHost)) keys.add("controlHost");
        if (!Objects.equals(triggerFile, reread.triggerFile)) keys.add("triggerFile");
        if (!Objects.equals(releaseLink, reread.releaseLink)) keys.add("releaseLink");
        if (!stateDir.equals(reread.stateDir)) keys.add("stateDir");
        return keys;
    }
}
