package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigLoader;
import java.nio.file.Path;
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
        return ConfigLoader.load(ConfigLoader.locate(file, Path.of("").toAbsolutePath()));
    }
}
