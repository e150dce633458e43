/**
 * Runs wsimport (the JAX-WS RI's WsimportTool, what the wsimport command starts) once per
 * WSDL inside one JVM: seven separate wsimport commands cost about three times the CPU,
 * mostly in starting and warming up a JVM each. Started by suite.sh with the source-file
 * launcher. Usage: Wsimport SRC_DIR CLASS_DIR (PACKAGE WSDL)...
 */
public final class Wsimport {
    public static void main(String[] args) throws Exception {
        for (int i = 2; i + 1 < args.length; i += 2) {
            String[] options = {"-quiet", "-Xnocompile", "-keep", "-encoding", "UTF-8",
                "-s", args[0], "-d", args[1], "-p", args[i], args[i + 1]};
            if (!new com.sun.tools.ws.wscompile.WsimportTool(System.err).run(options)) {
                System.err.println("jaxws: wsimport failed on " + args[i + 1]);
                System.exit(1);
            }
        }
    }
}
