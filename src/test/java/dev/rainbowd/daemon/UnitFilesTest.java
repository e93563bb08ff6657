package dev.rainbowd.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The template units are rainbowd.service and rainbowd.socket per instance: every setting of one
 * is the other's, but for the instance's names and directories. A setting changed in one file
 * and forgotten in the other fails here (systemd-analyze verify in CI would not notice).
 */
class UnitFilesTest {
    private static final Path UNITS = Path.of("systemd");

    @Test
    void theTemplateServiceIsThePlainOnePerInstance() throws IOException {
        List<String> plain = settings("rainbowd.service", Set.of());
        List<String> template = settings("rainbowd@.service", Set.of());
        Map<String, String> perInstance = Map.of(
                "Description=rainbowd zero-downtime deploy proxy for %i", "Description=rainbowd zero-downtime deploy proxy",
                "RuntimeDirectory=rainbow/%i", "RuntimeDirectory=rainbow",
                "CacheDirectory=rainbowd/%i", "CacheDirectory=rainbowd",
                "Environment=RAINBOWD_CDS_DIR=/var/cache/rainbowd/%i", "Environment=RAINBOWD_CDS_DIR=/var/cache/rainbowd");
        List<String> asPlain = template.stream()
                .map(line -> perInstance.getOrDefault(line, line))
                .map(line -> line.replace("rainbowd@%i.socket", "rainbowd.socket").replace("/etc/rainbow/%i.yaml", "/etc/rainbow/rainbow.yaml"))
                .toList();
        assertEquals(String.join("\n", plain), String.join("\n", asPlain)); // a line per setting: a readable diff
    }

    @Test
    void theTemplateSocketIsThePlainOneWithoutItsPort() throws IOException {
        // the port is each instance's, from a drop-in (see rainbowd@.socket)
        List<String> plain = settings("rainbowd.socket", Set.of("ListenStream"));
        List<String> asPlain = settings("rainbowd@.socket", Set.of()).stream()
                .map(line -> line.equals("Description=rainbowd proxy socket for %i") ? "Description=rainbowd proxy socket" : line)
                .toList();
        assertEquals(String.join("\n", plain), String.join("\n", asPlain));
    }

    /** The unit's sections and settings, in order, without comments and blank lines (and without {@code skip}). */
    private static List<String> settings(String unit, Set<String> skip) throws IOException {
        return Files.readAllLines(UNITS.resolve(unit)).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .filter(line -> !skip.contains(line.split("=", 2)[0]))
                .toList();
    }
}
