package dev.rainbowd.compat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * A config of conf/examples/, as TestDaemon's settings: the file as written, less what binds the
 * machine's own ports and paths (port, stateDir, trigger file, release link), with workingDir
 * made absolute (TestDaemon writes the config into a temporary directory).
 */
final class ExampleConfig {
    static final Path DIR = Path.of("conf", "examples");
    private static final List<String> MACHINE_KEYS = List.of("port", "controlPort", "stateDir", "triggerFile", "releaseLink");

    private ExampleConfig() {}

    static Map<String, String> load(String name) throws IOException {
        Path file = DIR.resolve(name + ".yaml");
        Object parsed = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
        Map<String, String> settings = new LinkedHashMap<>();
        ((Map<?, ?>) parsed).forEach((k, v) -> {
            if (!MACHINE_KEYS.contains(k.toString())) settings.put(k.toString(), render(v));
        });
        if (settings.containsKey("workingDir")) {
            settings.put("workingDir", DIR.resolve(settings.get("workingDir")).toAbsolutePath().normalize().toString());
        }
        return settings;
    }

    /** A nested map (env) as a JSON flow mapping, which TestDaemon writes as it is. */
    private static String render(Object v) {
        if (!(v instanceof Map<?, ?> m)) return v.toString();
        return m.entrySet().stream().map(e -> quote(e.getKey()) + ": " + quote(e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static String quote(Object s) {
        return '"' + s.toString().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
