package dev.rainbowd.config;

/**
 * What rainbowd holds between a client and the app, so that a slow client never holds an app
 * worker (gunicorn's sync workers, a single-threaded app): see README "Proxy behaviour".
 *
 * @param requests read each request body whole before the app sees the request (requestBuffering)
 * @param maxRequestBody a larger body is answered 413; 0: no limit (maxRequestBody)
 * @param maxResponseBuffer how far the app may run ahead of a slow reader; 0: not at all (maxResponseBuffer)
 */
public record Buffering(boolean requests, long maxRequestBody, long maxResponseBuffer) {
    /**
     * 100 MB: photos, documents and most uploads fit, as under the limit most web apps already
     * live behind (Cloudflare's 100 MB on its common plans); a client cannot fill the state
     * directory (a tmpfs under systemd) with one request. nginx's 1 MB is the limit everyone
     * raises first.
     */
    public static final long MAX_REQUEST_BODY = 100L << 20;
    /** 64 MB: a download of tens of MB leaves the worker at once, and a few slow readers cannot fill a tmpfs. */
    public static final long MAX_RESPONSE_BUFFER = 64L << 20;

    public static final Buffering DEFAULT = new Buffering(true, MAX_REQUEST_BODY, MAX_RESPONSE_BUFFER);
}
