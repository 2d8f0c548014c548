// Apache HttpClient 4.5 pooling POSTs through a proxy, a fixed pause apart; prints "ok N failed M" and each failure.
import org.apache.http.HttpHost;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.entity.ByteArrayEntity;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.DefaultConnectionKeepAliveStrategy;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;

public class PooledPosts {
    public static void main(String[] a) throws Exception {
        String proxyHost = a[0];
        int proxyPort = Integer.parseInt(a[1]);
        String target = a[2];
        int count = Integer.parseInt(a[3]);
        long pauseMs = Long.parseLong(a[4]);
        PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
        // HttpClient's defaults otherwise: a stale check only after 2 s of inactivity, no retry of a POST.
        try (CloseableHttpClient client = HttpClients.custom().setConnectionManager(cm)
                .setProxy(new HttpHost(proxyHost, proxyPort))
                .setKeepAliveStrategy(DefaultConnectionKeepAliveStrategy.INSTANCE)
                .disableAutomaticRetries().build()) {
            int ok = 0, failed = 0;
            for (int i = 0; i < count; i++) {
                if (i > 0) Thread.sleep(pauseMs);
                HttpPost post = new HttpPost(target + "/post/" + i);
                byte[] body = ("activation " + i).getBytes("UTF-8");
                post.setEntity(new ByteArrayEntity(body));
                try (CloseableHttpResponse r = client.execute(post)) {
                    String got = EntityUtils.toString(r.getEntity());
                    String ka = r.getFirstHeader("Keep-Alive") == null ? "-" : r.getFirstHeader("Keep-Alive").getValue();
                    if (r.getStatusLine().getStatusCode() == 200) { ok++; } else {
                        failed++;
                        System.out.println("failure " + i + " status " + r.getStatusLine().getStatusCode() + " " + got);
                    }
                    System.out.println("keep-alive " + ka);
                } catch (Exception e) {
                    failed++;
                    System.out.println("failure " + i + " " + e);
                }
            }
            System.out.println("ok " + ok + " failed " + failed);
        }
    }
}
