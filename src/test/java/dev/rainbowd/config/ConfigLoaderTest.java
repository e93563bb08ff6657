package dev.rainbowd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {

    private static final String ORIGINAL = """
            {"run": "sh run.sh", "healthCheckPath": "/health", "port": 7000, "controlPort": 7001}
            """;

    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private Config load(String content) throws Exception {
        return load(write("rainbow.yaml", content));
    }

    private Config load(Path file) throws ConfigException {
        return ConfigLoader.load(file, Map.of("TMPDIR", dir.resolve("tmp").toString()), dir.resolve("no-run-rainbow"));
    }

    /** Asserts the load fails with one line that names the file and contains every fragment. */
    private String fails(String content, String... fragments) throws IOException {
        Path file = write("rainbow.yaml", content);
        ConfigException e = assertThrows(ConfigException.class, () -> load(file));
        assertMessage(e.getMessage(), file, fragments);
        return e.getMessage();
    }

    private static void assertMessage(String message, Path file, String... fragments) {
        assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
        assertTrue(message.startsWith(file + ": "), "names the file: " + message);
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "contains [" + fragment + "]: " + message);
        }
    }

    // ---- the original JSON format ----

    @Test
    void originalJsonLoads() throws Exception {
        Config c = load(write("rainbow.conf.json", ORIGINAL));
        assertEquals("sh run.sh", c.app().run());
        assertEquals(new Readiness.HealthCheck("/health"), c.app().readiness());
        assertEquals(7000, c.daemon().port());
        assertEquals(7001, c.daemon().controlPort());
        assertEquals(dir.resolve("rainbow.conf.json"), c.file());
    }

    @Test
    void originalJsonWithWarmupTimeLoads() throws Exception {
        Config c = load(write("rainbow.conf.json", """
                {"run": "sh run.sh", "warmupTime": 5000, "port": 7000, "controlPort": 7001}
                """));
        assertEquals(new Readiness.Warmup(Duration.ofSeconds(5)), c.app().readiness());
    }

    @Test
    void jsonSlashEscapeLoadsAsWritten() throws Exception {
        Config c = load(write("rainbow.conf.json", """
                {"run": "cd \\/srv && sh run.sh", "healthCheckPath": "\\/health"}
                """));
        assertEquals("cd /srv && sh run.sh", c.app().run());
        assertEquals(new Readiness.HealthCheck("/health"), c.app().readiness());
    }

    // ---- YAML ----

    @Test
    void defaults() throws Exception {
        Config c = load("run: sh run.sh\nhealthCheckPath: /health\n");
        assertEquals(7000, c.daemon().port());
        assertEquals("127.0.0.1", c.daemon().host());
        assertEquals(7001, c.daemon().controlPort());
        assertEquals("127.0.0.1", c.daemon().controlHost());
        assertEquals(Optional.empty(), c.controlToken());
        assertEquals(dir, c.app().workingDir());
        assertEquals(Map.of(), c.app().env());
        assertEquals(Optional.empty(), c.daemon().triggerFile());
        assertEquals(Optional.empty(), c.daemon().releaseLink());
        assertEquals(Duration.ofSeconds(2), c.app().healthTimeout());
        assertEquals(Duration.ofSeconds(60), c.app().healthDeadline());
        assertEquals(Duration.ofSeconds(30), c.app().drainTimeout());
        assertEquals(Duration.ofSeconds(10), c.app().stopTimeout());
        assertEquals(10, c.app().maxGenerations());
        assertEquals(3, c.app().launchAttempts());
        assertTrue(c.app().restartOnCrash());
        assertEquals(Duration.ofSeconds(30), c.app().queueTimeout());
        assertEquals(dir.resolve("tmp/rainbowd-7000"), c.daemon().stateDir());
    }

    @Test
    void controlPortDefaultsToPortPlusOne() throws Exception {
        assertEquals(8081, load("run: x\nhealthCheckPath: /\nport: 8080\n").daemon().controlPort());
    }

    @Test
    void nullMeansDefault() throws Exception {
        Config c = load("run: x\nhealthCheckPath: /h\nwarmupTime:\nport: ~\nenv: null\nhealthTimeout:\n");
        assertEquals(7000, c.daemon().port());
        assertEquals(Map.of(), c.app().env());
        assertEquals(Duration.ofSeconds(2), c.app().healthTimeout());
    }

    @Test
    void everyKeySet() throws Exception {
        Files.createDirectories(dir.resolve("app"));
        Config c = load("""
                run: sh run.sh $1
                warmupTime: 1.5s
                port: 9000
                host: 0.0.0.0
                controlPort: 9100
                controlHost: "[::1]"
                controlToken: s3cret-token
                workingDir: app
                env: {A: b}
                triggerFile: deploy/trigger
                releaseLink: ../releases/current
                healthTimeout: 250ms
                healthDeadline: 2m
                drainTimeout: 2s
                stopTimeout: 1500
                maxGenerations: 100
                launchAttempts: 1
                restartOnCrash: false
                queueTimeout: 0
                stateDir: state/../state2
                """);
        assertEquals("sh run.sh $1", c.app().run());
        assertEquals(new Readiness.Warmup(Duration.ofMillis(1500)), c.app().readiness());
        assertEquals(9000, c.daemon().port());
        assertEquals("0.0.0.0", c.daemon().host());
        assertEquals(9100, c.daemon().controlPort());
        assertEquals("::1", c.daemon().controlHost());
        assertEquals(Optional.of("s3cret-token"), c.controlToken());
        assertEquals(dir.resolve("app"), c.app().workingDir());
        assertEquals(Map.of("A", "b"), c.app().env());
        assertEquals(Optional.of(dir.resolve("deploy/trigger")), c.daemon().triggerFile());
        assertEquals(Optional.of(dir.getParent().resolve("releases/current")), c.daemon().releaseLink());
        assertEquals(Duration.ofMillis(250), c.app().healthTimeout());
        assertEquals(Duration.ofMinutes(2), c.app().healthDeadline());
        assertEquals(Duration.ofSeconds(2), c.app().drainTimeout());
        assertEquals(Duration.ofMillis(1500), c.app().stopTimeout());
        assertEquals(100, c.app().maxGenerations());
        assertEquals(1, c.app().launchAttempts());
        assertFalse(c.app().restartOnCrash());
        assertEquals(Duration.ZERO, c.app().queueTimeout());
        assertEquals(dir.resolve("state2"), c.daemon().stateDir());
    }

    @Test
    void yamlOneTwoScalars() throws Exception {
        Config c = load("""
                run: sh run.sh
                healthCheckPath: /health
                restartOnCrash: False
                port: 0x1F40
                env:
                  DEBUG: yes
                  LEGACY: on
                  VERSION: 1.10
                  HEX: 0x1F
                  N: 42
                  FLAG: true
                  EMPTY: ""
                  QUOTED: "007"
                """);
        assertFalse(c.app().restartOnCrash());
        assertEquals(8000, c.daemon().port());
        assertEquals(Map.of("DEBUG", "yes", "LEGACY", "on", "VERSION", "1.10", "HEX", "0x1F", "N", "42",
                "FLAG", "true", "EMPTY", "", "QUOTED", "007"), c.app().env());
    }

    @Test
    void yamlFeaturesWork() throws Exception {
        Config c = load("""
                # comment
                run: |
                  cd /srv
                  exec sh run.sh
                healthCheckPath: &p /health?full=1
                env:
                  CHECK: *p
                """);
        assertEquals("cd /srv\nexec sh run.sh\n", c.app().run());
        assertEquals(new Readiness.HealthCheck("/health?full=1"), c.app().readiness());
        assertEquals(Map.of("CHECK", "/health?full=1"), c.app().env());
    }

    @Test
    void bomAndCrlfAreFine() throws Exception {
        Config c = load("\uFEFFrun: sh run.sh\r\nhealthCheckPath: /health\r\n");
        assertEquals("sh run.sh", c.app().run());
    }

    // ---- paths ----

    @Test
    void relativePathsResolveAgainstTheConfigDirectory() throws Exception {
        Files.createDirectories(dir.resolve("conf/app"));
        Config c = load(write("conf/rainbow.yaml", """
                run: x
                healthCheckPath: /
                workingDir: app/./
                triggerFile: ../deploy/trigger
                releaseLink: current
                stateDir: /var/lib/../lib/rainbow
                """));
        assertEquals(dir.resolve("conf/app"), c.app().workingDir());
        assertEquals(dir.resolve("deploy/trigger"), c.daemon().triggerFile().orElseThrow());
        assertEquals(dir.resolve("conf/current"), c.daemon().releaseLink().orElseThrow());
        assertEquals(Path.of("/var/lib/rainbow"), c.daemon().stateDir());
        assertEquals(dir.resolve("conf"), c.app().workingDir().getParent());
        assertTrue(c.app().workingDir().isAbsolute());
    }

    @Test
    void symlinksAreNotResolved() throws Exception {
        Files.createDirectories(dir.resolve("releases/v1"));
        Files.createSymbolicLink(dir.resolve("current"), dir.resolve("releases/v1"));
        Config c = load("run: x\nhealthCheckPath: /\nreleaseLink: current\nworkingDir: current\n");
        assertEquals(dir.resolve("current"), c.daemon().releaseLink().orElseThrow());
        assertEquals(dir.resolve("current"), c.app().workingDir());
    }

    @Test
    void tildeMeansHome() throws Exception {
        Path file = write("rainbow.yaml", "run: x\nhealthCheckPath: /\ntriggerFile: ~/deploy/now\n");
        Config c = ConfigLoader.load(file, Map.of("HOME", "/home/app"), dir.resolve("none"));
        assertEquals(Path.of("/home/app/deploy/now"), c.daemon().triggerFile().orElseThrow());
    }

    @Test
    void pathsNeedNotExist() throws Exception {
        Config c = load("run: x\nhealthCheckPath: /\ntriggerFile: a/b/c\nreleaseLink: nope\nstateDir: s\n");
        assertFalse(Files.exists(c.daemon().triggerFile().orElseThrow()));
        assertFalse(Files.exists(c.daemon().stateDir()));
    }

    // ---- stateDir default ----

    @Test
    void stateDirUsesRunRainbowWhenWritable() throws Exception {
        Path base = Files.createDirectories(dir.resolve("run-rainbow"));
        Path file = write("rainbow.yaml", "run: x\nhealthCheckPath: /\nport: 7200\n");
        assertEquals(base.resolve("7200"), ConfigLoader.load(file, Map.of("TMPDIR", "/elsewhere"), base).daemon().stateDir());
    }

    @Test
    void stateDirIsInTheUnitsRuntimeDirectoryUnderSystemd() throws Exception {
        // rainbowd@shop: RuntimeDirectory=rainbow/shop, while /run/rainbow is root's (or another unit's)
        Path instance = Files.createDirectories(dir.resolve("run-rainbow/shop"));
        Path runBase = dir.resolve("run-rainbow");
        assertEquals(instance.resolve("7000"), ConfigLoader.defaultStateDir(7000,
                Map.of("RUNTIME_DIRECTORY", instance.toString(), "TMPDIR", "/scratch"), runBase));
        // several RuntimeDirectory= entries: the first
        assertEquals(instance.resolve("7000"), ConfigLoader.defaultStateDir(7000,
                Map.of("RUNTIME_DIRECTORY", instance + ":" + dir.resolve("other")), runBase));
        // set but gone, or not absolute: the usual default
        assertEquals(runBase.resolve("7000"), ConfigLoader.defaultStateDir(7000,
                Map.of("RUNTIME_DIRECTORY", dir.resolve("gone").toString()), runBase));
        assertEquals(runBase.resolve("7000"), ConfigLoader.defaultStateDir(7000, Map.of("RUNTIME_DIRECTORY", "rel"), runBase));
        // and through the loader
        Path file = write("shop.yaml", "run: x\nhealthCheckPath: /\nport: 7200\n");
        assertEquals(instance.resolve("7200"),
                ConfigLoader.load(file, Map.of("RUNTIME_DIRECTORY", instance.toString()), runBase).daemon().stateDir());
    }

    @Test
    void stateDirPrefersTheUsersRuntimeDirToTmp() throws Exception {
        Path runtime = Files.createDirectories(dir.resolve("run-user-1000"));
        assertEquals(runtime.resolve("rainbowd-7000"), ConfigLoader.defaultStateDir(7000,
                Map.of("XDG_RUNTIME_DIR", runtime.toString(), "TMPDIR", "/scratch"), dir.resolve("missing")));
        // set but no directory (a su session keeps the old one's): /tmp as before
        assertEquals(Path.of("/scratch/rainbowd-7000"), ConfigLoader.defaultStateDir(7000,
                Map.of("XDG_RUNTIME_DIR", dir.resolve("gone").toString(), "TMPDIR", "/scratch"), dir.resolve("missing")));
    }

    @Test
    void stateDirFallsBackToTmpdir() throws Exception {
        Path notADir = write("run-rainbow", "");
        assertEquals(Path.of("/scratch/rainbowd-7000"), ConfigLoader.defaultStateDir(7000, Map.of("TMPDIR", "/scratch/"), notADir));
        assertEquals(Path.of("/scratch/rainbowd-7000"), ConfigLoader.defaultStateDir(7000, Map.of("TMPDIR", "/scratch"), dir.resolve("missing")));
        Path javaTmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        assertEquals(javaTmp.resolve("rainbowd-7000"), ConfigLoader.defaultStateDir(7000, Map.of(), dir.resolve("missing")));
        assertEquals(javaTmp.resolve("rainbowd-7000"), ConfigLoader.defaultStateDir(7000, Map.of("TMPDIR", ""), dir.resolve("missing")));
    }

    @Test
    void stateDirSkipsUnwritableRunRainbow() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root can write anywhere");
        Path base = Files.createDirectories(dir.resolve("ro"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("r-xr-xr-x"));
        assertEquals(Path.of("/scratch/rainbowd-7000"), ConfigLoader.defaultStateDir(7000, Map.of("TMPDIR", "/scratch"), base));
    }

    @Test
    void stateDirDependsOnPort() throws Exception {
        assertEquals(dir.resolve("tmp/rainbowd-9000"), load("run: x\nhealthCheckPath: /\nport: 9000\n").daemon().stateDir());
    }

    // ---- locate ----

    @Test
    void locatePrefersYamlThenYmlThenJson() throws Exception {
        Path yaml = write("rainbow.yaml", ORIGINAL);
        Path yml = write("rainbow.yml", ORIGINAL);
        Path json = write("rainbow.conf.json", ORIGINAL);
        assertEquals(yaml, ConfigLoader.locate(null, dir));
        Files.delete(yaml);
        assertEquals(yml, ConfigLoader.locate(null, dir));
        Files.delete(yml);
        assertEquals(json, ConfigLoader.locate(null, dir));
        Files.delete(json);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.locate(null, dir));
        for (String s : List.of("rainbow.yaml", "rainbow.yml", "rainbow.conf.json", "-c FILE", dir.toString())) {
            assertTrue(e.getMessage().contains(s), e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void locateUsesTheExplicitFile() throws Exception {
        write("rainbow.yaml", ORIGINAL);
        Path other = write("conf/x.yaml", ORIGINAL);
        assertEquals(other, ConfigLoader.locate(Path.of("conf/x.yaml"), dir));
        assertEquals(other, ConfigLoader.locate(other, Path.of("/")));
    }

    @Test
    void locateRejectsMissingOrDirectoryExplicitFile() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.locate(Path.of("nope.yaml"), dir));
        assertEquals(dir.resolve("nope.yaml") + ": no such file", missing.getMessage());
        ConfigException directory = assertThrows(ConfigException.class, () -> ConfigLoader.locate(Path.of("conf"), dir));
        assertEquals(dir.resolve("conf") + ": is a directory, not a config file", directory.getMessage());
    }

    @Test
    void locateReportsADanglingDefaultInsteadOfFallingBack() throws Exception {
        write("rainbow.yml", ORIGINAL);
        Files.createSymbolicLink(dir.resolve("rainbow.yaml"), dir.resolve("gone.yaml"));
        Path found = ConfigLoader.locate(null, dir);
        assertEquals(dir.resolve("rainbow.yaml"), found);
        ConfigException e = assertThrows(ConfigException.class, () -> load(found));
        assertEquals(found + ": is a symlink to a missing file", e.getMessage());
    }

    // ---- file-level errors ----

    @Test
    void directoryAsFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> load(dir));
        assertEquals(dir + ": is a directory, not a config file", e.getMessage());
    }

    @Test
    void missingFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> load(dir.resolve("nope.yaml")));
        assertEquals(dir.resolve("nope.yaml") + ": no such file", e.getMessage());
    }

    @Test
    void unreadableFile() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root reads anything");
        Path file = write("rainbow.yaml", ORIGINAL);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("-w-------"));
        ConfigException e = assertThrows(ConfigException.class, () -> load(file));
        assertMessage(e.getMessage(), file, "not readable");
    }

    @Test
    void notUtf8() throws Exception {
        Path file = dir.resolve("rainbow.yaml");
        Files.write(file, "run: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        ConfigException e = assertThrows(ConfigException.class, () -> load(file));
        assertMessage(e.getMessage(), file, "not UTF-8");
    }

    @Test
    void tooLarge() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> load("#".repeat(2 << 20)));
        assertMessage(e.getMessage(), dir.resolve("rainbow.yaml"), "too large");
    }

    @Test
    void emptyFile() throws Exception {
        fails("", "is empty");
        fails("# nothing but a comment\n\n", "is empty");
    }

    @Test
    void topLevelNotAMapping() throws Exception {
        fails("[1, 2]\n", "top level", "[1, 2]", "not a mapping");
        fails("just text\n", "top level", "\"just text\"", "not a mapping");
    }

    @Test
    void syntaxErrorsAreOneLineWithPosition() throws Exception {
        fails("run: \"sh run.sh\nhealthCheckPath: /h\n", "invalid YAML", "line ", "column ");
        fails("{\"run\": \"sh run.sh\", \"port\": 70", "invalid YAML", "line 1, column");
        fails("run: sh\n  healthCheckPath: /h\n", "invalid YAML at line 2, column 18", "mapping values are not allowed here");
        fails("run: x\nport:\t7000\n", "invalid YAML", "TAB");
        fails("run: x\n---\nport: 1\n", "invalid YAML at line 2, column 1: a second document");
        fails("run: !foo x\n", "invalid YAML", "!foo");
        fails("run: *nope\n", "invalid YAML", "nope");
        fails("run: x\nport: \u0001\n", "invalid YAML at line 2, column 7: character U+0001 is not allowed");
    }

    @Test
    void deepNestingIsACleanError() throws Exception {
        fails("run: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n", "nested too deeply");
    }

    @Test
    void duplicateKeys() throws Exception {
        fails("run: a\nport: 7000\nport: 7002\n", "duplicate key \"port\"", "line 3, column 1");
        fails("{\"run\": \"a\", \"run\": \"b\"}", "duplicate key \"run\"");
        fails("run: a\nenv:\n  A: 1\n  A: 2\n", "duplicate key \"A\"", "line 4");
    }

    // ---- key errors ----

    @Test
    void unknownKeySuggestsTheNearest() throws Exception {
        String m = fails("run: x\nhealthCheckPath: /\nhealthTimout: 2s\n", "unknown key \"healthTimout\"");
        assertTrue(m.endsWith("(did you mean \"healthTimeout\"?)"), m);
        fails("run: x\nhealth_check_path: /\n", "unknown key \"health_check_path\" (did you mean \"healthCheckPath\"?)");
        fails("run: x\nhealthcheckpath: /\n", "(did you mean \"healthCheckPath\"?)");
        fails("run: x\nprot: 7000\n", "unknown key \"prot\" (did you mean \"port\"?)");
        fails("run: x\ncontrol_token: t\n", "(did you mean \"controlToken\"?)");
        String none = fails("run: x\nbananas: 3\n", "unknown key \"bananas\"");
        assertFalse(none.contains("did you mean"), none);
    }

    @Test
    void unicodeKeys() throws Exception {
        fails("run: x\npört: 7000\n", "unknown key \"pört\" (did you mean \"port\"?)");
        String m = fails("run: x\n\"\u2603\u200b\": 1\n", "unknown key \"\u2603\u200b\"");
        assertFalse(m.contains("did you mean"), m);
        assertEquals("\u00e9", load("run: x\nhealthCheckPath: /\nenv: {\u00c9T\u00c9: \u00e9}\n").app().env().get("\u00c9T\u00c9"));
    }

    @Test
    void nonStringKeysAreUnknown() throws Exception {
        fails("run: x\n1: x\n", "unknown key 1");
        fails("run: x\ntrue: x\n", "unknown key true");
        // Refused before the engine hashes it (or prints it whole: an alias bomb as a duplicate key).
        fails("run: x\n? [a, b]\n: x\n", "top level: a list cannot be a key", "line 2, column 3");
        fails("run: x\n~: x\n", "unknown key null");
    }

    @Test
    void valuesThatDoNotFitTheirTagAreRefusedWithoutJavaNames() throws Exception {
        String ok = "run: x\nhealthCheckPath: /h\n";
        fails(ok + "restartOnCrash: !!bool maybe\n", "restartOnCrash: !!bool maybe is not true or false (line 3, column 17)");
        fails(ok + "port: !!int abc\n", "port: !!int abc is not an integer");
        fails(ok + "port: +.inf\n", "port: +.inf is not a number; for infinity write .inf");
        fails(ok + "port: " + "9".repeat(200) + "\n", "port: 999", "is too long for a number");
        fails(ok + "env: {~: a, null: b}\n", "duplicate key null at line 3, column 13");
        fails("run: !!binary \"%%%\"\nhealthCheckPath: /h\n", "invalid YAML at line 1, column 6: cannot read \"%%%\" as !!binary");
        fails("run: !!str [a]\nhealthCheckPath: /h\n", "cannot read a list as !!str");
        fails("run: \"\\u", "invalid YAML: cannot read this YAML value");
    }

    @Test
    void namesWithControlCharactersAreEscaped() throws Exception {
        String ok = "run: x\nhealthCheckPath: /h\n";
        fails(ok + "env: {\"A\\nB\": ~}\n", "env: \"A\\nB\" is not a valid variable name");
        fails(ok + "workingDir: \"/nowhere\\nx\"\n", "does not exist (\"/nowhere\\nx\")");
        String m = fails(ok + "env:\n  " + "K".repeat(1_000) + ":\n", "env: KKK", "…: null has no value");
        assertTrue(m.length() < 250, m);
    }

    // ---- value errors: every one names the file, the key and the value ----

    static Stream<Arguments> invalidValues() {
        String ok = "run: x\nhealthCheckPath: /h\n";
        return Stream.of(
                // run
                Arguments.of("healthCheckPath: /h\n", "run: is missing"),
                Arguments.of("run:\nhealthCheckPath: /h\n", "run: is missing"),
                Arguments.of("run: 42\nhealthCheckPath: /h\n", "run: 42 is not a string"),
                Arguments.of("run: \"  \"\nhealthCheckPath: /h\n", "run: \"  \" is empty"),
                Arguments.of("run: [sh, run.sh]\nhealthCheckPath: /h\n", "run: [\"sh\", \"run.sh\"] is not a string"),
                // readiness
                Arguments.of("run: x\n", "healthCheckPath: is missing"),
                Arguments.of("run: x\nhealthCheckPath: /h\nwarmupTime: 5000\n", "healthCheckPath: \"/h\" and warmupTime: 5000 are both set"),
                Arguments.of("run: x\nhealthCheckPath: health\n", "healthCheckPath: \"health\" must start with /"),
                Arguments.of("run: x\nhealthCheckPath: \"\"\n", "healthCheckPath: \"\" must start with /"),
                Arguments.of("run: x\nhealthCheckPath: /a b\n", "healthCheckPath: \"/a b\" is not a valid URL path"),
                Arguments.of("run: x\nhealthCheckPath: /a#frag\n", "healthCheckPath: \"/a#frag\" is not a valid URL path"),
                Arguments.of("run: x\nhealthCheckPath: 200\n", "healthCheckPath: 200 is not a string"),
                Arguments.of("run: x\nwarmupTime: 5 parsecs\n", "warmupTime: \"5 parsecs\" is not a duration"),
                // ports
                Arguments.of(ok + "port: abc\n", "port: \"abc\" is not an integer in 1..65535"),
                Arguments.of(ok + "port: \"7000\"\n", "port: \"7000\" is not an integer in 1..65535 (write it without quotes)"),
                Arguments.of(ok + "port: true\n", "port: true is not an integer in 1..65535"),
                Arguments.of(ok + "port: 0\n", "port: 0 is not an integer in 1..65535"),
                Arguments.of(ok + "port: 65536\n", "port: 65536 is not an integer"),
                Arguments.of(ok + "port: -1\n", "port: -1 is not an integer"),
                Arguments.of(ok + "port: 7000.5\n", "port: 7000.5 is not an integer"),
                Arguments.of(ok + "port: 1e30\n", "port: 1.0E30 is not an integer"),
                Arguments.of(ok + "port: 99999999999999999999\n", "port: 99999999999999999999 is not an integer"),
                Arguments.of(ok + "port: .inf\n", "port: Infinity is not an integer"),
                Arguments.of(ok + "port: 65535\n", "controlPort: defaults to port + 1 = 65536"),
                Arguments.of(ok + "controlPort: 7000\n", "controlPort: 7000 is the same as port"),
                Arguments.of(ok + "port: 8000\ncontrolPort: 8000\n", "controlPort: 8000 is the same as port"),
                Arguments.of(ok + "controlPort: 70000\n", "controlPort: 70000 is not an integer in 1..65535"),
                Arguments.of(ok + "controlPort: 99999999999999999999\n", "controlPort: 99999999999999999999 is not an integer"),
                // hosts and token
                Arguments.of(ok + "host: 42\n", "host: 42 is not a string"),
                Arguments.of(ok + "host: \"a b\"\n", "host: \"a b\" is not a host name or IP address"),
                Arguments.of(ok + "host: \"\"\n", "host: \"\" is not a host name"),
                Arguments.of(ok + "controlHost: 0.0.0.0\n", "controlHost: \"0.0.0.0\" is not a loopback address, so controlToken is required"),
                Arguments.of(ok + "controlHost: \"::\"\n", "controlHost: \"::\" is not a loopback address"),
                Arguments.of(ok + "controlHost: 10.0.0.5\n", "controlHost: \"10.0.0.5\" is not a loopback address"),
                Arguments.of(ok + "controlHost: example.com\n", "controlHost: \"example.com\" is not a loopback address"),
                Arguments.of(ok + "controlHost: 127.0.0.256\n", "controlHost: \"127.0.0.256\" is not a loopback address"),
                Arguments.of(ok + "controlToken: \"\"\n", "controlToken: \"\" is empty"),
                // paths
                Arguments.of(ok + "workingDir: nowhere\n", "workingDir: \"nowhere\" does not exist"),
                Arguments.of(ok + "workingDir: rainbow.yaml\n", "workingDir: \"rainbow.yaml\" is not a directory"),
                Arguments.of(ok + "workingDir: 7\n", "workingDir: 7 is not a string"),
                Arguments.of(ok + "triggerFile: \"\"\n", "triggerFile: \"\" is empty"),
                Arguments.of(ok + "triggerFile: [a]\n", "triggerFile: [\"a\"] is not a string"),
                Arguments.of(ok + "releaseLink: \"a\\0b\"\n", "releaseLink: \"a\\u0000b\" contains a NUL character"),
                Arguments.of(ok + "stateDir: false\n", "stateDir: false is not a string"),
                // env
                Arguments.of(ok + "env: [1, 2]\n", "env: [1, 2] is not a mapping"),
                Arguments.of(ok + "env: FOO=bar\n", "env: \"FOO=bar\" is not a mapping"),
                Arguments.of(ok + "env:\n  A: {b: 1}\n", "env: A: {\"b\": 1} is not a string"),
                Arguments.of(ok + "env:\n  A: [1, 2]\n", "env: A: [1, 2] is not a string"),
                Arguments.of(ok + "env:\n  A:\n", "env: A: null has no value"),
                Arguments.of(ok + "env:\n  1: x\n", "env: 1 is not a valid variable name"),
                Arguments.of(ok + "env:\n  \"A=B\": x\n", "env: \"A=B\" is not a valid variable name"),
                Arguments.of(ok + "env:\n  PORT: 80\n", "env: \"PORT\" is set by rainbowd"),
                Arguments.of(ok + "env:\n  A: !!binary aGk=\n", "env: A: (binary data) is not a string"),
                // durations
                Arguments.of(ok + "healthTimeout: 2 parsecs\n",
                        "healthTimeout: \"2 parsecs\" is not a duration (use a number of ms or 250ms, 2s, 1m, 1h)"),
                Arguments.of(ok + "healthTimeout: 0\n", "healthTimeout: 0 must be more than 0"),
                Arguments.of(ok + "healthTimeout: 0ms\n", "healthTimeout: \"0ms\" must be more than 0"),
                Arguments.of(ok + "healthDeadline: 0s\n", "healthDeadline: \"0s\" must be more than 0"),
                Arguments.of(ok + "stopTimeout: 0\n", "stopTimeout: 0 must be more than 0"),
                Arguments.of(ok + "drainTimeout: -1\n", "drainTimeout: -1 is negative"),
                Arguments.of(ok + "drainTimeout: -5s\n", "drainTimeout: \"-5s\" is negative"),
                Arguments.of(ok + "queueTimeout: true\n", "queueTimeout: true is not a duration"),
                Arguments.of(ok + "queueTimeout: .nan\n", "queueTimeout: NaN is not a finite number"),
                Arguments.of(ok + "healthDeadline: 99999999999999999999\n", "healthDeadline: 99999999999999999999 is too long"),
                Arguments.of(ok + "healthDeadline: 1e30\n", "healthDeadline: 1.0E30 is too long"),
                Arguments.of(ok + "stopTimeout: 1.5\n", "stopTimeout: 1.5 is not a whole number of milliseconds"),
                // counts and flags
                Arguments.of(ok + "maxGenerations: 0\n", "maxGenerations: 0 is not an integer in 1..100"),
                Arguments.of(ok + "maxGenerations: 101\n", "maxGenerations: 101 is not an integer in 1..100"),
                Arguments.of(ok + "maxGenerations: 1e30\n", "maxGenerations: 1.0E30 is not an integer in 1..100"),
                Arguments.of(ok + "launchAttempts: 0\n", "launchAttempts: 0 is not an integer in 1..100"),
                Arguments.of(ok + "launchAttempts: 101\n", "launchAttempts: 101 is not an integer in 1..100"),
                Arguments.of(ok + "launchAttempts: three\n", "launchAttempts: \"three\" is not an integer"),
                Arguments.of(ok + "restartOnCrash: yes\n", "restartOnCrash: \"yes\" is not true or false (YAML 1.2: write true or false"),
                Arguments.of(ok + "restartOnCrash: \"true\"\n", "restartOnCrash: \"true\" is not true or false"),
                Arguments.of(ok + "restartOnCrash: 1\n", "restartOnCrash: 1 is not true or false"));
    }

    @ParameterizedTest
    @MethodSource("invalidValues")
    void invalidValue(String content, String expected) throws Exception {
        Files.writeString(dir.resolve("rainbow.yaml"), content);
        fails(content, expected);
    }

    @Test
    void longValuesAreCutInMessages() throws Exception {
        String m = fails("run: x\nhealthCheckPath: /h\nhost: \"" + "a ".repeat(500) + "\"\n", "host: \"a a", "…\"");
        assertTrue(m.length() < 250, m);
    }

    @Test
    void selfReferencingValueIsShownFinitely() throws Exception {
        fails("run: x\nhealthCheckPath: /h\nenv: &e [*e]\n", "env: [[[[[…]]]]] is not a mapping");
    }

    @Test
    void controlTokenNeverAppearsInMessages() throws Exception {
        String m = fails("run: x\nhealthCheckPath: /h\ncontrolToken: 12345678\n", "controlToken: (value hidden, a number) is not a string");
        assertFalse(m.contains("12345678"), m);
        m = fails("run: x\nhealthCheckPath: /h\ncontrolToken: \"s3cret token\"\n", "controlToken: (value hidden) must be printable ASCII");
        assertFalse(m.contains("s3cret"), m);
        m = fails("run: x\nhealthCheckPath: /h\ncontrolToken: s\u00e9cret\n", "controlToken: (value hidden)");
        assertFalse(m.contains("cret"), m);
    }

    @Test
    void loopbackControlHostsNeedNoToken() throws Exception {
        for (String host : List.of("127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "\"[::1]\"", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1")) {
            assertEquals(Optional.empty(), load("run: x\nhealthCheckPath: /\ncontrolHost: " + host + "\n").controlToken(), host);
        }
        assertEquals(Optional.of("t0k3n"), load("run: x\nhealthCheckPath: /\ncontrolHost: 0.0.0.0\ncontrolToken: t0k3n\n").controlToken());
    }

    @Test
    void warmupTimeZeroIsAValueNotAbsent() throws Exception {
        assertEquals(new Readiness.Warmup(Duration.ZERO), load("run: x\nwarmupTime: 0\n").app().readiness());
    }

    @Test
    void numbersAndBooleansInEnvBecomeTheirText() throws Exception {
        Config c = load("run: x\nhealthCheckPath: /\nenv: {A: 1, B: false, C: 2.50, D: ~/x}\n");
        assertEquals(Map.of("A", "1", "B", "false", "C", "2.50", "D", "~/x"), c.app().env());
    }

    // ---- printing effective settings ----

    @Test
    void describePrintsEveryKeyAlignedWithoutSecrets() throws Exception {
        Config c = load("""
                run: sh run.sh
                healthCheckPath: /health
                controlToken: s3cret
                env: {SECRET_KEY: hunter2, A: b}
                healthTimeout: 250ms
                drainTimeout: 90000
                """);
        List<String> lines = c.describe();
        assertEquals(ConfigLoader.KEYS.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).startsWith(ConfigLoader.KEYS.get(i) + " "), lines.get(i));
            assertEquals('=', lines.get(i).charAt(18), lines.get(i));
        }
        assertEquals("run               = sh run.sh", lines.get(0));
        assertTrue(lines.contains("healthCheckPath   = /health"));
        assertTrue(lines.contains("warmupTime        = -"));
        assertTrue(lines.contains("controlToken      = (set)"));
        assertTrue(lines.contains("env               = A, SECRET_KEY (values not shown)"));
        assertTrue(lines.contains("triggerFile       = -"));
        assertTrue(lines.contains("healthTimeout     = 250ms"));
        assertTrue(lines.contains("drainTimeout      = 90s"));
        assertTrue(lines.contains("stopTimeout       = 10s"));
        assertTrue(lines.contains("healthDeadline    = 1m"));
        assertTrue(lines.contains("restartOnCrash    = true"));
        String all = String.join("\n", lines) + c;
        assertFalse(all.contains("s3cret") || all.contains("hunter2"), all);
    }

    @Test
    void describeKeepsMultiLineRunOnOneLine() throws Exception {
        Config c = load("run: |\n  cd /srv\n  sh run.sh\nwarmupTime: 5s\n");
        assertTrue(c.describe().contains("run               = \"cd /srv\\nsh run.sh\\n\""), c.describe().toString());
        assertTrue(c.describe().contains("warmupTime        = 5s"));
        assertTrue(c.describe().contains("healthCheckPath   = -"));
    }

    @Test
    void fixtureFilesLoad() throws Exception {
        for (String name : List.of("original.conf.json", "full.yaml")) {
            Path fixture = Path.of("src/test/resources/config", name);
            Files.copy(fixture, dir.resolve(name));
            Files.createDirectories(dir.resolve("app"));
            assertEquals("sh run.sh", load(dir.resolve(name)).app().run(), name);
        }
    }

    // ---- stopSignal, healthCheckHost ----

    @Test
    void stopSignalTakesANameWithOrWithoutSig() throws Exception {
        assertEquals(StopSignal.TERM, load("run: x\nhealthCheckPath: /\n").app().stopSignal());
        assertEquals(StopSignal.QUIT, load("run: x\nhealthCheckPath: /\nstopSignal: QUIT\n").app().stopSignal());
        assertEquals(StopSignal.INT, load("run: x\nhealthCheckPath: /\nstopSignal: SIGINT\n").app().stopSignal());
        assertEquals(StopSignal.WINCH, load("run: x\nhealthCheckPath: /\nstopSignal: winch\n").app().stopSignal());
        assertTrue(load("run: x\nhealthCheckPath: /\nstopSignal: QUIT\n").describe().contains("stopSignal        = QUIT"));
    }

    @Test
    void stopSignalRefusesWhatIsNoGracefulStop() throws Exception {
        fails("run: x\nhealthCheckPath: /\nstopSignal: KILL\n", "stopSignal: \"KILL\" is not a graceful stop signal",
                "TERM, QUIT, INT, HUP, USR1, USR2, WINCH");
        fails("run: x\nhealthCheckPath: /\nstopSignal: 15\n", "stopSignal: 15");
    }

    @Test
    void healthCheckHostIsAHostHeader() throws Exception {
        assertEquals(Optional.empty(), load("run: x\nhealthCheckPath: /\n").app().healthCheckHost());
        assertEquals(Optional.of("shop.example.com"),
                load("run: x\nhealthCheckPath: /\nhealthCheckHost: shop.example.com\n").app().healthCheckHost());
        assertEquals(Optional.of("shop.example.com:443"),
                load("run: x\nhealthCheckPath: /\nhealthCheckHost: 'shop.example.com:443'\n").app().healthCheckHost());
        fails("run: x\nhealthCheckPath: /\nhealthCheckHost: 'shop example'\n", "healthCheckHost: \"shop example\" is not a host name");
        fails("run: x\nhealthCheckPath: /\nhealthCheckHost: \"a\\r\\nX-Injected: 1\"\n", "healthCheckHost: ", "is not a host name");
        fails("run: x\nwarmupTime: 1s\nhealthCheckHost: shop.example.com\n", "without healthCheckPath nothing is probed");
    }

    @Test
    void trustedProxiesTakesAddressesAndRanges() throws Exception {
        assertEquals("127.0.0.0/8, 0:0:0:0:0:0:0:1/128", String.join(", ",
                load("run: x\nhealthCheckPath: /\n").app().trustedProxies().stream().map(Object::toString).toList()));
        Config c = load("run: x\nhealthCheckPath: /\ntrustedProxies: [10.0.0.0/8, '::1', 192.168.1.7]\n");
        assertEquals(3, c.app().trustedProxies().size());
        assertTrue(c.app().trustedProxies().get(0).contains(InetAddress.getByName("10.200.3.4")));
        assertFalse(c.app().trustedProxies().get(0).contains(InetAddress.getByName("11.0.0.1")));
        assertEquals(List.of(), load("run: x\nhealthCheckPath: /\ntrustedProxies: []\n").app().trustedProxies());
        fails("run: x\nhealthCheckPath: /\ntrustedProxies: [proxy.example.com]\n", "trustedProxies: \"proxy.example.com\" is not an IP address or CIDR");
        fails("run: x\nhealthCheckPath: /\ntrustedProxies: 10.0.0.0/33\n", "trustedProxies: \"10.0.0.0/33\"");
        fails("run: x\nhealthCheckPath: /\ntrustedProxies: '7000'\n", "trustedProxies: \"7000\"");
    }

    @Test
    void upstreamKeepAliveIsReplayableOrAll() throws Exception {
        assertFalse(load("run: x\nhealthCheckPath: /\n").app().upstreamKeepAliveAll());
        assertTrue(load("run: x\nhealthCheckPath: /\nupstreamKeepAlive: all\n").app().upstreamKeepAliveAll());
        assertFalse(load("run: x\nhealthCheckPath: /\nupstreamKeepAlive: replayable\n").app().upstreamKeepAliveAll());
        fails("run: x\nhealthCheckPath: /\nupstreamKeepAlive: sometimes\n", "upstreamKeepAlive: \"sometimes\" is not replayable or all");
    }

    @Test
    void bufferingKeysTakeSizesAsNginxWritesThem() throws Exception {
        Buffering defaults = load("run: x\nhealthCheckPath: /\n").app().buffering();
        assertEquals(new Buffering(true, 100L << 20, 64L << 20), defaults);
        Buffering b = load("run: x\nhealthCheckPath: /\nrequestBuffering: false\nmaxRequestBody: 1g\nmaxResponseBuffer: 512K\n").app().buffering();
        assertEquals(new Buffering(false, 1L << 30, 512L << 10), b);
        assertEquals(0, load("run: x\nhealthCheckPath: /\nmaxRequestBody: 0\n").app().buffering().maxRequestBody());
        assertEquals(1500, load("run: x\nhealthCheckPath: /\nmaxRequestBody: 1500\n").app().buffering().maxRequestBody());
        assertEquals(10L << 20, load("run: x\nhealthCheckPath: /\nmaxRequestBody: 10MB\n").app().buffering().maxRequestBody());
        fails("run: x\nhealthCheckPath: /\nmaxRequestBody: 10x\n", "maxRequestBody: \"10x\" is not a size (use a number of bytes or 64k, 100m, 1g)");
        fails("run: x\nhealthCheckPath: /\nmaxResponseBuffer: -1\n", "maxResponseBuffer: -1 is negative");
        fails("run: x\nhealthCheckPath: /\nmaxResponseBuffer: 2048g\n", "maxResponseBuffer: \"2048g\" is more than 1024g");
        fails("run: x\nhealthCheckPath: /\nrequestBuffering: maybe\n", "requestBuffering: \"maybe\" is not true or false");
    }

    @Test
    void envFileIsReadAsSystemdReadsAnEnvironmentFileAndEnvWinsOverIt() throws Exception {
        Files.writeString(dir.resolve("app.env"), """
                # a comment
                ; another
                DB_URL=postgres://db/shop
                  SPACED  =  value with spaces\u0020
                QUOTED="a \\"b\\" c"
                SINGLE='$HOME stays'
                LONG=one \\
                two
                OVERRIDDEN=from the file
                EMPTY=
                """);
        Path config = dir.resolve("rainbow.yaml");
        Files.writeString(config, "run: x\nhealthCheckPath: /\nenvFile: [app.env, -missing.env]\nenv:\n  OVERRIDDEN: from env\n");
        Config c = ConfigLoader.load(config);
        Map<String, String> env = c.app().env();
        assertEquals("postgres://db/shop", env.get("DB_URL"));
        assertEquals("value with spaces", env.get("SPACED"), "unquoted: trimmed, as systemd does");
        assertEquals("a \"b\" c", env.get("QUOTED"));
        assertEquals("$HOME stays", env.get("SINGLE"));
        assertEquals("one two", env.get("LONG"));
        assertEquals("from env", env.get("OVERRIDDEN"));
        assertEquals("", env.get("EMPTY"));
        assertEquals(List.of(new EnvFile(dir.resolve("app.env"), false), new EnvFile(dir.resolve("missing.env"), true)), c.envFiles());
        String described = String.join("\n", c.describe());
        assertFalse(described.contains("postgres") || described.contains("stays"), "values are never printed: " + described);
        assertTrue(described.contains("-" + dir.resolve("missing.env")), described);
    }

    @Test
    void envFileErrorsNameTheFileAndLineButNeverAValue() throws Exception {
        Files.writeString(dir.resolve("bad.env"), "GOOD=1\nthis is the secret\n");
        fails("run: x\nhealthCheckPath: /\nenvFile: bad.env\n", "bad.env line 2: not NAME=value");
        Files.writeString(dir.resolve("quote.env"), "TOKEN=\"s3cret\n");
        fails("run: x\nhealthCheckPath: /\nenvFile: quote.env\n", "quote.env line 1: no closing \"");
        Files.writeString(dir.resolve("port.env"), "PORT=8080\n");
        fails("run: x\nhealthCheckPath: /\nenvFile: port.env\n", "sets PORT, which rainbowd sets for every generation");
        fails("run: x\nhealthCheckPath: /\nenvFile: nope.env\n", "nope.env does not exist (write -");
        fails("run: x\nhealthCheckPath: /\nenvFile: 7\n", "envFile: 7 is not a path");
    }
}
