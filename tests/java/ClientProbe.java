// A real Java client through berth for tests/hostile/test_clients_java.py: Apache HttpClient 4.5 or 5.2 (Debian's).
import java.io.ByteArrayInputStream;
import java.util.Random;

/// Sends `count` requests through the proxy with one pooled client and prints one line per request: the status and
/// Berth-Error, or the exception a user would see. Arguments: hc4|hc5 proxyHost proxyPort url GET|POST bodySize
/// chunked(0|1) expectContinue(0|1) count gapMillis.
public class ClientProbe {
    public static void main(String[] a) throws Exception {
        String client = a[0], host = a[1], url = a[3], method = a[4];
        int port = Integer.parseInt(a[2]), size = Integer.parseInt(a[5]), count = Integer.parseInt(a[8]);
        boolean chunked = a[6].equals("1"), expect = a[7].equals("1");
        int gap = Integer.parseInt(a[9]);
        byte[] body = new byte[size];
        new Random(1).nextBytes(body);
        Random gaps = new Random(2);
        Runner r = client.equals("hc4") ? new Hc4(host, port) : new Hc5(host, port);
        for (int i = 0; i < count; i++) {
            String line;
            try {
                line = r.send(url + i, method, body, chunked, expect);
            } catch (Exception e) {
                line = "EXC " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            System.out.println(line);
            if (gap > 0) Thread.sleep(gaps.nextInt(gap));
        }
    }

    interface Runner {
        String send(String url, String method, byte[] body, boolean chunked, boolean expect) throws Exception;
    }

    /// Apache HttpClient 4.5: its default pool, the proxy as a route.
    static final class Hc4 implements Runner {
        final org.apache.http.impl.client.CloseableHttpClient c;

        Hc4(String host, int port) {
            c = org.apache.http.impl.client.HttpClients.custom()
                    .setProxy(new org.apache.http.HttpHost(host, port)).build();
        }

        public String send(String url, String method, byte[] body, boolean chunked, boolean expect) throws Exception {
            org.apache.http.client.methods.HttpRequestBase req;
            if (method.equals("POST")) {
                org.apache.http.client.methods.HttpPost p = new org.apache.http.client.methods.HttpPost(url);
                org.apache.http.entity.InputStreamEntity e = new org.apache.http.entity.InputStreamEntity(
                        new ByteArrayInputStream(body), chunked ? -1 : body.length);
                e.setChunked(chunked);
                p.setEntity(e);
                req = p;
            } else {
                req = new org.apache.http.client.methods.HttpGet(url);
            }
            req.setConfig(org.apache.http.client.config.RequestConfig.custom()
                    .setExpectContinueEnabled(expect).setSocketTimeout(15000).build());
            try (org.apache.http.client.methods.CloseableHttpResponse resp = c.execute(req)) {
                String text = resp.getEntity() == null ? "" : org.apache.http.util.EntityUtils.toString(resp.getEntity());
                org.apache.http.Header h = resp.getFirstHeader("Berth-Error");
                return resp.getStatusLine().getStatusCode() + " " + (h == null ? "-" : h.getValue()) + " " + text.length();
            }
        }
    }

    /// Apache HttpClient 5.2 classic: its default pool, the proxy as a route.
    static final class Hc5 implements Runner {
        final org.apache.hc.client5.http.impl.classic.CloseableHttpClient c;

        Hc5(String host, int port) {
            c = org.apache.hc.client5.http.impl.classic.HttpClients.custom()
                    .setProxy(new org.apache.hc.core5.http.HttpHost(host, port)).build();
        }

        @SuppressWarnings("deprecation")
        public String send(String url, String method, byte[] body, boolean chunked, boolean expect) throws Exception {
            org.apache.hc.client5.http.classic.methods.HttpUriRequestBase req;
            if (method.equals("POST")) {
                req = new org.apache.hc.client5.http.classic.methods.HttpPost(url);
                req.setEntity(new org.apache.hc.core5.http.io.entity.InputStreamEntity(new ByteArrayInputStream(body),
                        chunked ? -1 : body.length, org.apache.hc.core5.http.ContentType.APPLICATION_OCTET_STREAM));
            } else {
                req = new org.apache.hc.client5.http.classic.methods.HttpGet(url);
            }
            req.setConfig(org.apache.hc.client5.http.config.RequestConfig.custom().setExpectContinueEnabled(expect)
                    .setResponseTimeout(org.apache.hc.core5.util.Timeout.ofSeconds(15)).build());
            try (org.apache.hc.client5.http.impl.classic.CloseableHttpResponse resp = c.execute(req)) {
                String text = resp.getEntity() == null ? ""
                        : org.apache.hc.core5.http.io.entity.EntityUtils.toString(resp.getEntity());
                org.apache.hc.core5.http.Header h = resp.getFirstHeader("Berth-Error");
                return resp.getCode() + " " + (h == null ? "-" : h.getValue()) + " " + text.length();
            }
        }
    }
}
