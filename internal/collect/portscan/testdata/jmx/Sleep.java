// Sleep keeps a JVM alive for the given milliseconds, so a test can reach
// the JMX agent that -Dcom.sun.management.jmxremote.port starts in it.
public class Sleep {
    public static void main(String[] args) throws Exception {
        Thread.sleep(Long.parseLong(args[0]));
    }
}
