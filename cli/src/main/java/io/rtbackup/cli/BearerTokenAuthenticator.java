package io.rtbackup.cli;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Lets a request through only with {@code Authorization: Bearer <token>}; every other request is answered 401 with
 * {@code WWW-Authenticate: Bearer}. The token is compared in constant time ({@link MessageDigest#isEqual}), so the
 * answer's timing does not tell how much of a guess was right. The token never appears in {@link #toString()}.
 *
 * <p>The probe paths {@code /-/healthy} and {@code /-/ready} are open: they tell only whether the process is up and
 * ready, and a Kubernetes probe cannot send a header taken from a Secret.
 */
final class BearerTokenAuthenticator extends Authenticator {
    private static final String SCHEME = "Bearer ";
    private final byte[] token;

    BearerTokenAuthenticator(String token) {
        if (token.isEmpty()) throw new IllegalArgumentException("empty token");
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Result authenticate(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/-/healthy") || path.equals(MetricsEndpoint.READY_PATH)) {
            return new Success(new HttpPrincipal("probe", "rtb"));
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header != null && header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            byte[] offered = header.substring(SCHEME.length()).trim().getBytes(StandardCharsets.UTF_8);
            if (MessageDigest.isEqual(offered, token)) return new Success(new HttpPrincipal("bearer", "rtb"));
        }
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"rtb\"");
        return new Failure(401);
    }

    @Override
    public String toString() {
        return "BearerTokenAuthenticator[token hidden]";
    }
}
