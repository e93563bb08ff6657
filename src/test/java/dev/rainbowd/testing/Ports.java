package dev.rainbowd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on 127.0.0.1 for tests. */
public final class Ports {
    private Ports() {}

    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A free port p such that p + 1 is free too (proxy port and its default control port). */
    public static int freePair() {
        for (int i = 0; i < 50; i++) {
            int p = free();
            if (p < 65535 && isFree(p + 1)) return p;
        }
        throw new IllegalStateException("no free port pair on 127.0.0.1");
    }

    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
