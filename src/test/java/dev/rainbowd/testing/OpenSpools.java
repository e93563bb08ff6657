package dev.rainbowd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * rainbowd's spool files (bodies and responses held beyond memory) open in this JVM. They are
 * unlinked as soon as they are open, so a leaked one is a descriptor, not a file in a directory.
 */
public final class OpenSpools {
    private OpenSpools() {}

    public static long count() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().contains("/spool-");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
