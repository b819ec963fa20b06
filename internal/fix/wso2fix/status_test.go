package wso2fix_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/wso2"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func resultOf(t *testing.T, p *fix.Plan, rule string) fix.Result {
	t.Helper()
	for _, r := range p.Results {
		if r.Rule == rule {
			return r
		}
	}
	t.Fatalf("no result for %s: %+v", rule, p.Results)
	return fix.Result{}
}

func hasDetail(r fix.Result, prefix string) bool {
	return slices.ContainsFunc(r.Details, func(d string) bool { return strings.HasPrefix(d, prefix) })
}

// TestSecretStatusesFollowTheKeystoreFix: SEC-001 and SEC-005 move the
// plain secrets they can into Secure Vault and leave WSO2's public default
// keystore passwords for KEY-007's fix. Without --hostname that fix needs
// input, and so do they: the re-scan after applying proves it (SEC-001
// still fails, on exactly the keys the summary said were left). With
// KEY-007 left out of the run they are manual and say so.
func TestSecretStatusesFollowTheKeystoreFix(t *testing.T) {
	rs := loadRules(t)
	dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "mi-4.3.0"))
	before := scanDir(t, rs, dir, "")
	opt := options(&fixtest.Keys{})
	opt.Hostname = ""
	plan := planDir(t, dir, before, opt)
	leftKeys := "keystore.primary.key_password, keystore.primary.password, truststore.password"
	for _, rule := range []string{"SEC-001", "SEC-005"} {
		r := resultOf(t, plan, rule)
		if r.Status != fix.NeedsInput || !slices.Contains(r.Inputs, "--hostname NAME") {
			t.Errorf("%s: %s %v, want needs_input --hostname NAME", rule, r.Status, r.Inputs)
		}
		if !hasDetail(r, "moved into Secure Vault: monitoring.ei_analytics.password, server.blocking.password, user_store.properties.ConnectionPassword") ||
			!hasDetail(r, "left in clear text: "+leftKeys+": WSO2's public default values, for KEY-007's fix") {
			t.Errorf("%s details: %q", rule, r.Details)
		}
	}
	if r := resultOf(t, plan, "KEY-007"); r.Status != fix.NeedsInput {
		t.Fatalf("KEY-007 is %s", r.Status)
	}
	if _, err := fix.Apply(plan.Changes, testNow); err != nil {
		t.Fatal(err)
	}
	after := scanDir(t, rs, dir, "")
	for _, f := range after.findings {
		if f.RuleID == "SEC-001" && (f.Status != finding.Fail || !strings.HasSuffix(f.Message, ": "+leftKeys)) {
			t.Errorf("SEC-001 after the fix: %s %q, want a failure on %s", f.Status, f.Message, leftKeys)
		}
	}

	// The keystore rules not in the run (--skip 'KEY-*'): nothing will
	// replace those passwords.
	dir = copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "mi-4.3.0"))
	before = scanDir(t, rs, dir, "")
	before.findings = slices.DeleteFunc(before.findings, func(f finding.Finding) bool { return strings.HasPrefix(f.RuleID, "KEY-") })
	plan = planDir(t, dir, before, options(&fixtest.Keys{}))
	r := resultOf(t, plan, "SEC-001")
	if r.Status != fix.Manual || !hasDetail(r, "left in clear text: "+leftKeys) || !strings.Contains(r.Summary, "KEY-007 is not part of this run") {
		t.Errorf("SEC-001 without the KEY rules: %s %q", r.Status, r.Details)
	}
	// Only KEY-007 left out: KEY-001's new keystore brings new passwords.
	before = scanDir(t, rs, dir, "")
	before.findings = slices.DeleteFunc(before.findings, func(f finding.Finding) bool { return f.RuleID == "KEY-007" })
	plan = planDir(t, dir, before, opt)
	if r := resultOf(t, plan, "SEC-001"); r.Status != fix.NeedsInput || !strings.Contains(r.Summary, "for KEY-001's fix") {
		t.Errorf("SEC-001 without KEY-007 and no host name: %s %q", r.Status, r.Details)
	}
}

// TestManagementUsersKeepTheirAdminRole: MI's management API reads its
// users from [[internal_apis.users]] while the file-based user store is
// on (the default, even with an LDAP [user_store]); the written list keeps
// the shipped user.is_admin = true, or the admin would lose its admin
// role (a missing isAdmin reads as false). With the file-based store off
// the list is not used: it is left alone and the operator is told where
// the management API authenticates.
func TestManagementUsersKeepTheirAdminRole(t *testing.T) {
	rs := loadRules(t)
	for _, name := range []string{"mi-4.1.0", "mi-4.3.0"} {
		dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", name))
		before := scanDir(t, rs, dir, "")
		plan := planDir(t, dir, before, options(&fixtest.Keys{}))
		r := resultOf(t, plan, "SEC-002")
		if r.Status != fix.Fixed || !hasDetail(r, "management user ops-admin: new password") ||
			!slices.ContainsFunc(r.Todo, func(s string) bool {
				return strings.Contains(s, "the management API (CLI, dashboard) keeps authenticating its users from [[internal_apis.users]]")
			}) {
			t.Errorf("%s SEC-002: %s %q %q", name, r.Status, r.Details, r.Todo)
		}
		if _, err := fix.Apply(plan.Changes, testNow); err != nil {
			t.Fatal(err)
		}
		eff, err := wso2.EffectiveConfig(dir, "wso2-mi")
		if err != nil {
			t.Fatal(err)
		}
		e, ok := eff.Config.Entry("internal_apis.users")
		users, _ := e.Value.([]any)
		if !ok || len(users) != 1 {
			t.Fatalf("%s: internal_apis.users after the fix: %#v", name, e.Value)
		}
		u, _ := users[0].(map[string]any)
		if u["user.name"] != "ops-admin" || u["user.is_admin"] != true || !strings.HasPrefix(u["user.password"].(string), "$secret{") {
			t.Errorf("%s: the management user after the fix: %#v", name, u)
		}
		if after := scanDir(t, rs, dir, ""); after.status["SEC-002"] != finding.Pass {
			t.Errorf("%s: SEC-002 after the fix is %s", name, after.status["SEC-002"])
		}
	}

	dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "mi-4.3.0"))
	edit(t, filepath.Join(dir, "conf", "deployment.toml"), func(b []byte) []byte {
		return append(b, []byte("\n[internal_apis.file_user_store]\nenable = false\n")...)
	})
	before := scanDir(t, rs, dir, "")
	plan := planDir(t, dir, before, options(&fixtest.Keys{}))
	r := resultOf(t, plan, "SEC-002")
	if r.Status != fix.Manual || !hasDetail(r, "the management API authenticates against the [user_store] directory") || !hasDetail(r, "[super_admin] password generated") {
		t.Errorf("file store off, SEC-002: %s %q", r.Status, r.Details)
	}
	for _, c := range plan.Changes {
		if strings.HasSuffix(c.Path, "deployment.toml") && slices.Contains(strings.Split(string(c.After), "\n"), "[[internal_apis.users]]") {
			t.Errorf("file store off: [[internal_apis.users]] written:\n%s", c.After)
		}
	}
}
