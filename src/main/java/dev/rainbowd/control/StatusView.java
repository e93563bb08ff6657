package dev.rainbowd.control;

import dev.rainbowd.deploy.DeployProgress;
import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.GenerationStatus;
import dev.rainbowd.deploy.Status;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON shapes of the control API (SPEC section 3). */
public final class StatusView {
    private StatusView() {}

    public static Map<String, Object> status(Status s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("live", s.live() == null ? null : generation(s.live()));
        m.put("draining", s.draining().stream().map(StatusView::generation).toList());
        m.put("deploying", s.deploying() == null ? null : deploying(s.deploying()));
        m.put("pending", s.pending());
        m.put("lastDeploy", s.lastDeploy() == null ? null : lastDeploy(s.lastDeploy()));
        m.put("restarting", s.restarting() == null ? null : restarting(s.restarting()));
        m.put("releases", s.releases());
        m.put("uptimeMs", s.uptime().toMillis());
        return m;
    }

    static Map<String, Object> generation(GenerationStatus g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generation", g.generation());
        m.put("color", g.color());
        m.put("port", g.port());
        m.put("pid", g.pid());
        m.put("release", g.release());
        m.put("since", g.since().toString());
        m.put("inFlight", g.inFlight());
        m.put("tunnels", g.tunnels());
        m.put("config", g.config());
        m.put("configRead", g.configRead().toString());
        return m;
    }

    static Map<String, Object> deploying(DeployProgress d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id());
        m.put("trigger", d.trigger().toString());
        m.put("generation", d.generation());
        m.put("port", d.port());
        m.put("pid", d.pid());
        m.put("phase", d.phase());
        m.put("probes", d.probes());
        m.put("lastProbe", d.lastProbe());
        m.put("since", d.started().toString());
        return m;
    }

    static Map<String, Object> lastDeploy(DeployResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("state", r.state());
        m.put("reason", r.reason());
        m.put("trigger", r.trigger().toString());
        m.put("generation", r.generation());
        m.put("port", r.port());
        m.put("release", r.release());
        m.put("note", r.note());
        m.put("durationMs", r.duration().toMillis());
        m.put("finished", r.finished().toString());
        m.put("needRestart", r.needRestart());
        m.put("output", r.output());
        return m;
    }

    static Map<String, Object> restarting(Status.Restart r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attempt", r.attempt());
        m.put("at", r.at().toString());
        m.put("trigger", r.trigger().toString());
        return m;
    }

    /** The answer of {@code ?wait=true}: 200 when live, 500 with the reason when failed. */
    public static Map<String, Object> outcome(DeployResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("deploy", r.id());
        m.put("state", r.state());
        m.put("trigger", r.trigger().toString());
        if (r.live()) {
            m.put("generation", r.generation());
            m.put("port", r.port());
        } else {
            m.put("reason", r.reason());
            m.put("output", r.output());
        }
        m.put("release", r.release());
        if (r.note() != null) m.put("note", r.note());
        m.put("needRestart", r.needRestart());
        m.put("durationMs", r.duration().toMillis());
        return m;
    }
}
