package dev.rainbowd.deploy;

/** What started a deploy: shown in status and logs. */
public enum Trigger {
    STARTUP("startup"),
    CONTROL("control"),
    TRIGGER_FILE("trigger-file"),
    RELEASE_LINK("release-link"),
    SIGHUP("sighup"),
    CRASH("crash-restart"),
    ROLLBACK("rollback");

    private final String label;

    Trigger(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }
}
