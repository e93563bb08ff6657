package dev.rainbowd.proxy;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Request;

/**
 * A request that asked for "Expect: 100-continue", as the proxy hands it on: without the Expect.
 *
 * <p>Jetty's proxy forwarded the Expect and sent the body only once the app answered 100. An app
 * that does not (an HTTP/1.0 server such as Python's wsgiref, and others that just read the body)
 * waited for a body that never came: the client got a 504 a minute later. As nginx does, the proxy
 * answers 100 itself (Jetty's server sends it when the body is first read) and the app gets a
 * plain request with its body.
 */
final class WithoutExpect extends Request.Wrapper {
    private final HttpFields headers;

    private WithoutExpect(Request request) {
        super(request);
        this.headers = HttpFields.build(request.getHeaders()).remove(HttpHeader.EXPECT).asImmutable();
    }

    static Request of(Request request) {
        return HttpHeaderValue.CONTINUE.is(request.getHeaders().get(HttpHeader.EXPECT)) ? new WithoutExpect(request) : request;
    }

    @Override
    public HttpFields getHeaders() {
        return headers;
    }
}
