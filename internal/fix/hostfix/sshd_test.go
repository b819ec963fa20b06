package hostfix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestSSHDInstanceWithItsOwnFile: SSH-002 fails on a running sshd; the
// drop-in fixes it only when that sshd reads the system configuration or
// a file that includes the drop-ins before its own PermitRootLogin. An
// sshd started with -f and a file of its own is left to the operator
// (manual), with the file and the setting named.
func TestSSHDInstanceWithItsOwnFile(t *testing.T) {
	const admin = "/etc/ssh/sshd_admin.conf"
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join("..", "..", "collect", "hostos", "testdata", "roots", "weak"), root)
	yes := func(file string, line int) facts.Setting {
		return facts.Setting{Key: "permitrootlogin", Value: "yes", Set: true, Origin: facts.Origin{File: file, Line: line}}
	}
	system := facts.SSHD{Present: true, Source: "sshd -T", ConfigFile: "/etc/ssh/sshd_config", PermitRootLogin: yes("/etc/ssh/sshd_config", 3)}
	for _, c := range []struct {
		name     string
		instance facts.SSHD
		adminCfg string
		want     fix.Status
	}{
		{"system configuration", system, "", fix.Fixed},
		{"own file", facts.SSHD{Present: true, PID: 812, ConfigFile: admin, Listening: []string{"10.0.9.5:2222"},
			PermitRootLogin: yes(admin, 2), Settings: map[string]facts.Setting{"permitrootlogin": yes(admin, 2)}},
			"Port 2222\nPermitRootLogin yes\n", fix.Manual},
		{"own file including the drop-ins first", facts.SSHD{Present: true, PID: 812, ConfigFile: admin,
			PermitRootLogin: yes(admin, 3), Settings: map[string]facts.Setting{"permitrootlogin": yes(admin, 3)}},
			"Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\nPermitRootLogin yes\n", fix.Fixed},
		{"own file including the drop-ins after its setting", facts.SSHD{Present: true, PID: 812, ConfigFile: admin,
			PermitRootLogin: yes(admin, 1), Settings: map[string]facts.Setting{"permitrootlogin": yes(admin, 1)}},
			"PermitRootLogin yes\nInclude /etc/ssh/sshd_config.d/*.conf\n", fix.Manual},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.adminCfg != "" {
				if err := os.WriteFile(filepath.Join(root, admin), []byte(c.adminCfg), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			in := Input{Target: "local", Root: root,
				Facts:    &facts.Facts{Host: &facts.Host{SSHD: system, SSHDInstances: []facts.SSHD{c.instance}}},
				Findings: []finding.Finding{{RuleID: "SSH-002", Target: "local", Status: finding.Fail}}}
			plan, err := Plan(in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got *fix.Result
			for i := range plan.Results {
				if plan.Results[i].Rule == "SSH-002" {
					got = &plan.Results[i]
				}
			}
			if got == nil {
				t.Fatalf("no SSH-002 result: %+v", plan.Results)
			}
			if got.Status != c.want {
				t.Fatalf("SSH-002 is %s, want %s: %s", got.Status, c.want, got.Summary)
			}
			if c.want == fix.Manual {
				todo := strings.Join(got.Todo, "\n")
				if !strings.Contains(got.Summary, "pid 812") || !strings.Contains(todo, "in "+admin+": PermitRootLogin no") {
					t.Errorf("the manual result does not name the sshd and what to set:\n%s\n%s", got.Summary, todo)
				}
			}
			// The drop-in is written either way: it fixes the system sshd.
			var dropIn bool
			for _, ch := range plan.Changes {
				if strings.HasSuffix(ch.Path, "sshd_config.d/50-rampart.conf") {
					dropIn = true
				}
			}
			if !dropIn {
				t.Errorf("no drop-in planned")
			}
		})
	}
}
