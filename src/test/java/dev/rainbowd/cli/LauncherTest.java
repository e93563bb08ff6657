package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.LauncherProbe;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code agent/rainbowd}, the bash launcher, run as a real process: its JVM flags and its AppCDS
 * archive (written by the first daemon run, mapped by later ones, replaced when the jar changes).
 * The real rainbowd jar does not exist while surefire runs (it is built at {@code package}), and the
 * launcher does not need it: each test packs {@link LauncherProbe} into a jar of its own, which prints
 * its arguments, its JVM flags and the archives mapped into it.
 */
class LauncherTest {
    /** A JVM start, dumping an archive of a one-class jar included, takes well under a second. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Path LAUNCHER = launcher();
    private static final List<String> CLIENT_FLAGS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

    @TempDir
    Path dir;

    /** RAINBOWD_CDS_DIR in most tests; it exists, as systemd's CacheDirectory= makes it. */
    private Path cds;
    /** The jar's own directory: the archives' directory when RAINBOWD_CDS_DIR is not set. */
    private Path app;
    private Path jar;
    /** The launched processes' working directory. */
    private Path work;

    private final List<Process> started = new ArrayList<>();
    /** JVMs seen by pid, in case one is not the launched process itself (the launcher did not exec). */
    private final List<ProcessHandle> jvms = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        cds = Files.createDirectories(dir.resolve("cds"));
        app = Files.createDirectories(dir.resolve("app"));
        work = Files.createDirectories(dir.resolve("work"));
        jar = app.resolve("rainbowd.jar");
        writeJar(jar, "");
    }

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        for (ProcessHandle h : jvms) {
            if (h.isAlive()) {
                h.destroyForcibly();
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    // best effort
                }
            }
        }
    }

    @Test
    void theFirstDaemonRunAsksTheJvmToWriteAnArchiveKeyedToTheJar() throws Exception {
        Launch r = launch(Map.of("RAINBOWD_CDS_DIR", cds.toString()), "run", "-c", "conf.yaml");

        assertEquals(List.of("run", "-c", "conf.yaml"), r.args(), "the arguments, unchanged: " + r);
        assertTrue(r.jvm().containsAll(List.of("-XX:+UseSerialGC", "-Xmx256m", "-XX:+ExitOnOutOfMemoryError")),
                "the daemon's default flags: " + r);
        Path jsa = Path.of(r.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError("no archive asked for: " + r)));
        assertEquals(cds, jsa.getParent(), "in RAINBOWD_CDS_DIR");
        assertKeyedTo(jar, jsa);
        assertEquals(Optional.empty(), r.flag("-XX:SharedArchiveFile="), "nothing to map yet: " + r);
        assertEquals(List.of(), r.mapped(cds), "nothing mapped from the CDS dir yet: " + r);

        assertEquals(List.of(jsa), archives(cds), "the JVM wrote the archive as it exited");
        assertTrue(Files.size(jsa) > 0, "a non-empty archive");
    }

    @Test
    void aLeadingFlagIsTheDaemonToo() throws Exception {
        Launch r = launch(Map.of("RAINBOWD_CDS_DIR", cds.toString()), "-c", "conf.yaml");

        assertEquals(List.of("-c", "conf.yaml"), r.args());
        assertTrue(r.flag("-XX:ArchiveClassesAtExit=").isPresent(), "the daemon's flags: " + r);
        assertEquals(1, archives(cds).size());
    }

    @Test
    void theSecondRunMapsTheArchiveAndWritesNone() throws Exception {
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString());
        launch(env, "run");
        List<Path> written = archives(cds);
        assertEquals(1, written.size(), "the first run wrote one archive: " + written);
        Path jsa = written.get(0);
        FileTime writtenAt = Files.getLastModifiedTime(jsa);
        long size = Files.size(jsa);

        Launch second = launch(env, "run");

        assertEquals(Optional.of(jsa.toString()), second.flag("-XX:SharedArchiveFile="), "the archive, named: " + second);
        assertEquals(Optional.empty(), second.flag("-XX:ArchiveClassesAtExit="), "no new archive asked for: " + second);
        assertEquals(List.of(jsa.toRealPath()), second.mapped(cds), "the JVM mapped it (/proc/self/maps): " + second);
        assertEquals(List.of(jsa), archives(cds), "no new file");
        assertEquals(writtenAt, Files.getLastModifiedTime(jsa), "the archive was not rewritten");
        assertEquals(size, Files.size(jsa));
    }

    /**
     * The JVM writes the archive however it exits, so a first run that failed at start-up (a config
     * typo) left an archive of a few classes that every later run mapped. The daemon marks a run
     * that started; an unmarked archive is written again.
     */
    @Test
    void anArchiveFromARunThatFailedToStartIsWrittenAgain() throws Exception {
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString());
        Launch failed = launch(env, "run", "--fail-start");
        Path jsa = Path.of(failed.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError("no archive asked for: " + failed)));
        assertEquals(Optional.of(jsa + ".ok"), failed.flag("-Drainbowd.cdsMarker="), "the daemon is told where to mark: " + failed);
        assertEquals(List.of(jsa), archives(cds), "the JVM wrote an archive anyway");
        assertFalse(Files.exists(Path.of(jsa + ".ok")), "not marked");

        Launch next = launch(env, "run");
        assertEquals(Optional.empty(), next.flag("-XX:SharedArchiveFile="), "the unmarked archive is not mapped: " + next);
        assertEquals(Optional.of(jsa.toString()), next.flag("-XX:ArchiveClassesAtExit="), "it is written again: " + next);
        assertTrue(Files.exists(Path.of(jsa + ".ok")), "this run started, and marked it");

        Launch third = launch(env, "run");
        assertEquals(List.of(jsa.toRealPath()), third.mapped(cds), "the archive of a run that started is mapped: " + third);
    }

    @Test
    void aRebuiltJarGetsANewArchiveAndTheStaleOneGoes() throws Exception {
        // No RAINBOWD_CDS_DIR: the archives go next to the jar, as in a checkout's target/.
        Files.writeString(app.resolve("notes.txt"), "keep me\n");
        Files.writeString(app.resolve("other.jsa"), "another program's archive\n");
        Launch first = launch(Map.of(), "run");
        Path stale = Path.of(first.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(first.toString())));
        assertEquals(app, stale.getParent(), "next to the jar");
        assertEquals(List.of(stale), archives(app));

        // A rebuild: other bytes, another size, a later mtime (set, rather than slept for).
        FileTime before = Files.getLastModifiedTime(jar);
        long sizeBefore = Files.size(jar);
        writeJar(jar, "rebuilt\n");
        FileTime rebuiltAt = FileTime.fromMillis(before.toMillis() + 3_600_000);
        Files.setLastModifiedTime(jar, rebuiltAt);
        assertNotEquals(sizeBefore, Files.size(jar));

        Launch second = launch(Map.of(), "run");

        assertEquals(Optional.empty(), second.flag("-XX:SharedArchiveFile="), "the stale archive is not mapped: " + second);
        Path fresh = Path.of(second.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(second.toString())));
        assertNotEquals(stale, fresh);
        assertKeyedTo(jar, fresh);
        assertEquals(List.of(fresh), archives(app), "the stale archive is gone, a new one written");
        assertEquals("keep me\n", Files.readString(app.resolve("notes.txt")), "an unrelated file stays");
        assertEquals("another program's archive\n", Files.readString(app.resolve("other.jsa")));
        assertEquals(rebuiltAt, Files.getLastModifiedTime(jar), "the jar itself stays as it was");

        Launch third = launch(Map.of(), "run");
        assertEquals(List.of(fresh.toRealPath()), third.mapped(app), "the new archive is mapped: " + third);
    }

    @Test
    void aJarWithOnlyANewMtimeGetsANewArchive() throws Exception {
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString());
        launch(env, "run");
        Path stale = archives(cds).get(0);
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));

        Launch r = launch(env, "run");

        Path fresh = Path.of(r.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(r.toString())));
        assertKeyedTo(jar, fresh);
        assertEquals(List.of(fresh), archives(cds), "not " + stale);
    }

    @Test
    void aJarInADirectoryWithASpaceRunsAndGetsItsArchive() throws Exception {
        // A checkout in "~/My Projects": the archive goes next to the jar, so its path has a space.
        Path spaced = Files.createDirectories(dir.resolve("my app"));
        jar = Files.move(jar, spaced.resolve("rainbowd.jar"));

        Launch first = launch(Map.of(), "run");
        Path jsa = Path.of(first.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(first.toString())));
        assertEquals(spaced, jsa.getParent(), "one flag, the whole path: " + first);
        assertEquals(List.of(jsa), archives(spaced));

        Launch second = launch(Map.of(), "run");
        assertEquals(List.of(jsa.toRealPath()), second.mapped(spaced), "mapped: " + second);
    }

    @Test
    void theDaemonStoppedBySigtermWritesTheArchive() throws Exception {
        // How systemd stops it. Java's exit on SIGTERM is 128 + 15.
        Process p = start(Map.of("RAINBOWD_CDS_DIR", cds.toString()), "run", "--wait");
        awaitLine(p, "ready");
        Optional<String> pid = Files.readString(dir.resolve("out-" + started.indexOf(p))).lines()
                .filter(l -> l.startsWith("pid\t")).map(l -> l.substring(4)).findFirst();
        pid.flatMap(s -> ProcessHandle.of(Long.parseLong(s))).ifPresent(jvms::add);
        assertEquals(Optional.of(Long.toString(p.pid())), pid, "the launcher execs java: a signal to it reaches the JVM");
        p.destroy();
        Launch r = finish(p);
        assertEquals(143, r.code(), r.toString());
        Path jsa = Path.of(r.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(r.toString())));
        assertEquals(List.of(jsa), archives(cds));
    }

    @Test
    void cdsDirNoneNeitherMapsNorWritesNorDeletes() throws Exception {
        launch(Map.of(), "run"); // an archive next to the jar, which "none" must leave alone
        // A writable directory called none where it runs: "none" is a word, not that directory.
        Path noneDir = Files.createDirectory(work.resolve("none"));
        List<Path> before = archives(app);
        assertEquals(1, before.size());
        Path stale = Files.writeString(app.resolve("rainbowd-1-2-3.jsa"), "an older jar's");

        Launch r = launch(Map.of("RAINBOWD_CDS_DIR", "none"), "run");

        assertTrue(r.jvm().contains("-Xshare:auto"), r.toString());
        assertEquals(Optional.empty(), r.flag("-XX:SharedArchiveFile="), r.toString());
        assertEquals(Optional.empty(), r.flag("-XX:ArchiveClassesAtExit="), r.toString());
        assertEquals(List.of(), r.mapped(app), r.toString());
        assertEquals(Stream.concat(before.stream(), Stream.of(stale)).sorted().toList(), archives(app), "no archive written or deleted");
        try (Stream<Path> s = Files.list(noneDir)) {
            assertEquals(List.of(), s.toList(), "nothing written in ./none");
        }
    }

    @Test
    void aClientCommandGetsClientFlagsAndNeitherWritesNorDeletesAnArchive() throws Exception {
        Path stale = Files.writeString(cds.resolve("rainbowd-1-2-3.jsa"), "an older jar's");

        Launch r = launch(Map.of("RAINBOWD_CDS_DIR", cds.toString()), "status", "--quiet");

        assertEquals(List.of("status", "--quiet"), r.args());
        assertEquals(CLIENT_FLAGS, r.jvm(), "C1 only, no archive: " + r);
        assertEquals(List.of(stale), archives(cds), "no archive written, none deleted");
    }

    @Test
    void helpAndVersionAreNotTheDaemonAndLeaveTheArchiveToIt() throws Exception {
        // Were they the daemon, the archive of a help run (~1.3 MB with the real jar, against ~15 MB
        // for a daemon's) is what every later daemon run would map, until the jar changes.
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString());
        for (List<String> args : List.of(List.of("--version"), List.of("-h"), List.of("run", "--help"),
                List.of("-c", "conf.yaml", "-V"))) {
            Launch r = launch(env, args.toArray(String[]::new));
            assertEquals(args, r.args());
            assertEquals(CLIENT_FLAGS, r.jvm(), "client flags for " + args + ": " + r);
            assertEquals(List.of(), archives(cds), "no archive from " + args);
        }
        Launch daemon = launch(env, "run");
        assertTrue(daemon.flag("-XX:ArchiveClassesAtExit=").isPresent(), "the daemon writes the archive: " + daemon);
    }

    @Test
    void javaOptsReplaceTheDefaults() throws Exception {
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString(), "RAINBOWD_JAVA_OPTS", "-Xmx77m  -Dlauncher.test=yes");

        Launch daemon = launch(env, "run");
        assertEquals(List.of("-Xmx77m", "-Dlauncher.test=yes"), daemon.jvm(), "only the given flags: " + daemon);
        assertEquals(List.of(), archives(cds), "no archive without the default flags");

        Launch client = launch(env, "status");
        assertEquals(List.of("-Xmx77m", "-Dlauncher.test=yes"), client.jvm(), "only the given flags: " + client);
    }

    @Test
    void javaPicksTheJavaBinaryAndAnotherBinaryGetsAnotherArchive() throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("RAINBOWD_CDS_DIR", cds.toString()));
        Launch plain = launch(env, "run");
        Path first = Path.of(plain.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(plain.toString())));

        Path wrapper = javaWrapper(dir.resolve("jdk/bin/java"));
        env.put("JAVA", wrapper.toString());
        Launch wrapped = launch(env, "run");

        assertTrue(wrapped.jvm().contains("-Dlauncher.wrapper=yes"), "started through JAVA: " + wrapped);
        Path second = Path.of(wrapped.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(wrapped.toString())));
        assertKeyedTo(jar, second);
        assertNotEquals(first, second, "an archive of its own");
        assertEquals(List.of(second), archives(cds), "the other binary's archive is replaced");
    }

    @Test
    void aJdkUpdatedInPlaceGetsANewArchive() throws Exception {
        // apt upgrade puts the new JDK build at the same path, with the new build's mtime. The JVM
        // ignores, silently, an archive another build wrote: were the name the same, no new one would
        // ever be written (until the jar changed).
        Path java = javaWrapper(dir.resolve("jdk/bin/java"));
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString(), "JAVA", java.toString());
        Launch before = launch(env, "run");
        Path old = Path.of(before.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(before.toString())));

        javaWrapper(java); // the update: the same path, a new file
        Files.setLastModifiedTime(java, FileTime.fromMillis(Files.getLastModifiedTime(java).toMillis() + 86_400_000));
        Launch after = launch(env, "run");

        assertEquals(Optional.empty(), after.flag("-XX:SharedArchiveFile="), "the old build's archive is not mapped: " + after);
        Path fresh = Path.of(after.flag("-XX:ArchiveClassesAtExit=").orElseThrow(() -> new AssertionError(after.toString())));
        assertKeyedTo(jar, fresh);
        assertEquals(List.of(fresh), archives(cds), "the old build's archive is replaced: not " + old);
    }

    @Test
    void aJavaThatIsNotThereIsNamedForTheDaemonAsForAClient() throws Exception {
        String missing = dir.resolve("no-jdk/bin/java").toString();
        Map<String, String> env = Map.of("RAINBOWD_CDS_DIR", cds.toString(), "JAVA", missing);
        for (String subcommand : List.of("status", "run")) {
            Launch r = finish(start(env, subcommand));
            assertEquals(127, r.code(), subcommand + ", like a shell's command not found: " + r);
            assertTrue(r.err().contains(missing), subcommand + " says what is missing: " + r);
        }
    }

    // ---- helpers

    /** What one launch printed ({@link LauncherProbe}'s lines) and its exit code. */
    record Launch(int code, List<String> args, List<String> jvm, List<String> mapped, String out, String err) {
        Optional<String> flag(String prefix) {
            return jvm.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length())).findFirst();
        }

        /** The mapped archives in {@code dir}, real paths (the JDK's own base archive is always mapped). */
        List<Path> mapped(Path dir) throws IOException {
            Path real = dir.toRealPath();
            return mapped.stream().map(Path::of).filter(m -> real.equals(m.getParent())).toList();
        }

        @Override
        public String toString() {
            return "exit " + code + "\nstdout:\n" + out + "stderr:\n" + err;
        }
    }

    /** Runs the launcher to its end; fails unless it exits 0. */
    private Launch launch(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Launch r = finish(start(env, args));
        assertEquals(0, r.code(), "agent/rainbowd " + String.join(" ", args) + ": " + r);
        return r;
    }

    /**
     * Starts {@code agent/rainbowd args...} on this test's jar, with JAVA set to this JVM's java and no
     * other RAINBOWD_ variable than RAINBOWD_JAR and {@code env}'s.
     */
    private Process start(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        int n = started.size();
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(dir.resolve("out-" + n).toFile())
                .redirectError(dir.resolve("err-" + n).toFile());
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("RAINBOWD_") || k.equals("JAVA") || k.equals("JAVA_TOOL_OPTIONS")
                || k.equals("JDK_JAVA_OPTIONS"));
        e.put("JAVA", Demo.java().toString());
        e.put("RAINBOWD_JAR", jar.toString());
        e.putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** Waits for {@code p} (killing it and failing after {@link #TIMEOUT}) and reads what it printed. */
    private Launch finish(Process p) throws IOException, InterruptedException {
        int n = started.indexOf(p);
        if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            fail("the launcher did not exit within " + TIMEOUT + "; stdout:\n" + Files.readString(dir.resolve("out-" + n)));
        }
        String out = Files.readString(dir.resolve("out-" + n));
        String err = Files.readString(dir.resolve("err-" + n));
        List<String> args = new ArrayList<>();
        List<String> jvm = new ArrayList<>();
        List<String> mapped = new ArrayList<>();
        for (String line : out.lines().toList()) {
            int tab = line.indexOf('\t');
            if (tab < 0) continue;
            String value = line.substring(tab + 1);
            switch (line.substring(0, tab)) {
                case "arg" -> args.add(value);
                case "jvm" -> jvm.add(value);
                case "mapped" -> mapped.add(value);
                default -> { }
            }
        }
        return new Launch(p.exitValue(), args, jvm, mapped, out, err);
    }

    private void awaitLine(Process p, String line) throws IOException, InterruptedException {
        Path out = dir.resolve("out-" + started.indexOf(p));
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!Files.readString(out).lines().toList().contains(line)) {
            if (!p.isAlive()) fail("exited with " + p.exitValue() + " before saying " + line + ":\n" + Files.readString(out));
            if (System.nanoTime() > deadline) fail("no " + line + " within " + TIMEOUT + ":\n" + Files.readString(out));
            Thread.sleep(20);
        }
    }

    /** The launcher's naming: {@code rainbowd-<jar size>-<jar mtime, s>-<cksum of the java binary>.jsa}. */
    private static void assertKeyedTo(Path jar, Path jsa) throws IOException {
        String prefix = "rainbowd-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar).to(TimeUnit.SECONDS) + "-";
        assertTrue(Pattern.matches(Pattern.quote(prefix) + "[0-9]+\\.jsa", jsa.getFileName().toString()),
                jsa.getFileName() + " is not " + prefix + "<cksum>.jsa");
    }

    /** The launcher's archives ({@code rainbowd-*.jsa}) in {@code dir}, sorted. */
    private static List<Path> archives(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith("rainbowd-") && name.endsWith(".jsa");
            }).sorted().toList();
        }
    }

    /** A jar of {@link LauncherProbe} alone, plus a text entry when {@code extra} is not empty (a bigger jar). */
    private static void writeJar(Path jar, String extra) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherProbe.class.getName());
        String name = LauncherProbe.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
                InputStream in = LauncherProbe.class.getResourceAsStream("/" + name)) {
            if (in == null) throw new IOException(name + " not on the test classpath");
            out.putNextEntry(new JarEntry(name));
            in.transferTo(out);
            out.closeEntry();
            if (!extra.isEmpty()) {
                out.putNextEntry(new JarEntry("extra.txt"));
                out.write(extra.getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
    }

    /** A script at {@code path} that runs this JVM's java with one more flag: another java binary for JAVA. */
    private static Path javaWrapper(Path path) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, "#!/bin/sh\nexec '" + Demo.java() + "' -Dlauncher.wrapper=yes \"$@\"\n");
        assertTrue(path.toFile().setExecutable(true));
        return path;
    }

    /** agent/rainbowd in this checkout: up from the compiled classes (target/classes). */
    static Path launcher() {
        for (Path d = Demo.classes().toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("agent/rainbowd");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return candidate;
        }
        throw new IllegalStateException("agent/rainbowd not found above " + Demo.classes());
    }
}
