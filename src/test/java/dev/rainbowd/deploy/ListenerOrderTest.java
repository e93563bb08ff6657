package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.health.HealthProbe;
import dev.rainbowd.process.Launcher;
import dev.rainbowd.process.StateStore;
import dev.rainbowd.proxy.TrafficSwitch;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listeners (metrics, systemd status) hear of a deploy's end before anyone waiting on its
 * result does: whoever gets the answer of {@code POST /redeploy?wait=true} may read /metrics next.
 * The listener holds the deployer thread inside {@code deployed()} while the test looks at the
 * waiter's future, so the order is checked without relying on timing.
 */
class ListenerOrderTest {
    @TempDir
    Path dir;

    private HealthProbe probe;
    private Deployer deployer;
    private final HeldListener listener = new HeldListener();

    /** A Deployer as the daemon builds one, without the proxy and control server around it. */
    private Deployer start() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("broken", "exit 1")); // deploys well, then fails once the marker exists
        s.put("launchAttempts", "1");
        Config config = ConfigLoader.load(TestDaemon.writeConfig(dir, s));
        Files.createDirectories(config.daemon().stateDir());
        probe = new HealthProbe(config.app().healthTimeout());
        deployer = new Deployer(config, () -> ConfigLoader.load(config.file()), new Launcher(config.daemon().stateDir(), "test"), probe,
                new TrafficSwitch(), new StateStore(config.daemon().stateDir(), "test"));
        deployer.listener(listener);
        return deployer;
    }

    @AfterEach
    void stopEverything() {
        listener.release.release(100); // never leave the deployer thread held (close() interrupts it too)
        try {
            if (deployer != null) deployer.close();
        } finally {
            if (probe != null) probe.close();
            TestDaemon.assertNoBackendsLeft();
        }
    }

    @Test
    void aDeployThatGoesLiveIsHeardByTheListenerBeforeItsWaiterSeesIt() throws Exception {
        Deployer d = start();
        DeployResult first = deployHeldInListener(d, Trigger.STARTUP);
        assertTrue(first.live(), first.toString());

        DeployResult redeploy = deployHeldInListener(d, Trigger.CONTROL);
        assertTrue(redeploy.live(), redeploy.toString());
        assertEquals(2, redeploy.generation());
    }

    @Test
    void aDeployThatFailsIsHeardByTheListenerBeforeItsWaiterSeesIt() throws Exception {
        Deployer d = start();
        goLive(d); // not checked here: this test is about the failed deploy below
        Files.createFile(dir.resolve("broken"));

        DeployResult redeploy = deployHeldInListener(d, Trigger.CONTROL);
        assertFalse(redeploy.live(), redeploy.toString());
        assertTrue(redeploy.reason().contains("exited with status 1"), redeploy.reason());
        assertEquals(1, d.status().live().generation(), "the live generation stays");
    }

    /**
     * Requests a deploy and, while the listener holds the deployer thread in {@code deployed()},
     * checks that the ticket's future is not complete yet; then lets the listener return.
     */
    private DeployResult deployHeldInListener(Deployer d, Trigger trigger) throws Exception {
        DeployTicket ticket = d.request(trigger);
        DeployResult heard = listener.heard.poll(30, TimeUnit.SECONDS);
        try {
            assertNotNull(heard, "deploy #" + ticket.id() + ": the listener heard nothing in 30 s");
            assertEquals(ticket.id(), heard.id(), "the listener heard of another deploy: " + heard);
            // The listener is inside deployed() and has not returned: the result must not be out yet.
            assertFalse(ticket.result().isDone(), "deploy #" + ticket.id()
                    + ": its waiter could see the result while the listener was still handling it");
        } finally {
            listener.release.release();
        }
        DeployResult seen = ticket.result().get(30, TimeUnit.SECONDS);
        assertSame(heard, seen, "the waiter got another result than the listener");
        return seen;
    }

    /** A first generation live, the listener let go at once. */
    private void goLive(Deployer d) throws Exception {
        DeployTicket ticket = d.request(Trigger.STARTUP);
        assertNotNull(listener.heard.poll(30, TimeUnit.SECONDS), "the listener heard of no first deploy in 30 s");
        listener.release.release();
        DeployResult first = ticket.result().get(30, TimeUnit.SECONDS);
        assertTrue(first.live(), first.toString());
    }

    /** Hands each result to the test, then waits in deployed() until the test releases it. */
    private static final class HeldListener implements Deployer.Listener {
        final BlockingQueue<DeployResult> heard = new LinkedBlockingQueue<>();
        final Semaphore release = new Semaphore(0);

        @Override
        public void deployed(DeployResult result) {
            heard.add(result);
            try {
                release.acquire();
            } catch (InterruptedException e) { // close() of a deployer held here
                Thread.currentThread().interrupt();
            }
        }
    }
}
