package dev.rainbowd.testing;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the kernel knows of a test's TCP connection on 127.0.0.1: an event a test can wait on. */
public final class Loopback {
    private Loopback() {}

    /**
     * True once everything written on {@code client} has been read by the process at the other
     * end: both ends' queues are empty in /proc/net/tcp or tcp6 (Linux; Java sockets are usually
     * IPv6 ones with IPv4-mapped loopback addresses). Matched by port: both are ours on 127.0.0.1.
     */
    public static boolean readByPeer(Socket client) {
        String clientPort = String.format(":%04X", client.getLocalPort());
        String serverPort = String.format(":%04X", client.getPort());
        boolean sent = false;
        boolean read = false;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 5 || !f[3].equals("01") || !f[1].contains("0100007F:")) continue; // ESTABLISHED, 127.0.0.1
                String[] queues = f[4].split(":");
                if (f[1].endsWith(clientPort) && f[2].endsWith(serverPort)) sent = Long.parseLong(queues[0], 16) == 0;
                if (f[1].endsWith(serverPort) && f[2].endsWith(clientPort)) read = Long.parseLong(queues[1], 16) == 0;
            }
        }
        return sent && read;
    }

    /** True if a connection to 127.0.0.1:{@code port} is refused now: nothing listens there any more. */
    public static boolean refuses(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false; // reset by a listener that is closing: look again
        }
    }
}
