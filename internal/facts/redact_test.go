package facts

import "testing"

func TestIsSecretKey(t *testing.T) {
	secret := []string{
		"super_admin.password", "keystore.tls.key_password", "identity.auth_framework.endpoint.app_password",
		"user_store.properties.ConnectionPassword", "user_store.connection_password", "encryption.key",
		"database.shared_db.password", "apim.key_manager.client_secret", "oauth.access_token", "truststore.password",
		"internal_apis.users[0].user.password", "secrets.admin_pw_passphrase", "credentials",
	}
	plain := []string{
		"transport.passthru_https.sender.parameters.HostnameVerifier", "transport.passthru_https.listener.parameters.port",
		"keystore.primary.alias", "keystore.primary.file_name", "super_admin.username", "encryption.internal_crypto_provider",
		"account_recovery.endpoint.auth.hash", "server.hostname", "oauth.token_generation.enable",
	}
	for _, k := range secret {
		if !IsSecretKey(k) {
			t.Errorf("%s should be a secret", k)
		}
	}
	for _, k := range plain {
		if IsSecretKey(k) {
			t.Errorf("%s should not be a secret", k)
		}
	}
	if RedactValue("super_admin.password", "admin") != Redacted || RedactValue("server.hostname", "h") != "h" || RedactValue("x.password", "") != "" {
		t.Error("RedactValue")
	}
}
