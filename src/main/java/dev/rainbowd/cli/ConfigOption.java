package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.config.ControlAddress;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** {@code -c/--config FILE}, shared by every subcommand. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "config file (default: ./rainbow.yaml, ./rainbow.yml, then ./rainbow.conf.json)")
    Path file;

    /** `rainbowd -c FILE status` means the same as `rainbowd status -c FILE`. */
    ConfigOption orElse(ConfigOption parent) {
        return file == null && parent != null ? parent : this;
    }

    Config load() throws ConfigException {
        return ConfigLoader.load(locate());
    }

    /**
     * Where the daemon is, for the client commands: from the file even when something else in it
     * is wrong (the daemon reports that when it deploys). {@code problem} gets the file's error, if any.
     */
    ControlAddress control(Consumer<ConfigException> problem) throws ConfigException {
        Path path = locate();
        try {
            return ConfigLoader.loadWithoutSecrets(path).control();
        } catch (ConfigException e) {
            ControlAddress control;
            try {
                control = ConfigLoader.loadControl(path);
            } catch (ConfigException unreadable) {
                throw e;
            }
            problem.accept(e);
            return control;
        }
    }

    private Path locate() throws ConfigException {
        return ConfigLoader.locate(file, Path.of("").toAbsolutePath());
    }
}
