package wso2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// TestAdminRoleFromDefaults: the shipped admin role comes from
// default.json with its line; IAM-003 still asks for an attestation.
func TestAdminRoleFromDefaults(t *testing.T) {
	f, fs := scan(t, filepath.Join(fixturesDir(t), "apim-4.5.0"), target.Declared{})
	roles := f.Product.AdminRoles
	if len(roles) != 1 || roles[0].Value != "admin" || roles[0].Origin.File != "repository/resources/conf/default.json" || roles[0].Origin.Line != 581 {
		t.Fatalf("admin roles = %+v", roles)
	}
	if st := statusOf(fs)["IAM-003"]; st != finding.Manual {
		t.Errorf("IAM-003 = %s, want manual", st)
	}
}

// TestAdminRoleEveryone: an admin role every user holds fails IAM-003,
// pointing at the deployment.toml line.
func TestAdminRoleEveryone(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "is-7.1.0"), dir)
	p := filepath.Join(dir, "repository/conf/deployment.toml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "[super_admin]\n", "[super_admin]\nadmin_role = \"Internal/everyone\"\n", 1)
	if s == string(b) {
		t.Fatal("no [super_admin] table in the fixture")
	}
	writeFile(t, p, []byte(s))
	f, fs := scan(t, dir, target.Declared{})
	r := f.Product.AdminRoles
	if len(r) != 1 || r[0].Value != "Internal/everyone" || r[0].Origin.File != "repository/conf/deployment.toml" || r[0].Origin.Line == 0 {
		t.Fatalf("admin roles = %+v", r)
	}
	for _, fd := range fs {
		if fd.RuleID == "IAM-003" && (fd.Status != finding.Fail || !strings.Contains(fd.Message, "Internal/everyone")) {
			t.Errorf("IAM-003 = %s %q", fd.Status, fd.Message)
		}
	}
}

// TestAdminRoleFromRenderedFile: without default.json the rendered
// user-mgt.xml says which role is the admin role.
func TestAdminRoleFromRenderedFile(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "is-7.1.0"), dir)
	if err := os.Remove(filepath.Join(dir, "repository/resources/conf/default.json")); err != nil {
		t.Fatal(err)
	}
	f, _ := scan(t, dir, target.Declared{})
	r := f.Product.AdminRoles
	if len(r) != 1 || r[0].Value != "admin" || r[0].Origin.File != "repository/conf/user-mgt.xml" || r[0].Origin.Line != 21 {
		t.Fatalf("admin roles = %+v", r)
	}
}
