package zone

import (
	"encoding/json"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// FuzzJudge feeds arbitrary observations (as an agent would send them)
// through validation, the matrix and the verdicts: no panic, and every
// exposure rule gets exactly one verdict.
func FuzzJudge(f *testing.F) {
	f.Add(`{"source":"192.0.2.2","scanned":[22,9443],"open":[{"port":9443,"service":"https"}],"paths":[{"port":9443,"path":"/carbon","status":200,"reachable":true}],"offset":1}`, "wso2-is")
	f.Add(`{"scanned":[],"open":[{"port":4001,"service":"unknown"}],"paths":[{"port":1,"path":"/","error":"x"}],"cluster_member":true}`, "wso2-apim")
	f.Add(`{"open":[{"port":443}],"allowed_source":true}`, "webhook-relay")
	cat := Catalog{}
	f.Fuzz(func(t *testing.T, obsJSON, profile string) {
		if len(cat) == 0 {
			cat = catalog(t)
		}
		var o Observation
		if json.Unmarshal([]byte(obsJSON), &o) != nil || o.Validate() != nil {
			return
		}
		tg := target.Target{Name: "n", Kind: target.Node, Host: "10.0.0.1", Profile: profile,
			Decl: target.Declared{ExpectedPorts: []int{443}, AllowedSources: []string{"192.0.2.0/24"}}}
		res := []Result{{Zone: dmz, Agent: "a", Obs: &o}, {Zone: corp, Missing: "no agent in zone corp since never"}}
		fs := Judge(tg, Build(tg, res, cat), res, cat)
		if len(fs) != len(exposureRules) {
			t.Fatalf("%d verdicts", len(fs))
		}
		for _, fd := range fs {
			if fd.Status == finding.Pass {
				t.Fatalf("%s passes with the corp zone silent", fd.RuleID)
			}
		}
	})
}
