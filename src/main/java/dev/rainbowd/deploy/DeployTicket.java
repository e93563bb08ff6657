package dev.rainbowd.deploy;

import java.util.concurrent.CompletableFuture;

/** A requested deploy: its id at once, its outcome later. Coalesced requests share one ticket. */
public record DeployTicket(long id, CompletableFuture<DeployResult> result) {}
