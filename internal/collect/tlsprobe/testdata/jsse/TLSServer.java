// A tiny TLS server on Java's own TLS stack (JSSE), as WSO2's Tomcat and
// PassThrough transports use it. The tlsprobe tests compile and start it on
// a loopback port of their choosing.
//
// usage: java TLSServer PORTFILE KEYSTORE PASSWORD
//   -Dprotocols=TLSv1.2,TLSv1.3   enabled protocols (default: JSSE's)
//   -Dsuites=A,B                  enabled suites (default: JSSE's)
//   -Dorder=server|client         honour the server's or the client's order
// plus JSSE's own properties (jdk.tls.ephemeralDHKeySize,
// jdk.tls.rejectClientInitiatedRenegotiation, ...).
// It binds 127.0.0.1:0, writes the suites it enables (in its order, one per
// line) to PORTFILE.suites and then the port to PORTFILE, answers each connection
// with a small HTTP response and exits when its standard input closes.
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;

public class TLSServer {
    public static void main(String[] args) throws Exception {
        char[] pass = args[2].toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[1])) {
            ks.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        String protocols = System.getProperty("protocols");
        if (protocols != null) {
            ss.setEnabledProtocols(protocols.split(","));
        }
        String suites = System.getProperty("suites");
        if (suites != null) {
            ss.setEnabledCipherSuites(suites.split(","));
        }
        SSLParameters params = ss.getSSLParameters();
        params.setUseCipherSuitesOrder(!"client".equals(System.getProperty("order")));
        ss.setSSLParameters(params);
        // What this JDK actually enables after its jdk.tls.disabledAlgorithms,
        // so tests compare the prober with the JDK in use, not a JDK of the past.
        Files.writeString(Path.of(args[0] + ".suites"), String.join("\n", ss.getEnabledCipherSuites()) + "\n");
        Files.writeString(Path.of(args[0] + ".tmp"), Integer.toString(ss.getLocalPort()));
        Files.move(Path.of(args[0] + ".tmp"), Path.of(args[0]));
        // The test waits for this line: the port file is complete.
        System.out.println("LISTENING " + ss.getLocalPort());
        System.out.flush();

        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // keep reading until the test closes our stdin
                }
            } catch (Exception ignored) {
                // fall through and exit
            }
            System.exit(0);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        while (true) {
            Socket s = ss.accept();
            Thread t = new Thread(() -> serve(s));
            t.setDaemon(true);
            t.start();
        }
    }

    static void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[4096];
            // Reading drives the handshake, and any renegotiation the client asks for.
            int n = in.read(buf);
            if (n > 0) {
                out.write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (Exception ignored) {
            // a probe hanging up mid-handshake is the normal case
        }
    }
}
