package interop;

import static interop.Suite.*;

import interop.gen.pingforconfiguration.*;
import java.util.HashMap;
import java.util.Map;

/** PingForConfiguration 1.0: the adapter's version, the store kind and whether it answers. */
final class PingForConfigurationChecks {
    private PingForConfigurationChecks() {}

    static void run() {
        var port = configure(new PingForConfigurationResponderService(wsdl("PingForConfiguration"))
                .getPingForConfigurationResponderPort(), "/PingForConfiguration/1/rivtabp21", CONSUMER);
        PingForConfigurationType req = new PingForConfigurationType();
        req.setServiceContractNamespace("urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5");
        req.setLogicalAddress(LA);
        PingForConfigurationResponseType ping = call(() -> port.pingForConfiguration(LA, req));
        Map<String, String> conf = new HashMap<>();
        ping.getConfiguration().forEach(c -> conf.put(c.getName(), c.getValue()));
        check(ping.getVersion() != null && !ping.getVersion().isEmpty() && ping.getPingDateTime() != null
                && ping.getPingDateTime().length() == 14 && "true".equals(conf.get("storeAvailable"))
                && ("sqlite".equals(conf.get("store")) || "postgresql".equals(conf.get("store"))), "ping " + conf);
    }
}
