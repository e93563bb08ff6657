package dev.rainbowd.config;

/**
 * An invalid or unreadable config. The message is one line that already names the
 * file, the key and the offending value, so the CLI prints {@link #getMessage()} as is
 * and exits 78.
 */
public class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }
}
