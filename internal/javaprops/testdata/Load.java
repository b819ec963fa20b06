import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.TreeMap;

// Loads a properties file (UTF-8) with java.util.Properties and prints
// each key and value as hex UTF-8, one pair per line, sorted by key.
public class Load {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (InputStreamReader r = new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8)) {
            p.load(r);
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            sorted.put(hex(k), hex(p.getProperty(k)));
        }
        for (var e : sorted.entrySet()) {
            System.out.println(e.getKey() + "\t" + e.getValue());
        }
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", c & 0xff));
        }
        return b.toString();
    }
}
