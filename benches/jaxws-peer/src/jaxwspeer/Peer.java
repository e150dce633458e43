package jaxwspeer;

import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.xml.transform.Source;
import javax.xml.transform.stream.StreamSource;
import javax.xml.ws.Endpoint;

/**
 * The JAX-WS RI peer for the load bench: GetPersonsForProfile published with
 * Endpoint.publish on an HttpContext of the JDK's HttpsServer, client certificates
 * required. Prints "jaxws-peer ready on PORT" once warmed up.
 *
 * <p>Usage: java ... jaxwspeer.Peer PORT, with the system properties run.sh sets:
 * peer.stores (directory of server.p12, consumer.p12, trust.p12), peer.storepass,
 * peer.threads, peer.warmup.
 */
public final class Peer {
    static final String PATH = "/GetPersonsForProfile/5/rivtabp21";
    private static final int BACKLOG = 1024;
    private static final List<String> SCHEMAS = List.of(
            "xsd/GetPersonsForProfileResponder_5.0.xsd",
            "xsd/core_components/strategicresourcemanagement_persons_person_5.0.xsd",
            "xsd/core_components/itintegration_registry_1.0.xsd");

    private Peer() {}

    /**
     * The XSDs the WSDL imports, so that ?wsdl links them as ?xsd=N: given only the
     * WSDL, JAX-WS RI serves its ../xsd/ imports unresolvable.
     */
    private static List<Source> schemas() throws IOException {
        List<Source> schemas = new ArrayList<>();
        for (String name : SCHEMAS) {
            URL url = Peer.class.getClassLoader().getResource(name);
            if (url == null) {
                throw new IOException(name + " is not on the class path (run.sh copies xsd/ there)");
            }
            schemas.add(new StreamSource(url.toExternalForm()));
        }
        return schemas;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: jaxwspeer.Peer PORT");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path stores = Path.of(System.getProperty("peer.stores"));
        char[] password = System.getProperty("peer.storepass", "changeit").toCharArray();
        int threads = Integer.getInteger("peer.threads", 16);
        int warmUp = Integer.getInteger("peer.warmup", 20_000);

        Map<String, Person> people = Population.generate(Population.SIZE);
        SSLContext serverTls = Tls.context(stores.resolve("server.p12"), stores.resolve("trust.p12"), password);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), BACKLOG);
        server.setHttpsConfigurator(Tls.clientAuthRequired(serverTls));
        server.setExecutor(Executors.newFixedThreadPool(threads));
        Endpoint endpoint = Endpoint.create(new PersonsForProfile(people));
        endpoint.setMetadata(schemas());
        endpoint.publish(server.createContext(PATH));
        server.start();

        SSLContext consumerTls = Tls.context(stores.resolve("consumer.p12"), stores.resolve("trust.p12"), password);
        long started = System.nanoTime();
        try {
            new WarmUp(consumerTls, URI.create("https://127.0.0.1:" + port + PATH)).run(warmUp, 8);
        } catch (WarmUp.WarmUpFailed e) {
            System.err.println("jaxws-peer warm-up failed: " + e.getMessage());
            if (e.getCause() != null) {
                e.getCause().printStackTrace();
            }
            server.stop(0);
            System.exit(1);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.err.printf("jaxws-peer: %d warm-up calls in %.1f s (%.0f/s), %d worker threads%n",
                warmUp, seconds, warmUp / seconds, threads);
        System.out.println("jaxws-peer ready on " + port);
        System.out.flush();
    }
}
