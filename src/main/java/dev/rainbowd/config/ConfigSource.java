package dev.rainbowd.config;

/** Reads the config as it is on disk now: each deploy asks it again. */
@FunctionalInterface
public interface ConfigSource {
    Config read() throws ConfigException;
}
