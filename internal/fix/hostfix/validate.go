package hostfix

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Validator checks generated configuration with the real tools.
type Validator struct {
	// SSHD checks an sshd configuration file; NFT an nftables ruleset.
	SSHD func([]byte) error
	Nft  func([]byte) error
}

// errMissing says the tool is not installed: the file is not checked.
type errMissing struct{ tool string }

func (e errMissing) Error() string { return e.tool + " is not installed" }

// IsMissing reports whether err says a checking tool is not installed.
func IsMissing(err error) bool {
	var m errMissing
	return errors.As(err, &m)
}

// ExecValidator runs sshd -t and nft -c from the PATH (or /usr/sbin),
// each on a temporary copy of the file, with a time limit. They change
// nothing: sshd -t only reads its configuration, nft -c does not commit.
func ExecValidator() Validator {
	return Validator{SSHD: checkSSHD, Nft: checkNft}
}

func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errMissing{name}
}

func run(bin string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// checkSSHD runs sshd -t -f on the drop-in, with a throwaway host key so
// the check needs none of the host's.
func checkSSHD(content []byte) error {
	bin, err := lookTool("sshd")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "rampart-sshd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, content, 0o600); err != nil {
		return err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "rampart check")
	if err != nil {
		return err
	}
	key := filepath.Join(dir, "host_key")
	if err := os.WriteFile(key, pem.EncodeToMemory(blk), 0o600); err != nil {
		return err
	}
	return run(bin, "-t", "-f", conf, "-h", key)
}

// checkNft runs nft -c -f on the ruleset.
func checkNft(content []byte) error {
	bin, err := lookTool("nft")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "rampart-*.nft")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return run(bin, "-c", "-f", f.Name())
}
