package jaxwspeer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;

/**
 * Calls the published endpoint over mutual TLS, as the bench will, until the JIT has
 * compiled the request path: a cold JVM would otherwise be measured interpreting.
 * Every answer is checked, so a peer that answers wrongly never reports ready.
 */
final class WarmUp {
    private static final String SOAP_ACTION =
            "\"urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5:GetPersonsForProfile\"";

    private final HttpClient client;
    private final URI endpoint;

    WarmUp(SSLContext consumer, URI endpoint) {
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(consumer)
                .build();
        this.endpoint = endpoint;
    }

    /** Sends `requests` P3 calls for persons spread over the population, from `clients` threads. */
    void run(int requests, int clients) throws InterruptedException, WarmUpFailed {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int first = c;
                done.add(pool.submit(() -> {
                    for (int n = first; n < requests; n += clients) {
                        call((int) ((n * 7919L) % Population.SIZE));
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WarmUpFailed failed) {
                throw failed;
            }
            throw new WarmUpFailed(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private void call(int i) throws IOException, InterruptedException, WarmUpFailed {
        String pnr = Population.pnr(i);
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("SOAPAction", SOAP_ACTION)
                .POST(HttpRequest.BodyPublishers.ofString(envelope(pnr)))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        String sms = Population.person(i).sms();
        if (response.statusCode() != 200 || !response.body().contains(sms)) {
            throw new WarmUpFailed("person " + pnr + ": HTTP " + response.statusCode() + " without " + sms + ": "
                    + response.body());
        }
    }

    /** The envelope benches/common/mod.rs gpfp_request sends. */
    static String envelope(String pnr) {
        return "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header>"
                + "<LogicalAddress xmlns=\"urn:riv:itintegration:registry:1\">SE-LA</LogicalAddress></s:Header><s:Body>"
                + "<GetPersonsForProfile xmlns=\"urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5\""
                + " xmlns:c=\"urn:riv:strategicresourcemanagement:persons:person:5\">"
                + "<personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>" + pnr + "</c:extension></personId>"
                + "<profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity>"
                + "</GetPersonsForProfile></s:Body></s:Envelope>";
    }

    static final class WarmUpFailed extends Exception {
        WarmUpFailed(String message) {
            super(message);
        }

        WarmUpFailed(Throwable cause) {
            super(cause);
        }
    }
}
