package dev.rainbowd.proxy;

import org.eclipse.jetty.client.HttpUpgrader;
import org.eclipse.jetty.client.ProtocolHandler;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpConversation;
import org.eclipse.jetty.client.transport.HttpRequest;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;

/**
 * Every {@code 101} an app sends, in place of Jetty's handler (which takes only websocket and
 * h2c). A 101 that answers an upgrade we asked for opens a tunnel; one that answers a request
 * that asked for none is the app's error: that connection is closed (what follows a 101 is no
 * longer HTTP) and the client gets 502, never a bare 101 that a proxy in front of us would take
 * for a tunnel.
 */
final class UpgradeResponses implements ProtocolHandler {
    static final String NAME = "rainbowd-upgrade";

    /** A 101 answered a request that asked for no upgrade. */
    static final class Unsolicited extends RuntimeException {
        Unsolicited() {
            super("the app answered 101 Switching Protocols to a request that asked for no upgrade");
        }
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public boolean accept(Request request, Response response) {
        return response.getStatus() == HttpStatus.SWITCHING_PROTOCOLS_101;
    }

    @Override
    public Response.Listener getResponseListener() {
        return new Response.Listener() {
            @Override
            public void onComplete(Result result) {
                HttpRequest request = (HttpRequest) result.getRequest();
                HttpConversation conversation = request.getConversation();
                EndPoint appEnd = (EndPoint) conversation.getAttribute(EndPoint.class.getName());
                Object upgrader = conversation.getAttribute(HttpUpgrader.class.getName());
                if (result.isSucceeded() && appEnd != null && upgrader instanceof TunnelUpgrader tunnel) {
                    tunnel.upgrade(result.getResponse(), appEnd, Callback.NOOP);
                    return;
                }
                if (appEnd != null) appEnd.close();
                Throwable failure = result.isFailed() ? result.getFailure() : new Unsolicited();
                // Back to the proxy's own listeners: they answer the client (502) as for any failure.
                conversation.updateResponseListeners(null);
                conversation.getResponseListeners().emitFailureComplete(
                        new Result(request, result.getRequestFailure(), result.getResponse(), failure));
            }
        };
    }
}
