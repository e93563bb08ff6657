package dev.rainbowd.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Django with DEBUG off refuses any Host not in ALLOWED_HOSTS, the health probes' 127.0.0.1
 * included: the deploy must fail saying which key fixes it, and go live once it is set.
 */
class DjangoHostTest {
    @TempDir
    Path dir;

    @Test
    void withoutHealthCheckHostTheDeployFailsNamingIt() throws Exception {
        Installed.require("django");
        Map<String, String> settings = ExampleConfig.load("django");
        settings.remove("healthCheckHost");
        // Waited out in full (Django answers 400 until then): room for a busy machine to start it.
        settings.put("healthDeadline", "10s");
        settings.put("restartOnCrash", "false"); // a failed first deploy is otherwise retried, backing off
        try (TestDaemon d = TestDaemon.start(dir, settings)) {
            TestDaemon.await("the first deploy to end", () -> d.status().lastDeploy() != null, Duration.ofSeconds(30));
            DeployResult deploy = d.status().lastDeploy();
            assertFalse(deploy.live(), deploy.reason());
            assertTrue(deploy.reason().contains("healthCheckHost"), deploy.reason());
            assertNull(d.status().live());
        }
    }

    @Test
    void withHealthCheckHostItGoesLiveAndClientsKeepTheirHost() throws Exception {
        Installed.require("django");
        try (TestDaemon d = TestDaemon.start(dir, ExampleConfig.load("django")).awaitLive();
                RawHttp shop = new RawHttp(d.daemon().proxyPort(), "shop.example.com");
                RawHttp other = new RawHttp(d.daemon().proxyPort(), "127.0.0.1")) {
            RawHttp.Response hello = shop.get("/");
            assertEquals(200, hello.status(), hello.text());
            assertTrue(hello.text().startsWith("hello from pid"), hello.text());
            assertEquals(200, shop.post("/echo", "x".repeat(4096).getBytes()).status());
            // The proxy passes the client's Host as sent: Django judges it, not rainbowd.
            assertEquals(400, other.get("/").status());
        }
    }
}
