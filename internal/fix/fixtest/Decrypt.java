import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import javax.crypto.Cipher;

// Decrypts Secure Vault cipher texts the way a WSO2 product's runtime does:
// the keystore's private key, javax.crypto.Cipher.getInstance(transformation)
// in DECRYPT_MODE, over the Base64-decoded value.
// Usage: java Decrypt KEYSTORE TYPE PASSWORD ALIAS TRANSFORMATION CIPHERTEXT...
public class Decrypt {
    public static void main(String[] a) throws Exception {
        KeyStore ks = KeyStore.getInstance(a[1]);
        try (FileInputStream in = new FileInputStream(a[0])) {
            ks.load(in, a[2].toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey(a[3], a[2].toCharArray());
        if (key == null) {
            throw new IllegalArgumentException("no private key under alias " + a[3]);
        }
        Cipher c = Cipher.getInstance(a[4]);
        for (int i = 5; i < a.length; i++) {
            c.init(Cipher.DECRYPT_MODE, key);
            byte[] plain = c.doFinal(Base64.getDecoder().decode(a[i].getBytes(StandardCharsets.UTF_8)));
            System.out.println(new String(plain, StandardCharsets.UTF_8));
        }
    }
}
