package dev.rainbowd.cli;

/** Exit codes of the command line (SPEC section 1; 64 and 78 from sysexits.h). */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int UNREACHABLE = 2;
    static final int USAGE = 64;
    static final int CONFIG = 78;

    private ExitCodes() {}
}
