package dev.rainbowd.control;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control token as the config file says now. The CLI reads the token from the same file, so
 * a rotated token must work for the very next command (`systemctl reload` included), not after a
 * deploy: the file is read again whenever it changed (one stat per control request). A file
 * that no longer reads keeps the last valid token, as a deploy keeps the live generation.
 */
public final class ControlToken {
    private static final Logger log = LoggerFactory.getLogger(ControlToken.class);

    private final ConfigSource source;
    private final Path file;
    private Object seen;      // the file's identity and times when last read; guarded by this
    private byte[] expected;  // "Bearer <token>", or null: no token needed

    public ControlToken(Config initial, ConfigSource source) {
        this.source = source;
        this.file = initial.file();
        this.seen = stamp();
        this.expected = header(initial.controlToken());
    }

    /** The {@code Authorization} header a request must carry, or null when none is needed. */
    synchronized byte[] expected() {
        Object now = stamp();
        if (now != null && !now.equals(seen)) {
            seen = now;
            try {
                Optional<String> token = source.read().controlToken();
                if (token.isPresent() != (expected != null)) {
                    log.info("controlToken {} in {}", token.isPresent() ? "set" : "removed", file);
                }
                expected = header(token);
            } catch (ConfigException e) {
                log.warn("controlToken unchanged: {}", e.getMessage());
            }
        }
        return expected;
    }

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(String.valueOf(a.fileKey()), a.lastModifiedTime(), a.size());
        } catch (IOException e) {
            return null; // gone for a moment (an editor's rename): keep what we have
        }
    }

    private static byte[] header(Optional<String> token) {
        return token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8)).orElse(null);
    }
}
