package dev.rainbowd.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code envFile}: a file of {@code KEY=value} lines, read as systemd reads an {@code EnvironmentFile=}: blank lines
 * and lines starting with {@code #} or {@code ;} are skipped, whitespace around the key and before
 * the value is dropped, a value in double or single quotes loses its quotes (in double quotes
 * {@code \"}, {@code \\}, {@code \n} and {@code \t} are escapes), a line ending in a backslash goes
 * on with the next one, and nothing is expanded ({@code $HOME} stays {@code $HOME}). Errors name the
 * file and the line, never a value: the values are secrets.
 */
public record EnvFile(Path path, boolean optional) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Like the config file: this only stops a wrong path from eating the heap. */
    private static final long MAX_BYTES = 1 << 20;

    /** As written in the config: "-" first when it may be missing. */
    @Override
    public String toString() {
        return (optional ? "-" : "") + path;
    }

    /**
     * The variables, in order (a later line wins; none if the file is optional and missing);
     * {@code key} is how the config names it in errors.
     */
    /** Fails as {@link #read} would when the file is required and missing, without opening it. */
    void requireExists(String key) throws ConfigException {
        if (!optional && !Files.exists(path)) throw missing(key);
    }

    private ConfigException missing(String key) {
        return new ConfigException(key + ": " + path + " does not exist (write -" + path + " if it may be missing)");
    }

    Map<String, String> read(String key) throws ConfigException {
        Path file = path;
        if (optional && !Files.exists(file)) return Map.of();
        String text;
        try {
            if (Files.size(file) > MAX_BYTES) throw new ConfigException(key + ": " + file + " is larger than 1 MB");
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw missing(key);
        } catch (AccessDeniedException e) {
            throw new ConfigException(key + ": " + file + " is not readable by this user (rainbowd reads it, not root: e.g. chgrp rainbow, chmod 640)");
        } catch (CharacterCodingException e) {
            throw new ConfigException(key + ": " + file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(key + ": " + file + ": " + e.getMessage());
        }
        Map<String, String> vars = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int number = i + 1;
            String line = lines[i];
            while (line.endsWith("\\") && i + 1 < lines.length) line = line.substring(0, line.length() - 1) + lines[++i];
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#") || t.startsWith(";")) continue;
            int eq = t.indexOf('=');
            String name = eq < 0 ? t : t.substring(0, eq).strip();
            if (eq < 0 || !NAME.matcher(name).matches()) {
                throw new ConfigException(key + ": " + file + " line " + number + ": not NAME=value (a name is letters, digits and _)");
            }
            String value = unquote(t.substring(eq + 1).stripLeading(), file, number, key);
            if (value.indexOf('\0') >= 0) throw new ConfigException(key + ": " + file + " line " + number + ": " + name + " contains a NUL character");
            vars.put(name, value);
        }
        return vars;
    }

    private static String unquote(String v, Path file, int line, String key) throws ConfigException {
        if (v.isEmpty() || (v.charAt(0) != '"' && v.charAt(0) != '\'')) return v;
        char quote = v.charAt(0);
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == quote) {
                if (!v.substring(i + 1).isBlank()) {
                    throw new ConfigException(key + ": " + file + " line " + line + ": text after the closing quote");
                }
                return out.toString();
            }
            if (c == '\\' && quote == '"' && i + 1 < v.length()) {
                char n = v.charAt(++i);
                out.append(switch (n) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    default -> n;
                });
            } else {
                out.append(c);
            }
        }
        throw new ConfigException(key + ": " + file + " line " + line + ": no closing " + quote);
    }
}
