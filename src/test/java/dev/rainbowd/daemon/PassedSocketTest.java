package dev.rainbowd.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.daemon.Daemon.StartupException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the environment and fd 0 decide between a passed socket, a bind of our own, and an error. */
class PassedSocketTest {
    private static final long PID = 4242;
    private ServerSocketChannel listening;

    @BeforeEach
    void listen() throws IOException {
        listening = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException {
        listening.close();
    }

    @Test
    void noEnvironmentOrAnotherProcessesIsABindOfOurOwn() throws StartupException {
        assertEquals(Optional.empty(), PassedSocket.from(Map.of(), PID, () -> listening));
        assertEquals(Optional.empty(), PassedSocket.from(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1"), PID, () -> listening));
        assertEquals(Optional.empty(), PassedSocket.from(Map.of("LISTEN_FDS", "1"), PID, () -> listening));
        assertEquals(Optional.empty(), PassedSocket.from(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "0"), PID, () -> listening));
        // Another process's sockets are not ours to check: fd 0 may be anything.
        assertEquals(Optional.empty(), PassedSocket.from(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1"), PID, () -> null));
    }

    @Test
    void aListeningSocketOnFd0IsTheProxysWithItsAddress() throws Exception {
        PassedSocket p = PassedSocket.from(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "proxy"), PID,
                () -> listening).orElseThrow();
        assertSame(listening, p.channel());
        assertEquals(listening.getLocalAddress(), p.address());
        assertEquals("fd 3 \"proxy\"", p.describe());
        int port = p.address().getPort();
        assertTrue(p.matches("127.0.0.1", port));
        assertTrue(p.matches("localhost", port));
        assertFalse(p.matches("127.0.0.1", port == 65535 ? 1 : port + 1));
        assertFalse(p.matches("0.0.0.0", port));
    }

    @Test
    void ofSeveralSocketsTheOneNamedProxyElseTheFirstAndTheOthersAreSaidToBeUnused() throws Exception {
        PassedSocket named = PassedSocket.from(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "control:proxy"),
                PID, () -> listening).orElseThrow();
        assertEquals("fd 4 \"proxy\"; the other 1 passed socket(s) are left unused (the control port is bound by rainbowd)",
                named.describe());
        PassedSocket first = PassedSocket.from(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "3"), PID, () -> listening).orElseThrow();
        assertTrue(first.describe().startsWith("fd 3; the other 2 passed socket(s)"), first.describe());
    }

    @Test
    void passedSocketsWithoutOneOnFd0AreAStartupError() throws Exception {
        Map<String, String> env = Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "proxy");
        StartupException e = assertThrows(StartupException.class, () -> PassedSocket.from(env, PID, () -> null));
        assertEquals("LISTEN_FDS=1 passes a socket to this process, but fd 0 is not a socket, not a listening TCP socket:"
                + " start rainbowd through agent/rainbowd, which moves fd 3 \"proxy\" to fd 0 for the JVM", e.getMessage());
        assertThrows(StartupException.class, () -> PassedSocket.from(env, PID, () -> {
            throw new IOException("fd 0 closed");
        }));
        try (ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            StartupException u = assertThrows(StartupException.class, () -> PassedSocket.from(env, PID, () -> unix));
            assertTrue(u.getMessage().contains("fd 0 is a Unix socket"), u.getMessage());
        }
        StartupException n = assertThrows(StartupException.class,
                () -> PassedSocket.from(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "x"), PID, () -> listening));
        assertEquals("LISTEN_FDS=x is not a number of passed sockets", n.getMessage());
    }
}
