package dev.rainbowd.config;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.constructor.StandardConstructor;
import org.snakeyaml.engine.v2.exceptions.ConstructorException;
import org.snakeyaml.engine.v2.exceptions.DuplicateKeyException;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Finds, reads and validates the config file (SPEC section 2). Every problem becomes a
 * {@link ConfigException} with a one-line message naming the file, the key and the value.
 */
public final class ConfigLoader {

    static final List<String> DEFAULT_NAMES = List.of("rainbow.yaml", "rainbow.yml", "rainbow.conf.json");

    /** The keys of SPEC section 2, in its order. */
    static final List<String> KEYS = List.of(
            "run", "healthCheckPath", "warmupTime", "port", "host", "controlPort", "controlHost",
            "controlToken", "workingDir", "env", "envFile", "triggerFile", "releaseLink", "healthTimeout",
            "healthDeadline", "drainTimeout", "stopTimeout", "maxGenerations", "launchAttempts",
            "restartOnCrash", "queueTimeout", "stateDir", "stopSignal", "healthCheckHost", "tunnelIdleTimeout", "trustedProxies", "upstreamKeepAlive",
            "requestBuffering", "maxRequestBody", "maxResponseBuffer");

    static final Path RUN_BASE = Path.of("/run/rainbow");

    // A config is a few hundred bytes; this only stops `-c /some/huge/file` from eating the heap.
    private static final long MAX_BYTES = 1 << 20;

