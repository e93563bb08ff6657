package dev.rainbowd.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.cli.Main;
import dev.rainbowd.testing.Slack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz-style robustness test of {@code rainbowd check -c FILE} (SPEC sections 1 and 2): thousands of
 * malformed YAML/JSON documents, each written to a file and fed to {@link Main#execute}. For every one:
 * exit 78 (or 0 where the document may happen to be valid; where the generator knows it is invalid,
 * only 78), and on 78 stderr is exactly one line that names the file, has no stack-trace marks and no
 * raw control or line-separator character. Every document must also be answered with bounded work (no
 * alias bomb, nesting or huge-number blow-up): at most 5 s of the checking thread's CPU time. CPU
 * time, not the clock: a machine busy with other builds stretched a 1 MB {@code host} from about a
 * second to 5.3 s of wall-clock time, the same work.
 *
 * <p>Deterministic: one seeded {@link Random}; a failure names the generator and a preview of the
 * document. The tests at the end pin bugs the fuzzer found (now fixed), one input class each.
 */
class ConfigFuzzTest {

    private static final long SEED = 0x5241_494E_424FL; // "RAINBO"
    /** CPU time of the thread that checks one document (see {@link #check}). */
    private static final long PER_DOCUMENT_LIMIT_MS = 5_000;
    private static final long SLOW_MS = 250;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static final int MB = 1_000_000;
    private static final int MUTATIONS = 800;
    private static final List<String> STACK_TRACE_MARKS =
            List.of("Exception", "\tat ", "Caused by", "Throwable", "StackOverflowError", "OutOfMemoryError");

    /** Seeds: both must be valid (checked), they are truncated and mutated. */
    private static final String VALID_YAML = """
            # rainbowd config, the seed of the fuzzer
            run: "sh run.sh $1 $2"
            healthCheckPath: /health?probe=1
            port: 7000
            controlPort: 7001
            host: 127.0.0.1
            healthTimeout: 2s
            healthDeadline: 60000
            drainTimeout: '30s'
            maxGenerations: 10
            restartOnCrash: true
            env:
              GREETING: "h\u00e9llo \uD83C\uDF08"
              RATIO: 1.10
              FLAG: yes
            """;

    private static final String VALID_JSON = """
            {"run": "sh run.sh", "healthCheckPath": "/health", "port": 7000, "controlPort": 7001,
             "stopTimeout": "10s", "launchAttempts": 3, "restartOnCrash": false,
             "env": {"GREETING": "h\\u00e9llo", "SUFFIX": "\\/bin"}}
            """;

    private static final String BASE = "run: sh run.sh\nhealthCheckPath: /health\n";

    /** generator -> {documents, exit 0, exit 78}; printed after all tests (surefire's -output.txt). */
    private static final Map<String, int[]> COUNTS = new ConcurrentSkipListMap<>();

    @TempDir
    Path dir;

    private final List<String> failures = new ArrayList<>();
    private int sequence;

    private enum Expect { VALID, INVALID, ANY }

    /** {@code cpuMillis}: what the check cost the thread that ran it. */
    private record Outcome(int code, String out, String err, long cpuMillis, Throwable thrown) {}

    // ------------------------------------------------------------------------------------------
    // generators
    // ------------------------------------------------------------------------------------------

    @Test
    void theSeedsAreValid() {
        feed("seed", VALID_YAML, Expect.VALID);
        feed("seed", VALID_JSON, Expect.VALID);
        feed("seed", BASE, Expect.VALID);
        assertClean();
    }

    @Test
    void everyPrefixOfAValidConfig() {
        for (String seed : List.of(VALID_YAML, VALID_JSON)) {
            byte[] bytes = seed.getBytes(UTF_8);
            for (int n = 0; n < bytes.length; n++) {
                // Cuts inside é or the emoji are not UTF-8: refine() turns ANY into INVALID for those.
                feed("prefix", Arrays.copyOf(bytes, n), n == 0 ? Expect.INVALID : Expect.ANY);
            }
        }
        assertClean();
    }

    @Test
    void randomByteMutationsOfValidConfigs() {
        Random random = new Random(SEED);
        byte[] yaml = VALID_YAML.getBytes(UTF_8);
        byte[] json = VALID_JSON.getBytes(UTF_8);
        for (int i = 0; i < MUTATIONS; i++) {
            boolean isYaml = i % 2 == 0;
            feed(isYaml ? "mutate-yaml" : "mutate-json", mutate(isYaml ? yaml : json, random), Expect.ANY);
        }
        assertClean();
    }

    @Test
    void wrongTypesAndHugeNumbersForEveryKey() {
        for (Map.Entry<String, Kind> key : KEY_KINDS.entrySet()) {
            for (Value v : VALUES) {
                Expect expect = v.mayBeValidFor() == null || v.mayBeValidFor().contains(key.getValue())
                        ? Expect.ANY : Expect.INVALID;
                feed("type-yaml", yamlWith(key.getKey(), v.text()), expect);
                feed("type-json", jsonWith(key.getKey(), v.text()), expect);
            }
        }
        assertClean();
    }

    @Test
    void envEntries() {
        Map<String, Expect> entries = new LinkedHashMap<>();
        entries.put("A: 1e400", Expect.VALID);
        entries.put("A: .nan", Expect.VALID);
        entries.put("A: -0", Expect.VALID);
        entries.put("A: 0x1F", Expect.VALID);
        entries.put("A: 99999999999999999999999", Expect.VALID);
        entries.put("A: \"\"", Expect.VALID);
        entries.put("A: true", Expect.VALID);
        entries.put("A: null", Expect.INVALID);
        entries.put("A: ~", Expect.INVALID);
        entries.put("A: [1]", Expect.INVALID);
        entries.put("A: {b: c}", Expect.INVALID);
        entries.put("A: !!binary aGk=", Expect.INVALID);
        entries.put("A: !!set {a}", Expect.INVALID);
        entries.put("A: \"a\\0b\"", Expect.INVALID);
        entries.put("PORT: x", Expect.INVALID);
        entries.put("PIDFILE: x", Expect.INVALID);
        entries.put("RAINBOW_GENERATION: x", Expect.INVALID);
        entries.put("\"A=B\": x", Expect.INVALID);
        entries.put("\"\": x", Expect.INVALID);
        entries.put("1: x", Expect.INVALID);
        entries.put("1.5: x", Expect.INVALID);
        entries.put("true: x", Expect.INVALID);
        entries.put("null: x", Expect.INVALID);
        entries.put("? [a, b] : x", Expect.INVALID);
        entries.put("? {a: b} : x", Expect.INVALID);
        entries.put("!!binary aGk=: x", Expect.INVALID);
        entries.put("\"A\\0B\": x", Expect.INVALID);
        entries.put("\"A\\u202EB\": x", Expect.ANY);
        entries.put("\"\\uD800\": x", Expect.ANY);
        entries.put("A: x, A: y", Expect.INVALID);
        entries.put("1: x, 0x1: y", Expect.INVALID);
        for (Map.Entry<String, Expect> e : entries.entrySet()) {
            feed("env", BASE + "env: {" + e.getKey() + "}\n", e.getValue());
        }
        assertClean();
    }

    @Test
    void deepNesting() {
        int n = 10_000;
        feed("deep", "[".repeat(n), Expect.INVALID);
        feed("deep", "[".repeat(100_000), Expect.INVALID);
        feed("deep", "[".repeat(n) + "]".repeat(n), Expect.INVALID);
        feed("deep", "{".repeat(n), Expect.INVALID);
        feed("deep", "{a: ".repeat(n) + "}".repeat(n), Expect.INVALID);
        feed("deep", "[{".repeat(n / 2) + "}]".repeat(n / 2), Expect.INVALID);
        feed("deep", "- ".repeat(n) + "x\n", Expect.INVALID);
        feed("deep", "? ".repeat(5_000) + "x\n", Expect.INVALID);
        feed("deep", "run: " + "[".repeat(n) + "]".repeat(n) + "\nhealthCheckPath: /h\n", Expect.INVALID);
        feed("deep", BASE + "env: " + "{A: ".repeat(n) + "1" + "}".repeat(n) + "\n", Expect.INVALID);
        feed("deep", BASE + "env:\n  A: " + "[".repeat(n) + "\n", Expect.INVALID);
        feed("deep", BASE + "port: " + "[".repeat(1_000) + "1" + "]".repeat(1_000) + "\n", Expect.INVALID);
        StringBuilder block = new StringBuilder(BASE).append("env:\n");
        for (int i = 0; i < 1_000; i++) {
            block.append(" ".repeat(i + 1)).append('k').append(i).append(":\n");
        }
        feed("deep", block.toString(), Expect.INVALID);
        StringBuilder dashes = new StringBuilder("run:\n");
        for (int i = 0; i < 1_000; i++) {
            dashes.append(" ".repeat(i)).append("-\n");
        }
        feed("deep", dashes.toString(), Expect.INVALID);
        assertClean();
    }

    @Test
    void veryLongStringsAndKeys() {
        feed("long", "run: " + "x".repeat(MB) + "\nhealthCheckPath: /h\n", Expect.VALID);
        feed("long", "run: \"" + "\\u00e9".repeat(MB / 6) + "\"\nhealthCheckPath: /h\n", Expect.VALID);
        feed("long", "run: sh\nhealthCheckPath: /" + "a".repeat(MB) + "\n", Expect.VALID);
        feed("long", BASE + "controlToken: " + "t".repeat(MB) + "\n", Expect.VALID);
        feed("long", BASE + "host: " + "h".repeat(MB) + "\n", Expect.VALID);
        feed("long", BASE + "env:\n  A: " + "v".repeat(MB) + "\n", Expect.VALID);
        feed("long", BASE + "env:\n  ? " + "K".repeat(MB) + "\n  : v\n", Expect.VALID);
        feed("long", BASE + "env: {\"" + "K".repeat(MB) + "\": v}\n", Expect.ANY);
        feed("long", BASE + "workingDir: /" + "d".repeat(MB) + "\n", Expect.INVALID);
        feed("long", BASE + "healthCheckPath: /" + "a".repeat(MB) + "\n", Expect.INVALID); // duplicate key
        feed("long", BASE + "controlHost: " + "h".repeat(MB) + "\n", Expect.INVALID); // not loopback, no token
        feed("long", BASE + "drainTimeout: " + "1".repeat(20_000) + "s\n", Expect.INVALID); // 1 MB: see megabyteKeyOrNumberIsRefusedQuickly
        feed("long", BASE + "drainTimeout: " + "x".repeat(MB) + "s\n", Expect.INVALID);
        feed("long", BASE + "port: \"" + "7".repeat(MB) + "\"\n", Expect.INVALID);
        feed("long", BASE + "port: " + "9".repeat(20_000) + "\n", Expect.INVALID);
        feed("long", BASE + "drainTimeout: \"" + "9".repeat(20_000) + "ms\"\n", Expect.INVALID);
        // 64 KiB unknown keys; 1 MB ones in megabyteKeyOrNumberIsRefusedQuickly
        feed("long", BASE + "? " + "k".repeat(64 * 1024) + "\n: 1\n", Expect.INVALID);
        feed("long", BASE + "\"" + "k".repeat(64 * 1024) + "\": 1\n", Expect.INVALID);
        feed("long", "{\"" + "k".repeat(MB) + "\": 1}\n", Expect.INVALID);
        feed("long", "k".repeat(MB) + ": 1\n", Expect.INVALID); // implicit keys are at most 1024 chars
        feed("long", "k".repeat(MB), Expect.INVALID);
        feed("long", BASE + "# " + "c".repeat(MB) + "\n", Expect.VALID);
        feed("long", " ".repeat(MB), Expect.INVALID);
        feed("long", "\n".repeat(MB), Expect.INVALID);
        // at the 1 MiB cap and just over it
        String cap = BASE + "# ";
        feed("long", cap + "c".repeat((1 << 20) - cap.length() - 1) + "\n", Expect.VALID);
        feed("long", cap + "c".repeat((1 << 20) - cap.length()) + "\n", Expect.INVALID);
        feed("long", BASE + "# " + "c".repeat(3 * MB) + "\n", Expect.INVALID);
        assertClean();
    }

    @Test
    void unicodeAndControlCharacters() {
        int[] codePoints = {0x00, 0x01, 0x07, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x1B, 0x7F, 0x80, 0x85, 0x9B, 0xA0, 0xAD,
            0x0301, 0x0627, 0x4E16, 0x200B, 0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066, 0x2069, 0x2028, 0x2029,
            0xE000, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x1F308, 0x1F469, 0x10FFFF};
        for (int cp : codePoints) {
            String raw = new String(Character.toChars(cp));
            String esc = String.format("\\U%08X", cp);
            StringBuilder json = new StringBuilder();
            for (char c : Character.toChars(cp)) {
                json.append(String.format("\\u%04X", (int) c));
            }
            feed("unicode", "k" + raw + "ey: 1\n" + BASE, Expect.INVALID);
            feed("unicode", "\"k" + esc + "ey\": 1\n" + BASE, Expect.INVALID);
            feed("unicode", "{\"run\": \"sh\", \"healthCheckPath\": \"/h\", \"k" + json + "ey\": 1}", Expect.INVALID);
            feed("unicode", "po" + raw + "rt: 7000\n" + BASE, Expect.INVALID);
            feed("unicode", "run: a" + raw + "b\nhealthCheckPath: /h\n", Expect.ANY);
            feed("unicode", "run: \"a" + esc + "b\"\nhealthCheckPath: /h\n", Expect.ANY);
            feed("unicode", BASE + "host: \"a" + esc + "b\"\n", Expect.INVALID);
            feed("unicode", BASE + "controlHost: \"a" + esc + "b\"\n", Expect.INVALID);
            feed("unicode", BASE + "controlToken: \"a" + esc + "b\"\n", Expect.INVALID);
            feed("unicode", BASE + "port: \"7" + esc + "\"\n", Expect.INVALID);
            // Durations accepts ASCII whitespace (regex \s) between the number and the unit: "1\ts" is 1s
            boolean javaSpace = cp == 0x09 || cp == 0x0B || cp == 0x0C || cp == 0x0D;
            feed("unicode", BASE + "drainTimeout: \"1" + esc + "s\"\n", javaSpace ? Expect.ANY : Expect.INVALID);
            feed("unicode", BASE + "restartOnCrash: \"tr" + esc + "ue\"\n", Expect.INVALID);
            feed("unicode", "run: sh\nhealthCheckPath: \"/a" + esc + "b\"\n", Expect.ANY);
            feed("unicode", BASE + "# comment " + raw + "\n", Expect.ANY);
            feed("unicode", BASE + "env: {A: \"a" + esc + "b\"}\n", Expect.ANY);
            // env names with control characters are refused, the name escaped in the message; other odd
            // characters are fine (see envKeyWithALineBreakIsReportedOnOneLine)
            feed("unicode", BASE + "env: {\"A" + esc + "B\": v}\n", Expect.ANY);
            feed("unicode", BASE + "triggerFile: \"t" + esc + "\"\n", Expect.ANY);
        }
        // lone surrogates as escapes (a Java String can hold them) ...
        for (String s : List.of("\\uD800", "\\uDFFF", "\\uDBFF\\uDFFF", "\\uDC00\\uD800")) {
            feed("surrogate", "run: \"a" + s + "\"\nhealthCheckPath: /h\n", Expect.ANY);
            feed("surrogate", "\"k" + s + "\": 1\n" + BASE, Expect.INVALID);
            feed("surrogate", BASE + "host: \"" + s + "\"\n", Expect.INVALID);
            feed("surrogate", BASE + "port: \"" + s + "\"\n", Expect.INVALID);
        }
        // ... and as bytes (CESU-8 / WTF-8), with other invalid UTF-8, anywhere in a valid config
        byte[][] invalidUtf8 = {
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},
            {(byte) 0xED, (byte) 0xA0, (byte) 0xBD, (byte) 0xED, (byte) 0xB8, (byte) 0x88},
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
            {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xFE}, {(byte) 0xFF},
            {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x8C}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        };
        byte[] base = BASE.getBytes(UTF_8);
        for (byte[] bad : invalidUtf8) {
            for (int at : new int[] {0, 3, 5, 17, base.length}) {
                feed("bad-utf8", splice(base, at, 0, bad), Expect.INVALID);
            }
            feed("bad-utf8", concat("run: \"".getBytes(UTF_8), bad, "\"\nhealthCheckPath: /h\n".getBytes(UTF_8)), Expect.INVALID);
        }
        // other encodings of a valid config
        for (String charset : List.of("UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32")) {
            feed("encoding", BASE.getBytes(Charset.forName(charset)), Expect.INVALID);
        }
        feed("encoding", concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, base), Expect.VALID);
        feed("encoding", BASE.replace("\n", "\r\n"), Expect.VALID);
        feed("encoding", BASE.replace("\n", "\r"), Expect.ANY);
        assertClean();
    }

    @Test
    void aliasBombsAreRefusedQuickly() {
        // the classic: 9 levels of 9 references, far over the engine's alias limit
        StringBuilder lol = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        char prev = 'a';
        for (char c = 'b'; c <= 'i'; c++) {
            lol.append(c).append(": &").append(c).append(" [").append(("*" + prev + ",").repeat(8)).append('*').append(prev).append("]\n");
            prev = c;
        }
        feed("alias", lol.toString(), Expect.INVALID);
        feed("alias", BASE + "env:\n  " + lol.toString().replace("\n", "\n  ").strip() + "\n", Expect.INVALID);
        // under the alias limit but doubling: 2^24 leaves if ever expanded
        String doubling = doubling(24, "x");
        feed("alias", doubling, Expect.INVALID);
        feed("alias", BASE + "env:\n" + doubling.replace("- ", "  - ") + "\n", Expect.INVALID);
        feed("alias", "run:\n" + doubling.replace("- ", "  - ") + "healthCheckPath: /h\n", Expect.INVALID);
        feed("alias", BASE + "x:\n" + doubling.replace("- ", "  - "), Expect.INVALID);
        // one (not duplicated) bomb as a mapping key: hashed once, never printed whole
        feed("alias", "- x\n" + doubling + "- {? *b23 : 1}\n", Expect.INVALID);
        feed("alias", BASE + "env: {? &k [a, b] : 1}\n", Expect.INVALID);
        // many aliases of one large scalar (scalar aliases are not limited, and not copied)
        StringBuilder wide = new StringBuilder("s: &s " + "x".repeat(100_000) + "\nl: [");
        wide.append("*s, ".repeat(50_000)).append("*s]\n");
        feed("alias", wide.toString(), Expect.INVALID);
        feed("alias", BASE + "env: {A: &s v, B: *s, C: *s}\n", Expect.VALID);
        feed("alias", "run: &r sh run.sh\nhealthCheckPath: /h\nenv: {A: *r}\n", Expect.VALID);
        // recursion
        feed("alias", "&a [*a]", Expect.INVALID);
        feed("alias", "&a {a: *a}", Expect.INVALID);
        feed("alias", "? &a [*a] : 1\n", Expect.INVALID);
        feed("alias", "? &a {a: *a} : 1\n", Expect.INVALID);
        feed("alias", "run: &r [*r]\nhealthCheckPath: /h\n", Expect.INVALID);
        feed("alias", BASE + "env: &e {A: *e}\n", Expect.INVALID);
        feed("alias", BASE + "env: {A: &l [*l]}\n", Expect.INVALID);
        // bad references and merge keys (not YAML 1.2)
        feed("alias", BASE + "port: *nope\n", Expect.INVALID);
        feed("alias", BASE + "port: &a\n", Expect.ANY);
        feed("alias", "base: &b {run: sh}\n<<: *b\nhealthCheckPath: /h\n", Expect.INVALID);
        feed("alias", "<<: {run: sh, healthCheckPath: /h}\n", Expect.INVALID);
        feed("alias", "&" + "a".repeat(100_000) + " x", Expect.INVALID);
        assertClean();
    }

    @Test
    void tagsAreRefusedAndNeverInstantiated() throws IOException {
        Path canary = dir.resolve("canary");
        String c = canary.toString();
        List<String> docs = List.of(
                "run: !!java.lang.Runtime {}\nhealthCheckPath: /h\n",
                "!!java.lang.Runtime {}",
                "!!java.io.FileOutputStream [\"" + c + "\"]",
                "run: !!java.io.FileOutputStream [\"" + c + "\"]\nhealthCheckPath: /h\n",
                "!!java.io.FileOutputStream\n- " + c + "\n",
                "run: !<tag:yaml.org,2002:java.io.FileOutputStream> [\"" + c + "\"]\nhealthCheckPath: /h\n",
                "%TAG !j! tag:yaml.org,2002:java.io.\n---\nrun: !j!FileOutputStream [\"" + c + "\"]\nhealthCheckPath: /h\n",
                "%TAG ! tag:yaml.org,2002:java.lang.\n---\nrun: !ProcessBuilder [[touch, \"" + c + "\"]]\nhealthCheckPath: /h\n",
                "run: !!java.lang.ProcessBuilder [[touch, \"" + c + "\"]]\nhealthCheckPath: /h\n",
                "run: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://127.0.0.1:9/\"]]]]\nhealthCheckPath: /h\n",
                "run: !!python/object/apply:os.system [\"touch " + c + "\"]\nhealthCheckPath: /h\n",
                "run: !!python/object:__main__.Evil {}\nhealthCheckPath: /h\n",
                "!!python/object/new:os.system [\"touch " + c + "\"]",
                "run: !ruby/object:Gem::Installer {i: x}\nhealthCheckPath: /h\n",
                "run: !ENV ${HOME}\nhealthCheckPath: /h\n",
                "run: !foo bar\nhealthCheckPath: /h\n",
                "run: !!timestamp 2001-12-14\nhealthCheckPath: /h\n",
                "run: !!omap [{a: 1}]\nhealthCheckPath: /h\n",
                "run: !!pairs [{a: 1}]\nhealthCheckPath: /h\n",
                "run: !!map {a: 1}\nhealthCheckPath: /h\n",
                "run: !!seq [a]\nhealthCheckPath: /h\n",
                "run: !!set {a}\nhealthCheckPath: /h\n",
                "run: !!binary aGk=\nhealthCheckPath: /h\n",
                BASE + "port: !!str 7000\n",
                BASE + "port: !!float 7000\n",
                BASE + "restartOnCrash: !!str true\n",
                "run: !!int 1\nhealthCheckPath: /h\n",
                BASE + "!!java.lang.Runtime k: 1\n",
                "!!map\n" + BASE + "x: 1\n",
                "%YAML 1.1\n---\n" + BASE + "restartOnCrash: yes\n",
                "%YAML 2.0\n---\n" + BASE + "x: 1\n",
                "%FOO bar\n---\n" + BASE + "x: 1\n",
                "%TAG ! !\n%TAG ! !\n---\n" + BASE);
        for (String doc : docs) {
            feed("tag", doc, Expect.INVALID);
        }
        feed("tag", "run: !!str sh\nhealthCheckPath: !!str /h\nport: !!int 7000\n", Expect.VALID);
        feed("tag", "%YAML 1.2\n---\n" + BASE, Expect.VALID);
        feed("tag", "--- !!map\n" + BASE, Expect.VALID);
        feed("tag", "run: !<!> bar\nhealthCheckPath: /h\n", Expect.VALID); // the non-specific tag: a string
        feed("tag", "run: ! bar\nhealthCheckPath: /h\n", Expect.VALID);
        assertFalse(Files.exists(canary), "a tag was instantiated: " + canary + " exists");
        assertClean();
    }

    @Test
    void duplicateKeys() {
        feed("duplicate", BASE + "port: 1\nport: 2\n", Expect.INVALID);
        feed("duplicate", BASE + "port: 7000\nport: 7000\n", Expect.INVALID);
        feed("duplicate", BASE + "run: sh run.sh\n", Expect.INVALID);
        feed("duplicate", BASE + "\"run\": sh run.sh\n", Expect.INVALID);
        feed("duplicate", BASE + "'run': sh run.sh\n", Expect.INVALID);
        feed("duplicate", BASE + "? run\n: sh\n", Expect.INVALID);
        feed("duplicate", BASE + "Run: sh run.sh\n", Expect.INVALID);
        feed("duplicate", BASE + "env: {A: 1}\nenv: {B: 2}\n", Expect.INVALID);
        feed("duplicate", BASE + "env: {A: 1, A: 2}\n", Expect.INVALID);
        feed("duplicate", BASE + "env: {1: a, 0x1: b}\n", Expect.INVALID);
        feed("duplicate", BASE + "env: {.nan: a, .NaN: b}\n", Expect.INVALID);
        feed("duplicate", BASE + "env: {[a]: 1, [a]: 2}\n", Expect.INVALID);
        feed("duplicate", "{\"run\": \"a\", \"run\": \"b\", \"healthCheckPath\": \"/h\"}", Expect.INVALID);
        feed("duplicate", "{\"run\": \"a\", \"r\\u0075n\": \"b\", \"healthCheckPath\": \"/h\"}", Expect.INVALID);
        feed("duplicate", "run: a\nrun: b\n".repeat(1_000) + "healthCheckPath: /h\n", Expect.INVALID);
        StringBuilder many = new StringBuilder(BASE).append("env:\n");
        for (int i = 0; i < 20_000; i++) {
            many.append("  K").append(i).append(": v\n");
        }
        feed("duplicate", many + "  K0: again\n", Expect.INVALID);
        assertClean();
    }

    @Test
    void filesThatAreNotConfigs() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("a-directory"));
        verify("not-a-config", sub, "a directory", Expect.INVALID);
        verify("not-a-config", dir, "the temp directory", Expect.INVALID);
        verify("not-a-config", dir.resolve("missing.yaml"), "a missing file", Expect.INVALID);
        Path dangling = dir.resolve("dangling.yaml");
        Files.createSymbolicLink(dangling, dir.resolve("nowhere.yaml"));
        verify("not-a-config", dangling, "a dangling symlink", Expect.INVALID);
        Path loop = dir.resolve("loop.yaml");
        Files.createSymbolicLink(loop, loop);
        verify("not-a-config", loop, "a symlink to itself", Expect.INVALID);
        Path toDir = dir.resolve("to-dir.yaml");
        Files.createSymbolicLink(toDir, sub);
        verify("not-a-config", toDir, "a symlink to a directory", Expect.INVALID);
        if (Files.exists(Path.of("/dev/null"))) {
            verify("not-a-config", Path.of("/dev/null"), "/dev/null", Expect.INVALID);
        }
        feed("not-a-config", new byte[0], Expect.INVALID);
        feed("not-a-config", new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Expect.INVALID);
        feed("not-a-config", new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, (byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Expect.INVALID);
        feed("not-a-config", new byte[] {(byte) 0xEF, (byte) 0xBB}, Expect.INVALID);
        feed("not-a-config", new byte[] {(byte) 0xFF, (byte) 0xFE}, Expect.INVALID);
        feed("not-a-config", new byte[] {0}, Expect.INVALID);
        feed("not-a-config", new byte[4096], Expect.INVALID);
        for (String s : List.of("\n", " ", "\t", "#", "---", "...", "--- \n...\n", "~", "null", "{}", "[]", "''", "\"\"", "-",
                ":", "?", "!", "&", "*", "|", ">", "%", "@", "`", "42", "true", "run", "run:", "run: sh", "---\n---\n",
                "--- {}\n--- {}\n", BASE + "---\n" + BASE, BASE + "...\n" + "x: 1\n", "[" + BASE + "]", "- " + BASE)) {
            feed("not-a-config", s, Expect.INVALID);
        }
        Random random = new Random(SEED + 1);
        for (int i = 0; i < 40; i++) {
            byte[] blob = new byte[1 + random.nextInt(i < 35 ? 4096 : 600_000)];
            random.nextBytes(blob);
            blob[random.nextInt(blob.length)] = (byte) 0xFF; // never UTF-8, so invalid by construction
            feed("blob", blob, Expect.INVALID);
        }
        // random printable ASCII: YAML-ish noise
        for (int i = 0; i < 40; i++) {
            byte[] noise = new byte[1 + random.nextInt(2048)];
            for (int j = 0; j < noise.length; j++) {
                noise[j] = (byte) (random.nextInt(10) == 0 ? '\n' : 0x20 + random.nextInt(0x5F));
            }
            feed("noise", noise, Expect.ANY);
        }
        // this very test class, a jar, and a class file: all wrong files someone could pass to -c
        Path self = Path.of("src/test/java/dev/rainbowd/config/ConfigFuzzTest.java");
        if (Files.isRegularFile(self)) {
            verify("not-a-config", self.toAbsolutePath(), "a Java source file", Expect.INVALID);
        }
        Path clazz = Path.of("target/classes/dev/rainbowd/cli/Main.class");
        if (Files.isRegularFile(clazz)) {
            verify("not-a-config", clazz.toAbsolutePath(), "a class file", Expect.INVALID);
        }
        assertClean();
    }

    /** A few through a real JVM, as users run it: the real exit code and the real stderr. */
    @Test
    void realSubprocess() throws Exception {
        Map<String, Path> cases = new LinkedHashMap<>();
        cases.put("empty file", write(new byte[0]));
        cases.put("invalid YAML", write("run: [unclosed\nhealthCheckPath: /h\n".getBytes(UTF_8)));
        cases.put("java tag", write("run: !!java.lang.ProcessBuilder [[touch, x]]\nhealthCheckPath: /h\n".getBytes(UTF_8)));
        cases.put("10,000 [", write("[".repeat(10_000).getBytes(UTF_8)));
        cases.put("invalid UTF-8", write(concat("run: \"".getBytes(UTF_8), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, "\"\n".getBytes(UTF_8))));
        cases.put("alias bomb", write(doubling(24, "x").getBytes(UTF_8)));
        cases.put("directory", Files.createDirectory(dir.resolve("subprocess-dir")));
        Path valid = write(BASE.getBytes(UTF_8));

        List<RealRun> runs = new ArrayList<>();
        for (Path file : cases.values()) {
            runs.add(startReal(file));
        }
        RealRun validRun = startReal(valid);
        int i = 0;
        for (Map.Entry<String, Path> e : cases.entrySet()) {
            Outcome r = awaitReal(runs.get(i++));
            int[] c = COUNTS.computeIfAbsent("subprocess", g -> new int[3]);
            c[0]++;
            c[r.code() == 0 ? 1 : 2]++;
            String problem = problem(e.getValue(), Expect.INVALID, r);
            if (problem != null) {
                failures.add("subprocess " + e.getKey() + ": " + problem);
            }
        }
        Outcome ok = awaitReal(validRun);
        assertEquals(0, ok.code(), () -> "valid config in a subprocess: " + ok.err());
        assertClean();
    }

    // ------------------------------------------------------------------------------------------
    // bugs the fuzzer found: each test failed before its fix
    // ------------------------------------------------------------------------------------------

    @Test
    void envKeyWithALineBreakIsReportedOnOneLine() {
        for (String key : List.of("A\\nB", "A\\rB", "A\\e[31mB", "A\\u2028B", "A\\x85B")) {
            feed("bug-env-key", BASE + "env: {\"" + key + "\": ~}\n", Expect.INVALID);
            feed("bug-env-key", BASE + "env: {\"" + key + "\": [1]}\n", Expect.INVALID);
            feed("bug-env-key", BASE + "env: {\"" + key + "\": \"a\\0b\"}\n", Expect.INVALID);
        }
        assertClean();
    }

    @Test
    void workingDirWithALineBreakIsReportedOnOneLine() throws IOException {
        feed("bug-working-dir", BASE + "workingDir: \"/nonexistent\\nx\"\n", Expect.INVALID);
        feed("bug-working-dir", BASE + "workingDir: \"/nonexistent\\e[2Jx\"\n", Expect.INVALID);
        Files.writeString(dir.resolve("plain\nfile"), "x");
        feed("bug-working-dir", BASE + "workingDir: \"plain\\nfile\"\n", Expect.INVALID);
        assertClean();
    }

    @Test
    void engineExceptionsAreReportedWithoutJavaClassNames() {
        List<String> docs = List.of(
                BASE + "port: +.inf\n", BASE + "port: +.INF\n", BASE + "env: {A: +.inf}\n", "run: sh\nwarmupTime: +.inf\n",
                BASE + "env: {~: a, null: b}\n", BASE + "? ~\n: 1\n? null\n: 2\n",
                "run: \"\\u", "{\"run\": \"\\u",
                BASE + "port: !!int abc\n", BASE + "port: !!int 0x\n", BASE + "port: !!int 1_000\n", BASE + "port: !!float abc\n",
                BASE + "port: !!float \"\"\n", "run: !!binary \"%%%\"\nhealthCheckPath: /h\n", "run: !!seq abc\nhealthCheckPath: /h\n",
                "run: !!map abc\nhealthCheckPath: /h\n", "run: !!str [a]\nhealthCheckPath: /h\n", "run: !!set [a]\nhealthCheckPath: /h\n",
                "run: !!binary [a]\nhealthCheckPath: /h\n", BASE + "env: {A: !!seq x}\n");
        for (String doc : docs) {
            feed("bug-leak", doc, Expect.INVALID);
        }
        assertClean();
    }

    @Test
    void explicitBoolTagWithOtherTextIsRefused() {
        feed("bug-bool-tag", BASE + "restartOnCrash: !!bool maybe\n", Expect.INVALID);
        feed("bug-bool-tag", BASE + "port: !!bool 8080\n", Expect.INVALID);
        assertClean();
    }

    /**
     * In a JVM of its own, with 256 MB: expanded, the bomb is 16 GB (an OutOfMemoryError, not the
     * one-line exit 78) or hours of work (no exit within awaitReal's bound).
     */
    @Test
    void duplicateKeyAliasBombIsRefusedQuickly() throws Exception {
        String bomb = doubling(24, "x".repeat(1_000)) + "- {? *b23 : 1, ? *b23 : 2}\n";
        Path file = write(bomb.getBytes(UTF_8));
        RealRun run = startReal(file, "-Xmx256m");
        Outcome r = awaitReal(run);
        assertNull(problem(file, Expect.INVALID, r), () -> "exit " + r.code() + ": " + excerpt(r.err()));
    }

    @Test
    void megabyteKeyOrNumberIsRefusedQuickly() {
        feed("bug-slow", BASE + "? " + "k".repeat(MB) + "\n: 1\n", Expect.INVALID);
        feed("bug-slow", BASE + "port: " + "9".repeat(MB) + "\n", Expect.INVALID);
        feed("bug-slow", BASE + "drainTimeout: \"" + "9".repeat(MB) + "ms\"\n", Expect.INVALID);
        feed("bug-slow", BASE + "drainTimeout: " + "1".repeat(MB) + "s\n", Expect.INVALID);
        for (String f : failures) {
            System.out.println(f);
        }
        assertTrue(failures.isEmpty(), () -> String.join("\n", failures));
    }

    @Test
    void configPathWithALineBreakIsReportedOnOneLine() throws IOException {
        Path file = dir.resolve("odd\nname.yaml");
        Files.writeString(file, "x: 1\n");
        Outcome r = check(file);
        assertEquals(78, r.code());
        assertEquals(1, r.err().chars().filter(ch -> ch == '\n').count(), () -> excerpt(r.err()));
    }

    // ------------------------------------------------------------------------------------------
    // checking one document
    // ------------------------------------------------------------------------------------------

    @AfterAll
    static void printCounts() {
        int[] total = new int[3];
        StringBuilder s = new StringBuilder("ConfigFuzzTest seed " + SEED + ": generator documents exit0 exit78\n");
        COUNTS.forEach((g, c) -> {
            s.append(String.format("  %-14s %6d %6d %6d%n", g, c[0], c[1], c[2]));
            for (int i = 0; i < 3; i++) {
                total[i] += c[i];
            }
        });
        s.append(String.format("  %-14s %6d %6d %6d%n", "total", total[0], total[1], total[2]));
        System.out.print(s);
    }

    private void feed(String generator, String text, Expect expect) {
        feed(generator, text.getBytes(UTF_8), expect);
    }

    private void feed(String generator, byte[] content, Expect expect) {
        Path file = write(content);
        verify(generator, file, preview(content), refine(expect, content));
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the @TempDir goes anyway
        }
    }

    private Path write(byte[] content) {
        Path file = dir.resolve(String.format("fuzz-%05d.yaml", sequence++));
        try {
            Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private void verify(String generator, Path file, String what, Expect expect) {
        Outcome r = check(file);
        int[] c = COUNTS.computeIfAbsent(generator, g -> new int[3]);
        synchronized (c) {
            c[0]++;
            if (r.code() == 0) {
                c[1]++;
            } else if (r.code() == 78) {
                c[2]++;
            }
        }
        if (r.cpuMillis() > SLOW_MS) {
            System.out.println("slow: " + r.cpuMillis() + " ms of CPU, " + generator + " " + what);
        }
        String problem = problem(file, expect, r);
        if (problem != null) {
            failures.add(generator + " " + what + " -> " + problem);
        }
    }

    private static Outcome check(Path file) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long t0 = THREADS.getCurrentThreadCpuTime();
        int code = -1;
        Throwable thrown = null;
        try (PrintWriter o = new PrintWriter(out); PrintWriter e = new PrintWriter(err)) {
            code = Main.execute(new String[] {"check", "-c", file.toString()}, o, e);
        } catch (Throwable t) { // an Error escaping execute() is exactly what this test looks for
            thrown = t;
        }
        return new Outcome(code, out.toString(), err.toString(), (THREADS.getCurrentThreadCpuTime() - t0) / 1_000_000, thrown);
    }

    /** Null when the outcome keeps the contract, else what is wrong. */
    private static String problem(Path file, Expect expect, Outcome r) {
        if (r.thrown() != null) {
            return "Main.execute threw " + r.thrown();
        }
        if (r.cpuMillis() > PER_DOCUMENT_LIMIT_MS) {
            return "took " + r.cpuMillis() + " ms of CPU (exit " + r.code() + ")";
        }
        if (r.code() == 0) {
            if (expect == Expect.INVALID) {
                return "exit 0 for an invalid config; stdout: " + excerpt(r.out());
            }
            if (!r.err().isEmpty()) {
                return "exit 0 with stderr: " + excerpt(r.err());
            }
            return r.out().contains(": valid") ? null : "exit 0 without '<file>: valid' on stdout: " + excerpt(r.out());
        }
        if (r.code() != 78) {
            return "exit " + r.code() + " (want 78" + (expect == Expect.INVALID ? "" : " or 0") + "); stderr: " + excerpt(r.err());
        }
        if (expect == Expect.VALID) {
            return "exit 78 for a valid config: " + excerpt(r.err());
        }
        String err = r.err();
        if (!err.endsWith("\n")) {
            return "stderr does not end with one newline: " + excerpt(err);
        }
        String line = err.substring(0, err.length() - 1);
        if (line.isBlank()) {
            return "stderr is empty";
        }
        if (line.indexOf('\n') >= 0) {
            return "stderr has " + err.chars().filter(ch -> ch == '\n').count() + " lines: " + excerpt(err);
        }
        if (!line.contains(file.toString())) {
            return "stderr does not name " + file + ": " + excerpt(err);
        }
        for (String mark : STACK_TRACE_MARKS) {
            if (line.contains(mark)) {
                return "stderr has the stack-trace mark '" + mark.replace("\t", "\\t") + "': " + excerpt(err);
            }
        }
        // The loader's own rule (quote()/oneLine()): no raw control or line-separator character.
        // A tab is harmless in one line, everything else could break a log line or drive a terminal.
        int bad = line.codePoints().filter(cp -> cp != '\t' && (Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029))
                .findFirst().orElse(-1);
        if (bad >= 0) {
            return String.format("stderr has a raw U+%04X: %s", bad, excerpt(err));
        }
        return null;
    }

    /**
     * Sharpens ANY by construction: what is not UTF-8, holds a character YAML does not allow anywhere
     * (C0/C1 controls other than tab, LF, CR, NEL; U+FFFE/U+FFFF), or exceeds the 1 MiB cap is invalid.
     */
    private static Expect refine(Expect expect, byte[] content) {
        if (expect != Expect.ANY) {
            return expect;
        }
        if (content.length > (1 << 20)) {
            return Expect.INVALID;
        }
        String text;
        try {
            text = UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString();
        } catch (CharacterCodingException e) {
            return Expect.INVALID;
        }
        boolean allPrintable = text.codePoints().allMatch(cp -> cp == 0x9 || cp == 0xA || cp == 0xD || cp == 0x85
                || (cp >= 0x20 && cp <= 0x7E) || (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD)
                || (cp >= 0x10000 && cp <= 0x10FFFF));
        return allPrintable ? Expect.ANY : Expect.INVALID;
    }

    private void assertClean() {
        assertTrue(failures.isEmpty(), () -> failures.size() + " document(s) broke the contract (seed " + SEED + "):\n  "
                + String.join("\n  ", failures.subList(0, Math.min(30, failures.size()))));
    }

    // ------------------------------------------------------------------------------------------
    // a real JVM
    // ------------------------------------------------------------------------------------------

    private record RealRun(Process process, Path out, Path err) {}

    private RealRun startReal(Path file, String... jvmOptions) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.rainbowd.cli.Main", "check", "-c", file.toString()));
        int n = sequence++;
        Path out = dir.resolve("real-" + n + ".out");
        Path err = dir.resolve("real-" + n + ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new RealRun(p, out, err);
    }

    private static Outcome awaitReal(RealRun run) throws Exception {
        Duration bound = Slack.of(Duration.ofSeconds(60));
        if (!run.process().waitFor(bound.toSeconds(), TimeUnit.SECONDS)) {
            run.process().destroyForcibly();
            return new Outcome(-1, "", "", 0, new AssertionError("no exit within " + Slack.describe(Duration.ofSeconds(60))));
        }
        // JVM start-up is not the config loader's time: no per-document limit on a subprocess
        return new Outcome(run.process().exitValue(), Files.readString(run.out()), Files.readString(run.err()), 0, null);
    }

    // ------------------------------------------------------------------------------------------
    // document building
    // ------------------------------------------------------------------------------------------

    private enum Kind { RUN, HEALTH_PATH, WARMUP, PORT, HOST, CONTROL_HOST, TOKEN, WORKING_DIR, PATH, ENV, DURATION, POSITIVE_DURATION, SMALL_INT, BOOL, SIGNAL, HOST_HEADER, TRUSTED, KEEPALIVE, SIZE, ENV_FILE }

    private static final Map<String, Kind> KEY_KINDS = new LinkedHashMap<>();

    static {
        KEY_KINDS.put("run", Kind.RUN);
        KEY_KINDS.put("healthCheckPath", Kind.HEALTH_PATH);
        KEY_KINDS.put("warmupTime", Kind.WARMUP);
        KEY_KINDS.put("port", Kind.PORT);
        KEY_KINDS.put("host", Kind.HOST);
        KEY_KINDS.put("controlPort", Kind.PORT);
        KEY_KINDS.put("controlHost", Kind.CONTROL_HOST);
        KEY_KINDS.put("controlToken", Kind.TOKEN);
        KEY_KINDS.put("workingDir", Kind.WORKING_DIR);
        KEY_KINDS.put("env", Kind.ENV);
        KEY_KINDS.put("envFile", Kind.ENV_FILE);
        KEY_KINDS.put("triggerFile", Kind.PATH);
        KEY_KINDS.put("releaseLink", Kind.PATH);
        KEY_KINDS.put("healthTimeout", Kind.POSITIVE_DURATION);
        KEY_KINDS.put("healthDeadline", Kind.POSITIVE_DURATION);
        KEY_KINDS.put("drainTimeout", Kind.DURATION);
        KEY_KINDS.put("stopTimeout", Kind.POSITIVE_DURATION);
        KEY_KINDS.put("maxGenerations", Kind.SMALL_INT);
        KEY_KINDS.put("launchAttempts", Kind.SMALL_INT);
        KEY_KINDS.put("restartOnCrash", Kind.BOOL);
        KEY_KINDS.put("queueTimeout", Kind.DURATION);
        KEY_KINDS.put("stateDir", Kind.PATH);
        KEY_KINDS.put("stopSignal", Kind.SIGNAL); // no value below is a signal name: all must be refused
        KEY_KINDS.put("healthCheckHost", Kind.HOST_HEADER);
        KEY_KINDS.put("tunnelIdleTimeout", Kind.POSITIVE_DURATION);
        KEY_KINDS.put("trustedProxies", Kind.TRUSTED);
        KEY_KINDS.put("upstreamKeepAlive", Kind.KEEPALIVE); // no value below is replayable or all: all refused
        KEY_KINDS.put("requestBuffering", Kind.BOOL);
        KEY_KINDS.put("maxRequestBody", Kind.SIZE);
        KEY_KINDS.put("maxResponseBuffer", Kind.SIZE);
        assertEquals(ConfigLoader.KEYS, List.copyOf(KEY_KINDS.keySet()), "the fuzzer covers every key of SPEC section 2");
    }

    /** A value, and the kinds of key it might be valid for; null: it might be valid for any. */
    private record Value(String text, Set<Kind> mayBeValidFor) {}

    private static Value never(String text) {
        return new Value(text, EnumSet.noneOf(Kind.class));
    }

    private static Value maybe(String text, Set<Kind> kinds) {
        return new Value(text, kinds);
    }

    private static Value anything(String text) {
        return new Value(text, null);
    }

    private static Set<Kind> kinds(Kind... kinds) {
        return kinds.length == 0 ? EnumSet.noneOf(Kind.class) : EnumSet.copyOf(List.of(kinds));
    }

    private static Set<Kind> union(Set<Kind> a, Kind... more) {
        Set<Kind> s = EnumSet.noneOf(Kind.class);
        s.addAll(a);
        s.addAll(List.of(more));
        return s;
    }

    private static final Set<Kind> STRINGS = kinds(Kind.RUN, Kind.HOST, Kind.HOST_HEADER, Kind.TOKEN, Kind.PATH, Kind.TRUSTED, Kind.ENV_FILE);
    // Sizes take what durations take where it is a whole number (0, 7000, "2m": two megabytes).
    private static final Set<Kind> ZERO_OK_DURATIONS = kinds(Kind.DURATION, Kind.WARMUP, Kind.SIZE);
    private static final Set<Kind> DURATIONS = union(ZERO_OK_DURATIONS, Kind.POSITIVE_DURATION);
    private static final Set<Kind> NUMBERS = union(DURATIONS, Kind.PORT, Kind.SMALL_INT);

    private static final List<Value> VALUES = List.of(
            // wrong node kinds
            never("[1, 2]"), maybe("[]", kinds(Kind.TRUSTED, Kind.ENV_FILE)), never("[[[[]]]]"), never("{\"a\": {\"b\": \"c\"}}"), maybe("{}", kinds(Kind.ENV)),
            never("!!binary aGk="), never("!!set {a, b}"),
            // booleans
            maybe("true", kinds(Kind.BOOL)), maybe("false", kinds(Kind.BOOL)), maybe("True", kinds(Kind.BOOL)),
            maybe("FALSE", kinds(Kind.BOOL)), maybe("!!bool \"true\"", kinds(Kind.BOOL)),
            // strings
            maybe("yes", STRINGS), maybe("off", STRINGS), maybe("\"abc\"", STRINGS), never("\"\""), never("\" \""),
            maybe("\"a b\"", kinds(Kind.RUN, Kind.PATH)), maybe("\"/\"", kinds(Kind.RUN, Kind.HEALTH_PATH, Kind.WORKING_DIR, Kind.TOKEN, Kind.PATH)),
            maybe("\"127.0.0.1\"", union(STRINGS, Kind.CONTROL_HOST)), maybe("\"0.0.0.0\"", STRINGS),
            maybe("\"7000\"", union(STRINGS, DURATIONS.toArray(Kind[]::new))), maybe("!!str 7000", union(STRINGS, DURATIONS.toArray(Kind[]::new))),
            maybe("\"1s\"", union(STRINGS, DURATIONS.toArray(Kind[]::new))), maybe("2m", union(STRINGS, DURATIONS.toArray(Kind[]::new))),
            maybe("\"-1s\"", STRINGS), maybe("1h30m", STRINGS), maybe("1.5.5s", STRINGS), maybe("2001-12-14", STRINGS),
            maybe("\"" + "9".repeat(5_000) + "ms\"", STRINGS),
            // null
            anything("null"), anything("~"), anything("!!null \"\""), anything("Null"),
            // numbers, small and huge
            never("1.5"), never("-1"), never("-1.5"), never("-7000"),
            maybe("0", ZERO_OK_DURATIONS), maybe("-0", ZERO_OK_DURATIONS), maybe("+0", ZERO_OK_DURATIONS),
            maybe("-0.0", ZERO_OK_DURATIONS), maybe("0.0", ZERO_OK_DURATIONS), maybe("1e-400", ZERO_OK_DURATIONS),
            maybe("0." + "0".repeat(1_000) + "1", ZERO_OK_DURATIONS),
            maybe("1e3", DURATIONS), maybe("65536", DURATIONS), maybe("2147483648", DURATIONS), maybe("!!float \"1\"", DURATIONS),
            maybe("0x1F", NUMBERS), maybe("0o17", NUMBERS), maybe("+12", NUMBERS), maybe("!!int \"12\"", NUMBERS),
            never("4.9e-324"), never("99999999999999999999999"), never("-99999999999999999999999"),
            never("9223372036854775808"), never("-9223372036854775809"), never("0x7FFFFFFFFFFFFFFFFFFFFFFF"),
            never("1e400"), never("-1e400"), never("1.7976931348623157e308"), never(".inf"), never("-.inf"),
            never(".Inf"), never(".INF"), never(".nan"), never(".NaN"), never(".NAN"),
            never("9".repeat(5_000)), never("1" + "0".repeat(5_000)), never("-" + "9".repeat(5_000)));

    /** {@code BASE} with {@code key: value} added (or replacing run / healthCheckPath). */
    private static String yamlWith(String key, String value) {
        StringBuilder s = new StringBuilder();
        if (!key.equals("run")) {
            s.append("run: sh run.sh\n");
        }
        if (!key.equals("healthCheckPath") && !key.equals("warmupTime")) {
            s.append("healthCheckPath: /health\n");
        }
        return s.append(key).append(": ").append(value).append('\n').toString();
    }

    private static String jsonWith(String key, String value) {
        StringBuilder s = new StringBuilder("{");
        if (!key.equals("run")) {
            s.append("\"run\": \"sh run.sh\", ");
        }
        if (!key.equals("healthCheckPath") && !key.equals("warmupTime")) {
            s.append("\"healthCheckPath\": \"/health\", ");
        }
        return s.append('"').append(key).append("\": ").append(value).append("}\n").toString();
    }

    /** A block list of {@code levels} anchors, each a pair of references to the one before: 2^levels leaves. */
    private static String doubling(int levels, String leaf) {
        StringBuilder s = new StringBuilder("- &b0 [" + leaf + ", " + leaf + "]\n");
        for (int i = 1; i < levels; i++) {
            s.append("- &b").append(i).append(" [*b").append(i - 1).append(", *b").append(i - 1).append("]\n");
        }
        return s.toString();
    }

    private static final String[] TOKENS = {"{", "}", "[", "]", ":", ": ", ",", "\"", "'", "\n", "\r\n", " ", "  ", "\t",
        "#", "&a ", "*a", "!!", "!", "- ", "? ", "---\n", "...\n", "%YAML 1.2\n", "\\", "|", ">", "@", "`", "~", "null",
        "true", "-1", "1e400", ".nan", "0x", "\u00e9", "\uD83C\uDF08", "\u202E", "\u2028", "\u0085", "\uFEFF"};

    private static final byte[][] RAW = {{0}, {(byte) 0xFF}, {(byte) 0xC3}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, {0x1B}, {0x7F}, {0x0B}};

    /** One to four random edits: bit flips, random bytes, token/byte insertions, deletions, duplicated spans. */
    private static byte[] mutate(byte[] base, Random r) {
        byte[] b = base.clone();
        int edits = 1 + r.nextInt(4);
        for (int k = 0; k < edits; k++) {
            int at = b.length == 0 ? 0 : r.nextInt(b.length);
            switch (b.length == 0 ? 2 : r.nextInt(7)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) r.nextInt(256);
                case 2 -> b = splice(b, at, 0, TOKENS[r.nextInt(TOKENS.length)].getBytes(UTF_8));
                case 3 -> b = splice(b, at, 0, RAW[r.nextInt(RAW.length)]);
                case 4 -> b = splice(b, at, Math.min(b.length - at, 1 + r.nextInt(8)), new byte[0]);
                case 5 -> {
                    int from = r.nextInt(b.length);
                    int len = Math.min(b.length - from, 1 + r.nextInt(24));
                    b = splice(b, at, 0, Arrays.copyOfRange(b, from, from + len));
                }
                default -> b = splice(b, at, 0, new byte[] {(byte) (0x20 + r.nextInt(0x5F))});
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + insert.length);
        out.write(b, 0, at);
        out.writeBytes(insert);
        out.write(b, at + remove, b.length - at - remove);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The start of a document, escaped, and its length. */
    private static String preview(byte[] content) {
        String s = new String(content, 0, Math.min(content.length, 120), UTF_8);
        return "[" + content.length + " bytes: " + escape(s) + (content.length > 120 ? "…" : "") + "]";
    }

    private static String excerpt(String s) {
        return escape(s.length() > 300 ? s.substring(0, 300) + "…" : s);
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }
}
