package dev.rainbowd.config;

import java.util.Optional;

/** Where the control API listens, and the token it wants: all a client needs. */
public record ControlAddress(String host, int port, Optional<String> token) {}
