package dev.rainbowd.deploy;

/** What started a deploy: shown in status and logs. */
public enum Trigger {
    STARTUP("startup"),
    CONTROL("control"),
    TRIGGER_FILE("trigger-file"),
    RELEASE_LINK("release-link"),
    SIGHUP("sighup"),
    CRASH("crash-restart"),
    /** Nothing went live yet and the start failed (the app's database is not up at boot, say): not a crash. */
    START_RETRY("start-retry"),
    ROLLBACK("rollback");

    private final String label;

    Trigger(String label) {
        this.label = label;
    }

    /** A deploy rainbowd asks for itself, to get a generation live: never one that overrides a person's. */
    public boolean restart() {
        return this == CRASH || this == START_RETRY;
    }

    @Override
    public String toString() {
        return label;
    }
}
