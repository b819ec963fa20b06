package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx runs the machine's nginx in the foreground on a free loopback
// port, with one server block: `listen <addr> <listen>;` followed by
// server (directives; relative paths name files, which are written to the
// server's prefix directory first). It stops nginx when the test ends and
// returns the address. Like OpenSSLServer, it runs the real server a
// configuration needs (two certificates, a catch-all location) instead of
// a stand-in.
func Nginx(t testing.TB, listen, server string, files map[string][]byte) string {
	t.Helper()
	bin := Tool(t, "nginx", "apt-get install nginx")
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The test opens the listening socket and nginx inherits it (the
	// NGINX environment variable, as in nginx's binary upgrade): there is
	// no port another process could take in between, and connections made
	// before nginx is up wait in the socket's backlog instead of being
	// refused, so nothing has to wait for nginx to start.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	sock, err := ln.(*net.TCPListener).File()
	_ = ln.Close() // sock is a duplicate that stays open
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers read the test's files
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {
        listen %s %s;
%s
    }
}
`, user, addr, listen, server)
	cfg := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir + "/", "-c", cfg, "-e", filepath.Join(dir, "error.log")}
	nginx := func(extra ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(args, extra...)...)
		cmd.ExtraFiles = []*os.File{sock} // descriptor 3
		cmd.Env = append(os.Environ(), "NGINX=3;")
		return cmd
	}
	if out, err := nginx("-t").CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, conf)
	}
	cmd := nginx("-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM: the master stops its workers and exits.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error log:\n%s", strings.TrimSpace(string(b)))
		}
	})
	return addr
}
