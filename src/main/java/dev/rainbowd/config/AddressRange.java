package dev.rainbowd.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Pattern;

/** An IP address or a CIDR range ({@code 10.0.0.0/8}, {@code ::1}), as in {@code trustedProxies}. */
public record AddressRange(byte[] network, int prefix) {
    // Literals only: a name would need a DNS lookup, at every request or at a stale moment.
    // Dotted quads only (the JDK would read "7000" as 0.0.27.88).
    private static final Pattern LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** Loopback, v4 and v6: where rainbowd's own front proxy (nginx, Apache on this host) connects from. */
    public static final AddressRange[] LOOPBACK = {parse("127.0.0.0/8").orElseThrow(), parse("::1").orElseThrow()};

    static Optional<AddressRange> parse(String text) {
        String s = text.strip();
        int slash = s.indexOf('/');
        String address = slash < 0 ? s : s.substring(0, slash);
        if (address.startsWith("[") && address.endsWith("]")) address = address.substring(1, address.length() - 1);
        if (!LITERAL.matcher(address).matches()) return Optional.empty();
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress(); // a literal: no lookup
        } catch (UnknownHostException | SecurityException e) {
            return Optional.empty();
        }
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
            if (prefix < 0 || prefix > bits) return Optional.empty();
        }
        return Optional.of(new AddressRange(mask(bytes, prefix), prefix));
    }

    /** Asked per proxied request that carries X-Forwarded-Proto or -Host: compares in place. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) return false;
        for (int i = 0; i < a.length; i++) {
            int bits = (0xFF << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xFF;
            if ((a[i] & bits) != (network[i] & 0xFF)) return false;
        }
        return true;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] m = address.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] &= (byte) (0xFF << (8 - keep));
        }
        return m;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            return Arrays.toString(network) + "/" + prefix;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressRange r && r.prefix == prefix && Arrays.equals(r.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }
}
