package dev.rainbowd.cli;

import picocli.CommandLine.Command;

@Command(mixinStandardHelpOptions = true, name = "rollback", description = {
        "Deploy the most recent release that differs from the live one (see status: releases), and wait for",
        "the outcome. With releaseLink, the link is moved to that release once it is live, so the next",
        "deploy does not bring the bad one back; a second rollback goes one release further back.",
        "Exit 0 when the new generation is live, 1 when the deploy failed (or there is nothing to roll back to),",
        "2 when the daemon is unreachable."})
final class RollbackCommand extends DeployCommand {
    @Override
    String path() {
        return "/rollback";
    }
}