    // rainbowd sets these for every generation; an env entry would silently lose to them.
    private static final Set<String> RESERVED_ENV = Set.of("PORT", "PIDFILE", "RAINBOW_GENERATION");

    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%-]+");
    private static final Pattern HOST_HEADER = Pattern.compile("[A-Za-z0-9._-]+(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?");

    private ConfigLoader() {}

    /**
     * The config file to use: {@code explicitOrNull} (resolved against {@code cwd}), else the
     * first of {@code rainbow.yaml}, {@code rainbow.yml}, {@code rainbow.conf.json} in
     * {@code cwd}. Pass {@code Path.of("")} as cwd to keep paths (and so messages) relative to
     * the process's working directory.
     */
    public static Path locate(Path explicitOrNull, Path cwd) throws ConfigException {
        if (explicitOrNull != null) {
            Path file = cwd.resolve(explicitOrNull);
            checkFile(file);
            return file;
        }
        for (String name : DEFAULT_NAMES) {
            Path file = cwd.resolve(name);
            // NOFOLLOW_LINKS: a dangling rainbow.yaml link is a mistake to report, not a reason to fall back.
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return file;
            }
        }
        throw new ConfigException("no config file: none of " + String.join(", ", DEFAULT_NAMES)
                + " in " + escape(cwd.toAbsolutePath().toString(), Integer.MAX_VALUE) + " (use -c FILE)");
    }

    public static Config load(Path file) throws ConfigException {
        return load(file, System.getenv());
    }

    /** {@code environment} supplies {@code TMPDIR} (default stateDir) and {@code HOME} ({@code ~/} in paths). */
    public static Config load(Path file, Map<String, String> environment) throws ConfigException {
        return load(file, environment, RUN_BASE);
    }

    /**
     * The file checked as {@link #load} checks it, but without opening an envFile: for the client
     * commands, which only warn about what the daemon's next deploy will refuse. The secrets are the
     * daemon's to read; a deploy user may not be able to (and must not need to). A missing envFile
     * is still reported.
     */
    public static Config loadWithoutSecrets(Path file) throws ConfigException {
        return load(file, System.getenv(), RUN_BASE, false);
    }

    /** {@code runBase} stands in for {@code /run/rainbow}, for tests. */
    static Config load(Path file, Map<String, String> environment, Path runBase) throws ConfigException {
        return load(file, environment, runBase, true);
    }

    private static Config load(Path file, Map<String, String> environment, Path runBase, boolean secrets) throws ConfigException {
        String name = name(file);
        try {
            checkFile(file);
            String text = read(file, name);
            Parsed parsed = parse(name, text);
            return new Fields(file, name, parsed, environment, runBase).build(secrets);
        } catch (StackOverflowError e) {
            // The engine recurses once per nesting level; `[[[[...` is the only way here.
            throw new ConfigException(name + ": is nested too deeply to be a config file");
        } catch (OutOfMemoryError e) {
            // Safe to catch: everything allocated here is garbage once load() is left.
            throw new ConfigException(name + ": is too large to load as a config file");
        } catch (RuntimeException e) {
            // A bug of ours or the engine's; a Java exception's text means nothing to the user.
            throw new ConfigException(name + ": cannot load this file (an internal error)");
        }
    }

    /**
     * Only what a client needs to reach the daemon, read leniently: a mistake elsewhere in the
     * file must not stop {@code rainbowd redeploy} from asking the daemon, whose deploy then fails
     * with the full reason (and records it), or {@code status} from answering.
     */
    public static ControlAddress loadControl(Path file) throws ConfigException {
        String name = name(file);
        try {
            checkFile(file);
            Parsed parsed = parse(name, read(file, name));
            return new Fields(file, name, parsed, Map.of(), RUN_BASE).control();
        } catch (StackOverflowError | OutOfMemoryError | RuntimeException e) {
            throw new ConfigException(name + ": cannot load this file");
        }
    }

    // Escaped: a file name may hold a line break, and every message must stay one line.
    private static String name(Path file) {
        String s = file.toString();
        return s.isEmpty() ? "." : escape(s, Integer.MAX_VALUE);
    }

    private static void checkFile(Path file) throws ConfigException {
        String name = name(file);
        if (Files.isDirectory(file)) {
            throw new ConfigException(name + ": is a directory, not a config file");
        }
        if (!Files.exists(file)) {
            throw new ConfigException(name + (Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                    ? ": is a symlink to a missing file" : ": no such file"));
        }
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(name + ": is not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new ConfigException(name + ": is not readable (permission denied)");
        }
    }

    private static String read(Path file, String name) throws ConfigException {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new ConfigException(name + ": is " + size + " bytes, too large for a config file (at most 1 MiB)");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new ConfigException(name + ": is not UTF-8 text");
        } catch (AccessDeniedException e) {
            throw new ConfigException(name + ": is not readable (permission denied)");
        } catch (IOException e) {
            String reason = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
            throw new ConfigException(name + ": cannot read: " + (reason == null ? "I/O error" : oneLine(reason)));
        }
    }

    /** The document both as plain Java values and as its node tree (for env's exact scalar text). */
    record Parsed(Object value, Optional<Node> root) {}

    // A config needs no alias to a list or mapping; the few allowed keep any shared structure small.
    private static final int MAX_COLLECTION_ALIASES = 10;

    private static Parsed parse(String name, String text) throws ConfigException {
        LoadSettings settings = LoadSettings.builder()
                // YAML 1.2 core schema, not the engine's default JsonSchema. Both keep `yes`/`on`
                // strings (1.1's booleans are gone) and read JSON, `\/` escape included, as
                // written. Only core also reads plain `~`/`null`/empty as null, `True`/`TRUE` as
                // booleans and `0x1F`/`+1` as integers, which is what a YAML author means; under
                // JsonSchema `restartOnCrash: True` would be the string "True".
                .setSchema(new CoreSchema())
                .setAllowDuplicateKeys(false)
                .setMaxAliasesForCollections(MAX_COLLECTION_ALIASES)
                .setLabel(name)
                .build();
        try {
            Optional<Node> root = new Compose(settings).composeString(text);
            if (root.isPresent()) {
                NodeCheck.check(name, root.get());
            }
            return new Parsed(new CheckedConstructor(settings).constructSingleDocument(root), root);
        } catch (DuplicateKeyException e) {
            String key = String.valueOf(e.getProblem()).replaceFirst("^found duplicate key ", "");
            throw new ConfigException(name + ": duplicate key " + quote(key) + at(e.getProblemMark()));
        } catch (MarkedYamlEngineException e) {
            if (String.valueOf(e.getProblem()).startsWith("but found another document")) {
                throw new ConfigException(name + ": invalid YAML" + at(e.getProblemMark())
                        + ": a second document starts here; a config is a single document (remove the ---)");
            }
            String problem = e.getProblem() == null ? e.getMessage() : e.getProblem();
            String context = e.getContext() == null || e.getContext().isBlank() ? ""
                    : " (" + oneLine(e.getContext()) + at(e.getContextMark()) + ")";
            throw new ConfigException(name + ": invalid YAML" + at(e.getProblemMark()) + ": " + oneLine(problem) + context);
        } catch (ReaderException e) {
            throw new ConfigException(name + ": invalid YAML" + at(text, e.getPosition())
                    + String.format(": character U+%04X is not allowed", e.getCodePoint()));
        } catch (YamlEngineException e) {
            // The engine's own words (e.g. the alias limit), unless it only wraps a Java exception.
            throw new ConfigException(name + ": invalid YAML: "
                    + (e.getCause() == null ? oneLine(e.getMessage()) : "cannot read this YAML value"));
        } catch (RuntimeException e) {
            // The scanner lets a few through unwrapped, e.g. for a file ending inside a backslash-u escape.
            throw new ConfigException(name + ": invalid YAML: cannot read this YAML value");
        }
    }

    /**
     * A value its tag cannot construct ({@code !!binary "%%%"}, {@code !!str [a]}) becomes a marked
     * error; the engine would wrap the Java exception, whose text means nothing to the user.
     */
    private static final class CheckedConstructor extends StandardConstructor {
        CheckedConstructor(LoadSettings settings) {
            super(settings);
        }

        @Override
        protected Object constructObjectNoCheck(Node node) {
            try {
                return super.constructObjectNoCheck(node);
            } catch (MarkedYamlEngineException e) {
                throw e;
            } catch (RuntimeException e) {
                String what = node instanceof ScalarNode s ? quote(s.getValue())
                        : node instanceof MappingNode ? "a mapping" : "a list";
                throw new ConstructorException(null, Optional.empty(),
                        "cannot read " + what + " as " + NodeCheck.tagName(node.getTag()), node.getStartMark());
            }
        }
    }

    /** The reader reports a code point index, not a mark. */
    private static String at(String text, int codePointIndex) {
        int line = 0;
        int column = 0;
        int[] cps = text.codePoints().limit(Math.max(0, codePointIndex)).toArray();
        for (int c : cps) {
            if (c == '\n') {
                line++;
                column = 0;
            } else {
                column++;
            }
        }
        return " at line " + (line + 1) + ", column " + (column + 1);
    }

    static String at(Optional<Mark> mark) {
        return mark.map(m -> " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1)).orElse("");
    }

    /** Validates one parsed document; the first problem found is thrown. */
    private static final class Fields {
        private final Path file;
        private final String name;
        private final Map<?, ?> raw;
        private final Parsed parsed;
        private final Map<String, String> environment;
        private final Path runBase;
        private final Path dir;

        Fields(Path file, String name, Parsed parsed, Map<String, String> environment, Path runBase) throws ConfigException {
            this.file = file.toAbsolutePath().normalize();
            this.name = name;
            this.parsed = parsed;
            this.environment = environment;
            this.runBase = runBase;
            // Not toRealPath(): a config reached through a symlink keeps the link's directory.
            this.dir = this.file.getParent();
            Object value = parsed.value();
            if (value == null) {
                throw new ConfigException(name + ": is empty (it needs at least run and healthCheckPath)");
            }
            if (!(value instanceof Map<?, ?> map)) {
                throw new ConfigException(name + ": top level: " + show(value) + " is not a mapping of key: value pairs");
            }
            this.raw = map;
        }

        /** {@code secrets}: read each envFile into env; without, only check that a required one exists. */
        Config build(boolean secrets) throws ConfigException {
            for (Object key : raw.keySet()) {
                if (!(key instanceof String s) || !KEYS.contains(s)) {
                    String hint = key instanceof String s ? suggest(s).map(k -> " (did you mean " + quote(k) + "?)").orElse("") : "";
                    throw new ConfigException(name + ": unknown key " + show(key) + hint);
                }
            }
            String run = run();
            Readiness readiness = readiness();
            int port = integer("port", 7000, 1, 65535);
            String host = host("host");
            int controlPort = controlPort(port);
            String controlHost = host("controlHost");
            Optional<String> controlToken = controlToken();
            if (controlToken.isEmpty() && !isLoopback(controlHost)) {
                throw err("controlHost", raw.get("controlHost"), "is not a loopback address, so controlToken is required"
                        + " (anyone who can reach the control port could redeploy)");
            }
            Path workingDir = workingDir();
            List<EnvFile> envFiles = envFiles();
            Map<String, String> env = new LinkedHashMap<>();
            for (EnvFile f : envFiles) {
                if (secrets) env.putAll(envFile(f));
                else f.requireExists(name + ": envFile");
            }
            env.putAll(env()); // as docker compose: `env` in the file wins over an envFile's line
            Optional<Path> triggerFile = path("triggerFile");
            Optional<Path> releaseLink = path("releaseLink");
            Duration healthTimeout = duration("healthTimeout", Duration.ofSeconds(2), true);
            Duration healthDeadline = duration("healthDeadline", Duration.ofSeconds(60), true);
            Duration drainTimeout = duration("drainTimeout", Duration.ofSeconds(30), false);
            Duration stopTimeout = duration("stopTimeout", Duration.ofSeconds(10), true);
            int maxGenerations = integer("maxGenerations", 10, 1, 100);
            int launchAttempts = integer("launchAttempts", 3, 1, 100);
            boolean restartOnCrash = bool("restartOnCrash", true);
            Duration queueTimeout = duration("queueTimeout", Duration.ofSeconds(30), false);
            Path stateDir = path("stateDir").orElseGet(() -> defaultStateDir(port, environment, runBase));
            StopSignal stopSignal = stopSignal();
            Optional<String> healthCheckHost = healthCheckHost(readiness);
            // HAProxy's documented `timeout tunnel` for WebSockets: a socket quiet for an hour is gone
            // (its peer vanished without a FIN), while apps' heartbeats (20-30 s) keep live ones open.
            Duration tunnelIdleTimeout = duration("tunnelIdleTimeout", Duration.ofHours(1), true);
            List<AddressRange> trustedProxies = trustedProxies();
            boolean keepAliveAll = upstreamKeepAlive();
            Buffering buffering = new Buffering(bool("requestBuffering", true),
                    size("maxRequestBody", Buffering.MAX_REQUEST_BODY), size("maxResponseBuffer", Buffering.MAX_RESPONSE_BUFFER));
            return new Config(new DaemonConfig(file, host, port, controlHost, controlPort, stateDir, triggerFile, releaseLink),
                    new AppConfig(run, readiness, healthCheckHost, workingDir, env, healthTimeout, healthDeadline, drainTimeout,
                            stopTimeout, stopSignal, maxGenerations, launchAttempts, restartOnCrash, queueTimeout,
                            tunnelIdleTimeout, trustedProxies, keepAliveAll, buffering, Instant.now()),
                    controlToken, envFiles);
        }

        ControlAddress control() throws ConfigException {
            int port = integer("port", 7000, 1, 65535);
            return new ControlAddress(host("controlHost"), controlPort(port), controlToken());
        }

        private ConfigException err(String key, Object value, String reason) {
            return new ConfigException(name + ": " + key + ": " + show(value) + " " + reason);
        }

        /** Null (`key:` or `key: ~`) means "not set" for every key, so the default applies. */
        private Optional<String> string(String key, String what) throws ConfigException {
            Object v = raw.get(key);
            if (v == null) {
                return Optional.empty();
            }
            if (!(v instanceof String s)) {
                throw err(key, v, "is not a string (" + what + ")");
            }
            if (s.indexOf('\0') >= 0) {
                throw err(key, v, "contains a NUL character");
            }
            return Optional.of(s);
        }

        private String run() throws ConfigException {
            String what = "the shell command that starts the app, e.g. run: sh run.sh";
            String run = string("run", what).orElseThrow(
                    () -> new ConfigException(name + ": run: is missing; it is required (" + what + ")"));
            if (run.isBlank()) {
                throw err("run", run, "is empty (" + what + ")");
            }
            return run;
        }

        // The original treated any falsy value as absent. Here only null is absent, as for
        // every key: `healthCheckPath: ""` fails the path check and `warmupTime: 0` means
        // "no wait", so a typo never silently switches readiness mode.
        private Readiness readiness() throws ConfigException {
            Object path = raw.get("healthCheckPath");
            Object warmup = raw.get("warmupTime");
            if (path != null && warmup != null) {
                throw new ConfigException(name + ": healthCheckPath: " + show(path) + " and warmupTime: " + show(warmup)
                        + " are both set; keep one (healthCheckPath is recommended)");
            }
            if (warmup != null) {
                return new Readiness.Warmup(duration("warmupTime", null, false));
            }
            if (path == null) {
                throw new ConfigException(name + ": healthCheckPath: is missing; set it (e.g. healthCheckPath: /health)"
                        + " or, discouraged, warmupTime");
            }
            String p = string("healthCheckPath", "an HTTP path such as /health").orElseThrow();
            if (!p.startsWith("/")) {
                throw err("healthCheckPath", p, "must start with /");
            }
            try {
                URI uri = new URI("http://localhost" + p);
                if (!"localhost".equals(uri.getHost()) || uri.getRawFragment() != null) {
                    throw new URISyntaxException(p, "not a path");
                }
            } catch (URISyntaxException e) {
                throw err("healthCheckPath", p, "is not a valid URL path (percent-encode spaces and special characters)");
            }
            return new Readiness.HealthCheck(p);
        }

        /** A list of addresses or CIDRs, or one of them as a string; default loopback. */
        private List<AddressRange> trustedProxies() throws ConfigException {
            Object v = raw.get("trustedProxies");
            if (v == null) return List.of(AddressRange.LOOPBACK);
            List<?> items = v instanceof List<?> l ? l : List.of(v);
            List<AddressRange> ranges = new ArrayList<>();
            for (Object item : items) {
                if (!(item instanceof String text)) {
                    throw err("trustedProxies", item, "is not an address or CIDR (e.g. 10.0.0.0/8, ::1); quote it");
                }
                ranges.add(AddressRange.parse(text).orElseThrow(() -> err("trustedProxies", text,
                        "is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8)")));
            }
            return List.copyOf(ranges);
        }

        /**
         * "replayable" (default): only requests rainbowd could send again go on pooled connections;
         * "all": every request, for app servers that never close a kept-alive connection under a
         * request (a POST that meets one gets 502). True for "all".
         */
        private boolean upstreamKeepAlive() throws ConfigException {
            Optional<String> v = string("upstreamKeepAlive", "replayable or all");
            if (v.isEmpty() || v.get().strip().equalsIgnoreCase("replayable")) return false;
            if (v.get().strip().equalsIgnoreCase("all")) return true;
            throw err("upstreamKeepAlive", v.get(), "is not replayable or all");
        }

        private StopSignal stopSignal() throws ConfigException {
            Optional<String> name = string("stopSignal", "a signal name such as QUIT");
            if (name.isEmpty()) return StopSignal.TERM;
            return StopSignal.parse(name.get()).orElseThrow(() -> err("stopSignal", name.get(),
                    "is not a graceful stop signal; use one of " + StopSignal.names()
                            + " (SIGKILL follows after stopTimeout anyway)"));
        }

        /** The Host header of probes: Django's ALLOWED_HOSTS and Rails' config.hosts refuse 127.0.0.1:PORT. */
        private Optional<String> healthCheckHost(Readiness readiness) throws ConfigException {
            Optional<String> value = string("healthCheckHost", "a host name, optionally with :port");
            if (value.isEmpty()) return Optional.empty();
            String h = value.get().strip();
            if (!(readiness instanceof Readiness.HealthCheck)) {
                throw err("healthCheckHost", value.get(), "is set, but without healthCheckPath nothing is probed");
            }
            // A header value: no spaces, no control bytes, nothing a request line could be split on.
            if (h.isEmpty() || h.length() > 255 || !HOST_HEADER.matcher(h).matches()) {
                throw err("healthCheckHost", value.get(), "is not a host name (e.g. shop.example.com or shop.example.com:443)");
            }
            return Optional.of(h);
        }

        private int integer(String key, int fallback, int min, int max) throws ConfigException {
            Object v = raw.get(key);
            if (v == null) {
                return fallback;
            }
            BigInteger b = v instanceof BigInteger big ? big
                    : v instanceof Integer || v instanceof Long ? BigInteger.valueOf(((Number) v).longValue()) : null;
            if (b != null && b.compareTo(BigInteger.valueOf(min)) >= 0 && b.compareTo(BigInteger.valueOf(max)) <= 0) {
                return b.intValue();
            }
            String hint = v instanceof String s && s.strip().matches("[+-]?\\d+") ? " (write it without quotes)" : "";
            throw err(key, v, "is not an integer in " + min + ".." + max + hint);
        }

        private int controlPort(int port) throws ConfigException {
            if (raw.get("controlPort") == null) {
                if (port == 65535) {
                    throw new ConfigException(name + ": controlPort: defaults to port + 1 = 65536, which is not a port;"
                            + " set controlPort");
                }
                return port + 1;
            }
            int controlPort = integer("controlPort", 0, 1, 65535);
            if (controlPort == port) {
                throw err("controlPort", raw.get("controlPort"), "is the same as port; use another (default port + 1)");
            }
            return controlPort;
        }

        private String host(String key) throws ConfigException {
            Optional<String> value = string(key, "a host name or IP address");
            if (value.isEmpty()) {
                return "127.0.0.1";
            }
            String h = value.get().strip();
            // Brackets are URL syntax, not part of the address; the socket wants the bare literal.
            if (h.startsWith("[") && h.endsWith("]")) {
                h = h.substring(1, h.length() - 1);
            }
            if (!HOST.matcher(h).matches()) {
                throw err(key, value.get(), "is not a host name or IP address");
            }
            return h;
        }

        // The token itself never appears in a message: those end up in logs and CI output.
        private Optional<String> controlToken() throws ConfigException {
            Object v = raw.get("controlToken");
            if (v == null) {
                return Optional.empty();
            }
            if (!(v instanceof String token)) {
                throw new ConfigException(name + ": controlToken: (value hidden, " + kind(v) + ") is not a string;"
                        + " quote the token");
            }
            if (token.isEmpty()) {
                throw err("controlToken", token, "is empty; remove the key or set a token");
            }
            // It travels in an `Authorization: Bearer` header, where only visible ASCII is safe.
            if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new ConfigException(name + ": controlToken: (value hidden) must be printable ASCII without spaces");
            }
            return Optional.of(token);
        }

        private Path workingDir() throws ConfigException {
            Optional<Path> dir = path("workingDir");
            if (dir.isEmpty()) {
                return this.dir;
            }
            Path p = dir.get();
            String where = " (" + quote(p.toString(), 200) + ")";
            if (!Files.exists(p)) {
                throw err("workingDir", raw.get("workingDir"), "does not exist" + where);
            }
            if (!Files.isDirectory(p)) {
                throw err("workingDir", raw.get("workingDir"), "is not a directory" + where);
            }
            return p;
        }

        /**
         * One path or a list, relative to the config's directory; a leading "-" (as systemd's
         * EnvironmentFile=-...) means the file may be missing.
         */
        private List<EnvFile> envFiles() throws ConfigException {
            Object v = raw.get("envFile");
            if (v == null) return List.of();
            List<?> items = v instanceof List<?> l ? l : List.of(v);
            List<EnvFile> files = new ArrayList<>();
            for (Object item : items) {
                if (!(item instanceof String text) || text.isBlank() || text.indexOf('\0') >= 0) {
                    throw err("envFile", item, "is not a path (a file of NAME=value lines, or a list of them)");
                }
                boolean optional = text.startsWith("-");
                String path = optional ? text.substring(1) : text;
                try {
                    files.add(new EnvFile(dir.resolve(path).normalize(), optional));
                } catch (InvalidPathException e) {
                    throw err("envFile", text, "is not a valid path");
                }
            }
            return List.copyOf(files);
        }

        private Map<String, String> envFile(EnvFile file) throws ConfigException {
            Map<String, String> vars = file.read(name + ": envFile");
            for (String key : vars.keySet()) {
                if (RESERVED_ENV.contains(key)) {
                    throw new ConfigException(name + ": envFile: " + file.path() + " sets " + key
                            + ", which rainbowd sets for every generation; remove it");
                }
            }
            return vars;
        }

        /** Relative to the config's directory; never through toRealPath(), releaseLink is a moving symlink. */
        private Optional<Path> path(String key) throws ConfigException {
            Optional<String> value = string(key, "a path");
            if (value.isEmpty()) {
                return Optional.empty();
            }
            String text = value.get();
            if (text.isBlank()) {
                throw err(key, text, "is empty");
            }
            if (text.equals("~") || text.startsWith("~/")) {
                String home = environment.getOrDefault("HOME", System.getProperty("user.home"));
                text = home + text.substring(1);
            }
            try {
                return Optional.of(dir.resolve(text).normalize());
            } catch (InvalidPathException e) {
                throw err(key, value.get(), "is not a valid path");
            }
        }

        // Values come from the node tree, not the constructed map: `VERSION: 1.10` must stay
        // "1.10" and `N: 0x1F` "0x1F", not the number's toString().
        private Map<String, String> env() throws ConfigException {
            Object v = raw.get("env");
            if (v == null) {
                return Map.of();
            }
            if (!(v instanceof Map<?, ?> map)) {
                throw err("env", v, "is not a mapping of NAME: value");
            }
            MappingNode node = envNode();
            if (node.getValue().size() != map.size()) {
                throw new IllegalStateException("env has " + map.size() + " entries but " + node.getValue().size() + " nodes");
            }
            Map<String, String> env = new LinkedHashMap<>();
            Iterator<NodeTuple> tuples = node.getValue().iterator();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Node valueNode = tuples.next().getValueNode();
                if (!(e.getKey() instanceof String key) || key.isEmpty() || key.contains("=")
                        || key.codePoints().anyMatch(ConfigLoader::isControl)) {
                    throw err("env", e.getKey(), "is not a valid variable name");
                }
                if (RESERVED_ENV.contains(key)) {
                    throw err("env", key, "is set by rainbowd for every generation; remove it");
                }
                String where = "env: " + escape(key, 60);
                Object value = e.getValue();
                if (value == null) {
                    throw err(where, null, "has no value (write \"\" for an empty string)");
                }
                if (!(value instanceof String || value instanceof Number || value instanceof Boolean)
                        || !(valueNode instanceof ScalarNode scalar)) {
                    throw err(where, value, "is not a string, number or boolean");
                }
                if (scalar.getValue().indexOf('\0') >= 0) {
                    throw err(where, value, "contains a NUL character");
                }
                env.put(key, scalar.getValue());
            }
            return env;
        }

        private MappingNode envNode() {
            for (NodeTuple t : ((MappingNode) parsed.root().orElseThrow()).getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getTag().equals(Tag.STR) && k.getValue().equals("env")) {
                    return (MappingNode) t.getValueNode();
                }
            }
            throw new IllegalStateException("env node not found");
        }

        private Duration duration(String key, Duration fallback, boolean positive) throws ConfigException {
            Object v = raw.get(key);
            if (v == null) {
                return fallback;
            }
            Duration d;
            try {
                d = Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw err(key, v, e.getMessage());
            }
            if (positive && d.isZero()) {
                throw err(key, v, "must be more than 0");
            }
            return d;
        }

        private long size(String key, long fallback) throws ConfigException {
            Object v = raw.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return ByteSize.parse(v);
            } catch (IllegalArgumentException e) {
                throw err(key, v, e.getMessage());
            }
        }

        private boolean bool(String key, boolean fallback) throws ConfigException {
            Object v = raw.get(key);
            if (v == null) {
                return fallback;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            String hint = v instanceof String s && s.strip().toLowerCase(Locale.ROOT).matches("yes|no|on|off|y|n|true|false")
                    ? " (YAML 1.2: write true or false, without quotes)" : "";
            throw err(key, v, "is not true or false" + hint);
        }
    }

    /**
     * {@code $RUNTIME_DIRECTORY/<port>} under a systemd unit that has a RuntimeDirectory= (the
     * service's own: /run/rainbow for rainbowd.service, /run/rainbow/shop for rainbowd@shop, whose
     * parent /run/rainbow is root's); else SPEC's: {@code /run/rainbow/<port>} if that base is a
     * writable directory, else {@code $XDG_RUNTIME_DIR/rainbowd-<port>} when set (the user's own,
     * 0700: nobody else can make the directory first), else {@code $TMPDIR/rainbowd-<port>} (checked
     * at start: see StateDir). Without the first, an instance of the template unit would fall
     * through to its PrivateTmp= /tmp, which a restart empties.
     */
    static Path defaultStateDir(int port, Map<String, String> environment, Path runBase) {
        String unitRuntime = environment.get("RUNTIME_DIRECTORY");
        if (unitRuntime != null && !unitRuntime.isBlank()) {
            try {
                // several RuntimeDirectory= entries arrive joined by ':'; the first is the unit's main one
                Path dir = Path.of(unitRuntime.split(":", 2)[0]);
                if (dir.isAbsolute() && Files.isDirectory(dir) && Files.isWritable(dir)) {
                    return dir.normalize().resolve(Integer.toString(port));
                }
            } catch (InvalidPathException e) {
                // fall back to the others
            }
        }
        if (Files.isDirectory(runBase) && Files.isWritable(runBase)) {
            return runBase.resolve(Integer.toString(port)).toAbsolutePath().normalize();
        }
        String runtime = environment.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            try {
                Path dir = Path.of(runtime);
                if (dir.isAbsolute() && Files.isDirectory(dir)) return dir.normalize().resolve("rainbowd-" + port);
            } catch (InvalidPathException e) {
                // fall back to TMPDIR
            }
        }
        Path tmp;
        try {
            String env = environment.get("TMPDIR");
            tmp = env == null || env.isBlank() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(env);
        } catch (InvalidPathException e) {
            tmp = Path.of(System.getProperty("java.io.tmpdir"));
        }
        return tmp.toAbsolutePath().normalize().resolve("rainbowd-" + port);
    }

    /** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost; no DNS lookup. */
    public static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.equals("localhost.")) {
            return true;
        }
        var m = IPV4.matcher(h);
        if (m.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(m.group(i)) > 255) {
                    return false;
                }
            }
            return Integer.parseInt(m.group(1)) == 127;
        }
        // Starting with a hex digit or ':' and containing ':' makes InetAddress parse a
        // literal and never fall back to a DNS lookup.
        if (h.contains(":") && (h.charAt(0) == ':' || Character.digit(h.charAt(0), 16) >= 0)) {
            try {
                return InetAddress.getByName(h).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    /** The valid key closest to a mistyped one, ignoring case, '_' and '-' (health_check_path). */
    static Optional<String> suggest(String key) {
        String k = squash(key);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : KEYS) {
            String c = squash(candidate);
            // Too far apart to be suggested anyway; distance() is quadratic and keys can be a megabyte.
            if (Math.abs(k.length() - c.length()) > 3) {
                continue;
            }
            int d = distance(k, c);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(1, Math.min(3, best.length() / 4)) ? Optional.of(best) : Optional.empty();
    }

    private static String squash(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[-_\\s]", "");
    }

    /** Edit distance where swapping two neighbours counts as one edit (optimal string alignment). */
    public static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String kind(Object v) {
        if (v instanceof Number) {
            return "a number";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        if (v instanceof Map) {
            return "a mapping";
        }
        if (v instanceof Collection) {
            return "a list";
        }
        return "binary data";
    }

    private static final int SHOW_LIMIT = 80;

    /** A value as it would be written in the config, on one line and at most about 80 characters. */
    static String show(Object v) {
        if (v instanceof String s) {
            return quote(s);
        }
        StringBuilder out = new StringBuilder();
        show(v, out, 0);
        return out.length() > SHOW_LIMIT ? out.substring(0, SHOW_LIMIT - 1) + "…" : out.toString();
    }

    // Depth and length limits: an alias can make a list contain itself.
    private static void show(Object v, StringBuilder out, int depth) {
        if (out.length() > SHOW_LIMIT) {
            return;
        }
        if (v instanceof String s) {
            out.append(quote(s));
        } else if (v instanceof Map<?, ?> m) {
            if (depth > 3) {
                out.append("{…}");
                return;
            }
            out.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.append(sep);
                show(e.getKey(), out, depth + 1);
                out.append(": ");
                show(e.getValue(), out, depth + 1);
                sep = ", ";
                if (out.length() > SHOW_LIMIT) {
                    return;
                }
            }
            out.append('}');
        } else if (v instanceof Collection<?> c) {
            if (depth > 3) {
                out.append("[…]");
                return;
            }
            out.append('[');
            String sep = "";
            for (Object o : c) {
                out.append(sep);
                show(o, out, depth + 1);
                sep = ", ";
                if (out.length() > SHOW_LIMIT) {
                    return;
                }
            }
            out.append(']');
        } else if (v instanceof byte[]) {
            out.append("(binary data)");
        } else {
            out.append(oneLine(String.valueOf(v)));
        }
    }

    static String quote(String s) {
        return quote(s, 60);
    }

    /** JSON-style double-quoted string, so control characters cannot break the line; cut after {@code limit} characters. */
    static String quote(String s, int limit) {
        return "\"" + escape(s, limit, true) + "\"";
    }

    /** Like {@link #quote} without the quotes: for names (files, env names) inside a message. */
    static String escape(String s, int limit) {
        return escape(s, limit, false);
    }

    private static String escape(String s, int limit, boolean quoted) {
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(limit).forEach(c -> {
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (quoted && (c == '"' || c == '\\')) {
                        out.append('\\').appendCodePoint(c);
                    } else if (isControl(c)) {
                        out.append(String.format("\\u%04x", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return s.codePointCount(0, s.length()) > limit ? out.append('…').toString() : out.toString();
    }

    /** What would break a message's line or drive a terminal: C0/C1 controls (NEL, ESC) and U+2028/9. */
    static boolean isControl(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }

    /** Collapses whitespace (the engine's messages span several lines) and escapes control characters. */
    static String oneLine(String s) {
        StringBuilder out = new StringBuilder();
        String.valueOf(s).replaceAll("[\\s\\u2028\\u2029]+", " ").strip().codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
