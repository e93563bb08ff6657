package dev.rainbowd.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Map;

/**
 * Fails (never skips) a test whose app server is not installed: a compat suite that quietly
 * skipped would pass on a machine that tests nothing. .ci/run installs them all.
 */
final class Installed {
    private static final String PY = "/usr/bin/python3 -c 'import ";
    /** Each example's app server, as a shell test, and the Debian package it comes in. */
    private static final Map<String, String[]> CHECKS = Map.ofEntries(
            Map.entry("gunicorn-sync", new String[] {"command -v gunicorn", "gunicorn"}),
            Map.entry("gunicorn-gthread", new String[] {"command -v gunicorn", "gunicorn"}),
            Map.entry("gunicorn-gevent", new String[] {"command -v gunicorn && " + PY + "gevent'", "gunicorn python3-gevent"}),
            Map.entry("waitress", new String[] {"command -v waitress-serve", "python3-waitress"}),
            Map.entry("uvicorn", new String[] {PY + "uvicorn'", "python3-uvicorn"}),
            Map.entry("hypercorn", new String[] {"command -v hypercorn", "python3-hypercorn"}),
            Map.entry("puma", new String[] {"command -v puma", "puma"}),
            Map.entry("unicorn", new String[] {"command -v unicorn", "unicorn"}),
            Map.entry("thin", new String[] {"command -v thin", "thin"}),
            Map.entry("node", new String[] {"command -v node", "nodejs"}),
            Map.entry("django", new String[] {"command -v gunicorn && " + PY + "django'", "gunicorn python3-django"}));

    private Installed() {}

    static void require(String server) throws IOException, InterruptedException {
        String[] check = CHECKS.get(server);
        Process p = new ProcessBuilder("/bin/sh", "-c", check[0]).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), server + " is not installed: apt-get install " + check[1] + " (.ci/run does)");
    }
}
