package dev.rainbowd.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.TestDaemon;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A start that fails on one listener names it and gives back everything it had taken. */
class StartFailureTest {
    @TempDir
    Path dir;

    @Test
    void aTakenControlPortIsNamedAndTheProxyPortAndStateDirAreGivenBack() throws Exception {
        Config config = ConfigLoader.load(TestDaemon.writeConfig(dir, TestDaemon.defaults()));
        Daemon.StartupException e;
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), config.daemon().controlPort()));

            e = assertThrows(Daemon.StartupException.class, () -> Daemon.start(config));
        }

        assertEquals("cannot listen on 127.0.0.1:" + config.daemon().controlPort() + " for the control API (controlHost, controlPort in "
                + config.file() + "): Address already in use", e.getMessage());
        // The proxy's socket, opened first, is closed again: a daemon that failed to start holds no port.
        assertTrue(Ports.isFree(config.daemon().port()), "the proxy port " + config.daemon().port() + " is still bound");
        assertFalse(Files.exists(config.daemon().stateDir().resolve("rainbowd.pid")), "the pid file of a start that failed");
        // and the stateDir's lock is released: the next start, with the port free, works
        try (TestDaemon d = TestDaemon.start(dir, TestDaemon.defaults())) {
            d.awaitLive();
            assertEquals(Long.toString(ProcessHandle.current().pid()),
                    Files.readString(config.daemon().stateDir().resolve("rainbowd.pid")).strip());
        }
    }
}
