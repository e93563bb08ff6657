package dev.rainbowd.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state directory someone else prepared (the security review's HIGH finding): as another user,
 * before rainbowd starts, a directory with a {@code generations} file naming a victim's pid and
 * start time, and links named {@code lock} and {@code generations.tmp}.
 */
class StateDirTest {
    @TempDir
    Path dir;

    private ProcessHandle victim;

    @AfterEach
    void stopVictim() {
        if (victim != null) victim.destroyForcibly();
    }

    private Map<String, String> settings(Path stateDir) {
        Map<String, String> s = TestDaemon.defaults();
        s.put("stateDir", stateDir.toString());
        return s;
    }

    private String refused(Path stateDir) throws Exception {
        Path file = TestDaemon.writeConfig(dir, settings(stateDir));
        Daemon.StartupException e = assertThrows(Daemon.StartupException.class, () -> Daemon.start(ConfigLoader.load(file)));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static boolean root() throws Exception {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
    }

    @Test
    void aNewStateDirIsPrivate() throws Exception {
        Path state = dir.resolve("state");
        try (TestDaemon d = TestDaemon.start(dir, settings(state)).awaitLive()) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("id"))));
        }
    }

    @Test
    void aStateDirOfAnotherUserIsRefused() throws Exception {
        assumeTrue(root(), "only root can give a directory away"); // CI runs as root
        Path state = Files.createDirectory(dir.resolve("squatted"));
        Files.setAttribute(state, "unix:uid", 65534); // nobody's
        String message = refused(state);
        assertTrue(message.contains("belongs to uid 65534, not to this user (uid 0)"), message);
    }

    @Test
    void aStateDirOthersMayWriteIsRefused() throws Exception {
        Path state = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        String message = refused(state);
        assertTrue(message.contains("is writable by group or others (rwxrwxrwx)"), message);
    }

    @Test
    void aStateDirThatIsALinkIsRefused() throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertTrue(refused(link).contains("is a symbolic link"));
    }

    @Test
    void linksPlantedAsLockAndTempAreNeverWrittenThrough() throws Exception {
        Path state = Files.createDirectory(dir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        Path victimFile = Files.writeString(dir.resolve("victim-file"), "precious\n");
        Files.createSymbolicLink(state.resolve("generations.tmp"), victimFile);
        Path lockTarget = dir.resolve("created-through-lock");
        Files.createSymbolicLink(state.resolve("lock"), lockTarget);

        String message = refused(state);
        assertTrue(message.startsWith("cannot lock stateDir"), message);
        assertFalse(Files.exists(lockTarget), "a file was created through the lock link");

        Files.delete(state.resolve("lock"));
        try (TestDaemon d = TestDaemon.start(dir, settings(state)).awaitLive()) {
            assertEquals("precious\n", Files.readString(victimFile), "the state was written through the temp link");
            assertTrue(Files.isRegularFile(state.resolve("generations"), LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void aPlantedPidIsNotStoppedAsAnOrphan() throws Exception {
        // Someone else's process: not a child of ours (its shell exits, it is re-parented).
        Process shell = new ProcessBuilder("sh", "-c", "sleep 300 > /dev/null 2>&1 & echo $!").start();
        long pid = Long.parseLong(new String(shell.getInputStream().readAllBytes()).strip());
        shell.waitFor();
        victim = ProcessHandle.of(pid).orElseThrow();
        long start = victim.info().startInstant().map(Instant::toEpochMilli).orElseThrow();
        Path state = Files.createDirectory(dir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        // Exactly what an attacker can know: the pid and start time of the victim (/proc/PID/stat).
        Files.writeString(state.resolve("generations"), "# rainbowd generations: number pid startMillis appPid port\n"
                + "1 " + pid + " " + start + " 0 18600\n");

        try (TestDaemon d = TestDaemon.start(dir, settings(state)).awaitLive()) {
            assertTrue(victim.isAlive(), "rainbowd stopped a process it never launched");
        }
    }
}
