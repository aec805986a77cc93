// openidd IPC client: Java 16+ standard library only (SocketChannel + UnixDomainSocketAddress;
// java.net.http.HttpClient cannot use a Unix socket). One HTTP/1.1 request per connection.
//
//   java OpenIddClient.java auth-url USER_ID   # prints the JSON answer (alipayAuthUrl, serialNo, ...)
//   java OpenIddClient.java get USER_ID        # the latest binding, or exit 3 when none
//   java OpenIddClient.java wait SERIAL_NO     # long-polls until the request leaves "pending"
//
// The socket is $OPENIDD_SOCKET or /run/openidd/openidd.sock. Parse the JSON answers with the JSON
// library your application already uses (Jackson, Gson, ...); stringField below is for this demo only.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class OpenIddClient {
    /** An answer other than 200: the status and the body {"error": {"code", "message"}}. */
    public static final class OpenIddException extends IOException {
        private static final long serialVersionUID = 1L;

        public final int status;
        public final String body;

        OpenIddException(int status, String body) {
            super("HTTP " + status + ": " + body);
            this.status = status;
            this.body = body;
        }
    }

    private final UnixDomainSocketAddress address;

    public OpenIddClient(String socketPath) {
        this.address = UnixDomainSocketAddress.of(socketPath);
    }

    public OpenIddClient() {
        this(System.getenv().getOrDefault("OPENIDD_SOCKET", "/run/openidd/openidd.sock"));
    }

    /** Sends one request and returns the JSON body of a 200 answer; throws OpenIddException otherwise. */
    public String call(String method, String target, String jsonBody) throws IOException {
        byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: localhost\r\n")
                .append("Connection: close\r\n");
        if (jsonBody != null) {
            head.append("Content-Type: application/json\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (SocketChannel channel = SocketChannel.open(address)) {
            ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
            out.put(head.toString().getBytes(StandardCharsets.US_ASCII)).put(body).flip();
            while (out.hasRemaining()) {
                channel.write(out);
            }
            // "Connection: close": the daemon closes after its answer, so read to the end.
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (channel.read(in) >= 0) {
                received.write(in.array(), 0, in.position());
                in.clear();
            }
        }
        String response = received.toString(StandardCharsets.UTF_8);
        int split = response.indexOf("\r\n\r\n");
        if (!response.startsWith("HTTP/1.1 ") || split < 0) {
            throw new IOException("openidd sent a malformed HTTP response");
        }
        int status = Integer.parseInt(response.substring(9, 12));
        String answer = response.substring(split + 4);
        if (status != 200) {
            throw new OpenIddException(status, answer);
        }
        return answer;
    }

    public String authUrl(String userId) throws IOException {
        return call("POST", "/v1/auth-url", "{\"userId\":" + jsonString(userId) + "}");
    }

    /** The latest binding for userId, or null when there is none yet. */
    public String getBinding(String userId) throws IOException {
        try {
            return call("GET", "/v1/bindings?userId=" + URLEncoder.encode(userId, StandardCharsets.UTF_8), null);
        } catch (OpenIddException e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    public String waitFor(String serialNo, int seconds) throws IOException {
        return call("GET", "/v1/requests/" + URLEncoder.encode(serialNo, StandardCharsets.UTF_8) + "?wait=" + seconds, null);
    }

    static String jsonString(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** Demo only: a top-level string field of a flat JSON object (use a real JSON library in your app). */
    static String stringField(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1).replace("\\/", "/").replace("\\\"", "\"").replace("\\\\", "\\") : null;
    }

    public static void main(String[] args) {
        if (args.length != 2 || !java.util.List.of("auth-url", "get", "wait").contains(args[0])) {
            System.err.println("usage: java OpenIddClient.java auth-url USER_ID | get USER_ID | wait SERIAL_NO");
            System.exit(2);
        }
        OpenIddClient client = new OpenIddClient();
        try {
            switch (args[0]) {
                case "auth-url" -> {
                    String answer = client.authUrl(args[1]);
                    System.out.println(answer);
                    System.err.println("send the user to: " + stringField(answer, "alipayAuthUrl"));
                }
                case "get" -> {
                    String answer = client.getBinding(args[1]);
                    if (answer == null) {
                        System.err.println("no binding for userId " + args[1] + " yet");
                        System.exit(3);
                    }
                    System.out.println(answer);
                }
                default -> System.out.println(client.waitFor(args[1], 60));
            }
        } catch (OpenIddException e) {
            System.err.println(e.getMessage());
            System.exit(e.status == 404 ? 3 : 1);
        } catch (IOException e) {
            System.err.println("cannot reach openidd: " + e);
            System.exit(1);
        }
    }
}
