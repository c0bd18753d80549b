package io.rtbackup.status;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page's pause switch: {@code POST} {@value #PATH} with a form ({@code host}, {@code root},
 * {@code action} pause|resume, {@code reason}, and {@value #TOKEN_FIELD}) hands the request to a {@link Switch},
 * which sends it to the root's agent and waits for its answer, and shows that answer.
 *
 * <p>Who may flip it: whoever may see the page (the server decides that before this handler runs: open on
 * loopback, a bearer token beyond it) <em>and</em> sends the form the page itself rendered. Another site's page
 * open in the same browser could otherwise post to a loopback port. So a request is refused (403) unless it
 * <ul>
 *   <li>carries this handler's anti-forgery token, a random value made at start and shown only inside the page:
 *       another origin cannot read the page (no CORS header is ever sent), so it cannot know the token;</li>
 *   <li>does not say it comes from elsewhere: {@code Sec-Fetch-Site}, when sent, must be {@code same-origin}, and
 *       {@code Origin}, when sent, must be this server's own ({@code http(s)://} + the {@code Host} header);</li>
 *   <li>is a form post ({@code application/x-www-form-urlencoded}, at most {@value #MAX_BODY} bytes).</li>
 * </ul>
 * Only POST switches; any other method is answered 405, so no link, image or prefetch can flip anything.
 */
public final class SwitchHandler {
    private static final Logger log = LoggerFactory.getLogger(SwitchHandler.class);
    public static final String PATH = "/status/switch";
    public static final String TOKEN_FIELD = "rtb-form-token";
    static final int MAX_BODY = 4096;

    /** Sends a pause or resume to a root's agent and returns what it answered. */
    @FunctionalInterface
    public interface Switch {
        /**
         * @return the agent's answer in words (or that it has not answered yet)
         * @throws IllegalArgumentException when the request names no valid host or root
         */
        String flip(String host, String root, boolean pause, String reason, String issuedBy) throws IOException;
    }

    private final Switch target;
    private final String token;

    public SwitchHandler(Switch target) {
        this.target = target;
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        this.token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The anti-forgery token the page embeds in its forms. */
    String formToken() {
        return token;
    }

    void handle(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            ex.getResponseHeaders().set("Allow", "POST");
            send(ex, 405, "the switch takes a POST from the status page's form");
            return;
        }
        String site = ex.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin")) {
            refuse(ex, "the request came from another site (Sec-Fetch-Site: " + site + ")");
            return;
        }
        String origin = ex.getRequestHeaders().getFirst("Origin");
        String host = ex.getRequestHeaders().getFirst("Host");
        if (origin != null && (host == null || !(origin.equals("http://" + host) || origin.equals("https://" + host)))) {
            refuse(ex, "the request came from another origin (" + origin + ")");
            return;
        }
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            refuse(ex, "not a form post");
            return;
        }
        Map<String, String> form = form(ex.getRequestBody());
        if (form == null) {
            send(ex, 413, "the form is larger than " + MAX_BODY + " bytes");
            return;
        }
        String offered = form.getOrDefault(TOKEN_FIELD, "");
        if (!MessageDigest.isEqual(offered.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            refuse(ex, "the form's token is missing or not this page's (reload the status page)");
            return;
        }
        String action = form.getOrDefault("action", "");
        if (!action.equals("pause") && !action.equals("resume")) {
            send(ex, 400, "action must be pause or resume");
            return;
        }
        String answer;
        try {
            answer = target.flip(form.getOrDefault("host", ""), form.getOrDefault("root", ""), action.equals("pause"),
                form.getOrDefault("reason", ""), "status page");
        } catch (IllegalArgumentException e) {
            send(ex, 400, e.getMessage());
            return;
        }
        log.info("status page: {} of {}:{} requested; agent answered: {}", action, form.get("host"), form.get("root"),
            answer);
        send(ex, 200, answer);
    }

    private void refuse(HttpExchange ex, String why) throws IOException {
        log.warn("status page: switch request from {} refused: {}", ex.getRemoteAddress(), why);
        send(ex, 403, "refused: " + why);
    }

    /** The url-encoded form, or null when it is too large. */
    private static Map<String, String> form(InputStream body) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[1024];
        for (int n; (n = body.read(chunk)) > 0; ) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_BODY) return null;
        }
        Map<String, String> out = new HashMap<>();
        for (String pair : buf.toString(StandardCharsets.US_ASCII).split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static void send(HttpExchange ex, int code, String message) throws IOException {
        String html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>rtb switch</title>\n"
            + "</head>\n<body>\n<p id=\"switch-result\" data-code=\"" + code + "\">" + StatusPage.esc(message)
            + "</p>\n<p><a href=\"/status\">back to the status page</a></p>\n</body>\n</html>\n";
        byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; form-action 'self'");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        ex.getResponseHeaders().set("X-Frame-Options", "DENY");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
