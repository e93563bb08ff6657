package dev.rainbowd.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.Trigger;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI way of README's "Deploying from CI" for a deploy user who is not root: a member of the
 * service's group touches the trigger file in the unit's runtime directory. The directory is made
 * as systemd makes it (owned by the daemon's user and group, with the unit's own
 * RuntimeDirectoryMode=, read from systemd/rainbowd.service), the daemon keeps its stateDir in it,
 * and the touches are made by real other users: {@code setpriv} as uid 65534 (nobody) and uid 1,
 * with and without the daemon's group. Needs root, to be those users.
 */
class DeployUserTest {
    private static final Duration DEPLOY = Duration.ofSeconds(30);
    private static final int NOBODY = 65534;
    /** A second deploy user: any uid that is neither root nor nobody (it need not have a name). */
    private static final int OTHER = 1;

    @TempDir
    Path dir;

    @Test
    void aDeployUserInTheServicesGroupTouchesTheTriggerFile() throws Exception {
        assumeTrue(uid() == 0, "not root: this test runs touch as other users (setpriv --reuid), which only root can");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "no /usr/bin/setpriv (util-linux)");
        int mode = unitRuntimeDirectoryMode(Path.of("systemd/rainbowd.service"));
        assertEquals(mode, unitRuntimeDirectoryMode(Path.of("systemd/rainbowd@.service")),
                "the template's runtime directory has another mode than rainbowd.service's");

        // /tmp/junit... is 0700: the other users must be able to walk down to the runtime directory
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Path run = Files.createDirectory(dir.resolve("rainbow"));
        Files.setAttribute(run, "unix:mode", mode); // with setgid and sticky, as RuntimeDirectoryMode= sets them
        int group = (Integer) Files.getAttribute(run, "unix:gid");
        Path trigger = run.resolve("redeploy");
        Path state = run.resolve("state");

        Map<String, String> settings = TestDaemon.defaults();
        settings.put("triggerFile", trigger.toString());
        settings.put("stateDir", state.toString());
        try (TestDaemon d = TestDaemon.start(dir, settings).awaitLive()) {
            Set<PosixFilePermission> statePermissions = Files.getPosixFilePermissions(state, LinkOption.NOFOLLOW_LINKS);
            assertEquals(PosixFilePermissions.fromString("rwx------"), statePermissions,
                    "stateDir inside the group-writable runtime directory");

            // Not in the group: refused by the kernel, no file, so no event at all.
            Result outsider = as(NOBODY, List.of(), "touch", trigger.toString());
            assertNotEquals(0, outsider.exit(), "a user outside the group created the trigger file");
            assertTrue(outsider.output().contains("Permission denied"), outsider.output());
            assertFalse(Files.exists(trigger));

            // In the group: creates it (umask 002, so that the group's other deploy users can touch it too).
            Instant before = Instant.now();
            Result first = as(NOBODY, List.of(group), "sh", "-c", "umask 002 && exec touch \"$0\"", trigger.toString());
            assertEquals(0, first.exit(), first.output());
            awaitTriggerFileDeployStartedAfter(d, before);
            assertEquals(NOBODY, (Integer) Files.getAttribute(trigger, "unix:uid"));
            assertEquals(group, (Integer) Files.getAttribute(trigger, "unix:gid"), "setgid: the file is the group's");
            assertEquals(PosixFilePermissions.fromString("rw-rw-r--"), Files.getPosixFilePermissions(trigger));

            // Another deploy user in the group touches the file the first one made.
            before = Instant.now();
            Result second = as(OTHER, List.of(group), "touch", trigger.toString());
            assertEquals(0, second.exit(), second.output());
            awaitTriggerFileDeployStartedAfter(d, before);

            // Sticky: a deploy user cannot move the daemon's state away (and plant another).
            Result move = as(OTHER, List.of(group), "mv", "-T", state.toString(), run.resolve("moved").toString());
            assertNotEquals(0, move.exit(), "a deploy user moved the stateDir away");
            assertTrue(Files.isDirectory(state, LinkOption.NOFOLLOW_LINKS));
            assertTrue(d.status().lastDeploy().live());
        }
    }

    /** The mode of RuntimeDirectoryMode= in a unit file of this checkout (tests run in the project's directory). */
    private static int unitRuntimeDirectoryMode(Path unit) throws IOException {
        Matcher m = Pattern.compile("(?m)^RuntimeDirectoryMode=([0-7]{3,4})$").matcher(Files.readString(unit));
        assertTrue(m.find(), unit + " has no RuntimeDirectoryMode=");
        return Integer.parseInt(m.group(1), 8);
    }

    /** Waits for a deploy by the trigger file that started at or after {@code touched}, and is live. */
    private static void awaitTriggerFileDeployStartedAfter(TestDaemon d, Instant touched) {
        TestDaemon.await("a trigger-file deploy started after " + touched, () -> {
            DeployResult last = d.status().lastDeploy();
            return last != null && last.trigger() == Trigger.TRIGGER_FILE
                    && !last.finished().minus(last.duration()).isBefore(touched);
        }, DEPLOY);
        DeployResult last = d.status().lastDeploy();
        assertTrue(last.live(), "deploy " + last.id() + " failed: " + last.reason());
    }

    private record Result(int exit, String output) {}

    /** Runs {@code command} as {@code uid} (its group: nobody's) with these supplementary groups only. */
    private static Result as(int uid, List<Integer> groups, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + NOBODY));
        if (groups.isEmpty()) {
            cmd.add("--clear-groups");
        } else {
            cmd.add("--groups=" + String.join(",", groups.stream().map(String::valueOf).toList()));
        }
        cmd.add("--");
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), cmd + " did not end");
        return new Result(p.exitValue(), output);
    }

    private static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}
