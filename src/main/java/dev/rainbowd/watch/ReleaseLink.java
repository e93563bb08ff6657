package dev.rainbowd.watch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@code current}-style symlink and the target it resolved to when last looked at. The target
 * is resolved fully ({@code toRealPath}), so {@code current -> releases/v2} and a chain of links
 * to the same directory are the same release.
 */
final class ReleaseLink {
    private final Path path;
    private String target;

    ReleaseLink(Path path) {
        this.path = path;
        this.target = resolve();
    }

    Path path() {
        return path;
    }

    String target() {
        return target;
    }

    /** True if the link now resolves elsewhere than last time. */
    boolean changed() {
        String now = resolve();
        if (now.equals(target)) return false;
        target = now;
        return true;
    }

    private String resolve() {
        try {
            return path.toRealPath().toString();
        } catch (IOException e) {
            // Dangling or missing: still a distinct state, so a swap to a missing directory is
            // seen (and its deploy fails with the reason) and a swap back from it is seen too.
            try {
                return "missing:" + Files.readSymbolicLink(path);
            } catch (IOException | UnsupportedOperationException e2) {
                return "missing";
            }
        }
    }
}
