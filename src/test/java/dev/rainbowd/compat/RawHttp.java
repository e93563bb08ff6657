package dev.rainbowd.compat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 client connection, kept alive for as long as the server keeps it: the JDK's client
 * neither lets a test set {@code Host} (Django refuses 127.0.0.1) nor tells when it opened a new
 * connection, and both matter here. Not thread-safe: one per client thread.
 */
final class RawHttp implements AutoCloseable {
    record Response(int status, Map<String, String> headers, byte[] body) {
        String text() { return new String(body, StandardCharsets.UTF_8); }
        String header(String name) { return headers.getOrDefault(name.toLowerCase(Locale.ROOT), ""); }
    }

    private final int port;
    private final String host;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private int connections;

    RawHttp(int port, String host) {
        this.port = port;
        this.host = host;
    }

    /** How many connections this client opened so far (1 = every request on one connection). */
    int connections() { return connections; }

    Response get(String target) throws IOException {
        return send("GET", target, null);
    }

    Response post(String target, byte[] body) throws IOException {
        return send("POST", target, body);
    }

    /**
     * Sends on the kept-alive connection, or on a new one when the last response said
     * {@code Connection: close}. Any other end of the connection is the caller's failure to count:
     * nothing is retried here.
     */
    Response send(String method, String target, byte[] body) throws IOException {
        if (socket == null) open();
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append("\r\n");
        if (body != null) head.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(body.length).append("\r\n");
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) out.write(body);
        out.flush();
        Response r = read();
        if (r.header("connection").equalsIgnoreCase("close")) close();
        return r;
    }

    private void open() throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        connections++;
    }

    private Response read() throws IOException {
        String status = line();
        if (status == null) throw new EOFException("connection closed before a response");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        byte[] body;
        if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int n; (n = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0; line()) b.write(in.readNBytes(n));
            while (!line().isEmpty()) { /* trailers */ }
            body = b.toByteArray();
        } else {
            body = in.readAllBytes();
            headers.put("connection", "close");
        }
        return new Response(Integer.parseInt(status.split(" ")[1]), headers, body);
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        if (socket == null) return;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        socket = null;
    }
}
