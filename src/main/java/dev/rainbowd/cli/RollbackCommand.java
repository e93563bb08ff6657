package dev.rainbowd.cli;

import picocli.CommandLine.Command;

@Command(mixinStandardHelpOptions = true, name = "rollback", description = {
        "Redeploy the release the previous generation ran, and wait for the outcome.",
        "Exit 0 when the new generation is live, 1 when the deploy failed (or there is nothing to roll back to),",
        "2 when the daemon is unreachable."})
final class RollbackCommand extends DeployCommand {
    @Override
    String path() {
        return "/rollback";
    }
}
