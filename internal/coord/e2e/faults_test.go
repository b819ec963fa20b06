package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rampart-sec/rampart/internal/bus"
	"github.com/rampart-sec/rampart/internal/bus/bustest"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

const embeddedNATS = "nats: {listen: 0.0.0.0:4222}"

// holdFirst holds the connections of the first source that connects.
func holdFirst() func(string) bool {
	var mu sync.Mutex
	first := ""
	return func(src string) bool {
		mu.Lock()
		defer mu.Unlock()
		if first == "" {
			first = src
		}
		return src == first
	}
}

// TestAgentKilledMidScan: two agents share the dmz zone's work. The one
// that takes the job is killed with SIGKILL while its scan hangs on the
// target; after the ack wait JetStream redelivers the job to the other,
// and the store holds its result once.
func TestAgentKilledMidScan(t *testing.T) {
	w := newWorld(t, "dmz-a", "dmz-b")
	tarpit := zonetest.HoldHTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), holdFirst())
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}]
targets:
  - {name: slow, address: "http://10.99.0.1:8081/", reach_defaults: false}
`, embeddedNATS))
	w.startAgent("dmz-a", "dmz", "dmz-a")
	w.startAgent("dmz-b", "dmz", "dmz-b")
	w.dash.runNow("audit")

	src := <-tarpit.Held
	victim, survivor := "dmz-a", "dmz-b"
	if src == w.net.Source["dmz-b"] {
		victim, survivor = survivor, victim
	}
	w.agents[victim].kill9()
	t.Logf("%s (%s) took the job and was killed mid-scan", victim, src)

	w.judged(1)
	w.agents[survivor].out.wait(t, regexp.MustCompile(`msg="job done".* job=1\.dmz\.0 .*delivery=2`), 1)
	z := w.dash.zones()
	if len(z.Rounds) != 1 || z.Rounds[0].Done != 1 || z.Rounds[0].Dead != 0 || z.Rounds[0].TotalJobs != 1 {
		t.Fatalf("round: %+v", z.Rounds)
	}
	var fromSurvivor, fromVictim int
	for _, src := range w.dash.runs() {
		switch src {
		case "zone:dmz agent:" + survivor + " schedule:audit":
			fromSurvivor++
		case "zone:dmz agent:" + victim + " schedule:audit":
			fromVictim++
		}
	}
	if fromSurvivor != 1 || fromVictim != 0 {
		t.Errorf("runs from %s: %d, from %s: %d; want the job stored once, by the survivor", survivor, fromSurvivor, victim, fromVictim)
	}
	fs := w.dash.runFindings(z.Rounds[0].ExposureRunID)
	if f := fs["slow"]["HTTP-004"]; f.Status == "" || strings.Contains(f.Message, "no agent") {
		t.Errorf("slow HTTP-004 across zones: %+v", f)
	}
}

// TestPoisonJobDeadLettered: a target whose result is larger than NATS
// takes is retried, then dead-lettered after max_attempts deliveries;
// the dashboard shows the dead letter with the agent's last error, and
// the target's exposure verdicts say the zone gave up on it.
func TestPoisonJobDeadLettered(t *testing.T) {
	w := newWorld(t, "dmz")
	for p := 8100; p < 8140; p++ {
		zonetest.HTTP(t, w.net.Target.Listen(t, "tcp", fmt.Sprintf("%s:%d", zonetest.TargetAddr, p)), zonetest.Gateway())
	}
	zonetest.HTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8243"), zonetest.Gateway())
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}]
targets:
  - {name: wide, address: 10.99.0.1, ports: "8100-8139", reach_defaults: false}
  - {name: gw, address: "http://10.99.0.1:8243/", reach_defaults: false}
`, "nats: {listen: 0.0.0.0:4222, max_payload: 65536}"))
	a := w.startAgent("dmz-a", "dmz", "dmz")
	w.dash.runNow("audit")
	w.judged(1)
	a.out.wait(t, regexp.MustCompile(`job attempt failed; released.*over the 65536 NATS accepts`), 2)
	a.out.wait(t, regexp.MustCompile(`msg="job dead-lettered".* target=wide .*delivery=3`), 1)

	z := w.dash.zones()
	if z.DeadCount != 1 || len(z.Dead) != 1 {
		t.Fatalf("dead letters: %d %+v", z.DeadCount, z.Dead)
	}
	d := z.Dead[0]
	if d.Target != "wide" || d.Zone != "dmz" || d.Agent != "dmz-a" || d.Deliveries != 3 ||
		!strings.Contains(d.Reason, "delivered 3 times") || !strings.Contains(d.Reason, "over the 65536 NATS accepts") {
		t.Errorf("dead letter: %+v", d)
	}
	if r := z.Rounds[0]; r.Done != 1 || r.Dead != 1 {
		t.Errorf("round: %+v", r)
	}
	_, page := w.dash.do("GET", "/zones", nil)
	if !strings.Contains(page, `class="dead-job"`) || !strings.Contains(page, `id="dead-count">1<`) {
		t.Errorf("the zones page does not show the dead letter")
	}
	fs := w.dash.runFindings(z.Rounds[0].ExposureRunID)
	if f := fs["wide"]["NET-001"]; f.Status != "error" || !strings.Contains(f.Message, "dead-lettered") {
		t.Errorf("wide NET-001: %+v", f)
	}
	if f := fs["gw"]["NET-001"]; f.Status == "error" {
		t.Errorf("gw NET-001: %+v", f)
	}
}

// TestCrashingTargetDeadLettered: a target that takes down every agent
// scanning it (here: each agent holding it is killed with SIGKILL, as a
// crash or the OOM killer would) is redelivered after each ack wait, and
// the agent that gets it after max_attempts (2) deliveries dead-letters
// it instead of scanning it: the third agent lives, the dashboard shows
// the dead letter, and the target's exposure rules are errors.
func TestCrashingTargetDeadLettered(t *testing.T) {
	w := newWorld(t, "dmz")
	tarpit := zonetest.HoldHTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(string) bool { return true })
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}]
targets:
  - {name: crash, address: "http://10.99.0.1:8081/", reach_defaults: false}
`, embeddedNATS))
	first := w.startAgent("dmz-1", "dmz", "dmz")
	w.dash.runNow("audit")
	<-tarpit.Held
	first.kill9()
	second := w.startAgent("dmz-2", "dmz", "dmz")
	<-tarpit.Held // delivery 2, after the ack wait
	// The dashboard's queue: the job is running, on its second delivery.
	if q := w.dash.zones().Zones; len(q) != 1 || q[0].Pending != 0 || q[0].Running != 1 || q[0].Redelivered != 1 {
		t.Errorf("dmz queue while the second agent holds the job: %+v", q)
	}
	second.kill9()
	third := w.startAgent("dmz-3", "dmz", "dmz")
	third.out.wait(t, regexp.MustCompile(`msg="job dead-lettered".* target=crash .*delivery=3`), 1)
	w.judged(1)
	if strings.Contains(third.out.String(), "port scan done") {
		t.Errorf("the third agent scanned the job it dead-lettered:\n%s", third.out.String())
	}
	z := w.dash.zones()
	if z.DeadCount != 1 || len(z.Dead) != 1 {
		t.Fatalf("dead letters: %d %+v", z.DeadCount, z.Dead)
	}
	if d := z.Dead[0]; d.Target != "crash" || d.Agent != "dmz-3" || d.Deliveries != 3 || !strings.Contains(d.Reason, "delivered 3 times") {
		t.Errorf("dead letter: %+v", d)
	}
	if r := z.Rounds[0]; r.TotalJobs != 1 || r.Done != 0 || r.Dead != 1 {
		t.Errorf("round: %+v", r)
	}
	fs := w.dash.runFindings(z.Rounds[0].ExposureRunID)
	if len(fs["crash"]) == 0 {
		t.Fatal("no exposure verdicts for the crashing target")
	}
	for rule, f := range fs["crash"] {
		if f.Status != "error" || !strings.Contains(f.Message, "dead-lettered") {
			t.Errorf("crash %s: %+v, want an error naming the dead letter", rule, f)
		}
	}
}

// TestServeRestartedMidRound: serve (and its embedded NATS) stops while
// both zones' agents are scanning; the agents finish, hold their results
// and retry; serve comes back, takes the results and judges the round
// it had fanned out before the restart. The agents' credentials outlive
// the restart: the restarted NATS server lets them in at once (it used
// to refuse them until the coordinator had set its streams up, and an
// agent refused twice gave up for good).
func TestServeRestartedMidRound(t *testing.T) {
	w := newWorld(t, "dmz", "internal")
	tarpit := zonetest.HoldHTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(string) bool { return true })
	cfg := w.config(`zones: [{name: dmz, role: dmz}, {name: internal, role: internal}]
targets:
  - {name: app, address: "http://10.99.0.1:8081/", reach_defaults: false}
`, embeddedNATS)
	w.startServe(cfg)
	dmz := w.startAgent("dmz-1", "dmz", "dmz")
	in := w.startAgent("int-1", "internal", "internal")
	w.dash.runNow("audit")
	<-tarpit.Held
	<-tarpit.Held

	w.serve.stop(t)
	tarpit.Release()
	for _, a := range []*proc{dmz, in} {
		a.out.wait(t, regexp.MustCompile(`publish result: retrying`), 1)
	}
	w.startServe(cfg)
	w.judged(1)
	z := w.dash.zones()
	if r := z.Rounds[0]; r.ID != 1 || r.Done != 2 || r.Dead != 0 || r.TotalJobs != 2 {
		t.Fatalf("round after the restart: %+v", z.Rounds)
	}
	fs := w.dash.runFindings(z.Rounds[0].ExposureRunID)
	for rule, f := range fs["app"] {
		if strings.Contains(f.Message, "no agent") || strings.Contains(f.Message, "did not report") {
			t.Errorf("app %s after the restart: %+v", rule, f)
		}
	}
	if len(fs["app"]) != 8 {
		t.Errorf("exposure verdicts: %d, want 8", len(fs["app"]))
	}
	if out := w.serve.out.String(); strings.Contains(out, "authentication error") {
		t.Errorf("the restarted NATS server refused an agent:\n%s", out)
	}
	for _, a := range []*proc{dmz, in} {
		if out := a.out.String(); strings.Contains(out, "authorization violation") || strings.Contains(out, "refused the agent's credentials") {
			t.Errorf("%s was refused after the restart:\n%s", a.name, out)
		}
	}
}

// TestExternalNATSKilledAndRestarted: with Debian's nats-server as an
// external cluster, the server is killed (SIGKILL) and restarted while
// jobs are under way, then serve stops while the agents publish their
// results: nothing is lost, and serve takes the results when it starts.
func TestExternalNATSKilledAndRestarted(t *testing.T) {
	w := newWorld(t, "dmz", "internal")
	var coreIPs []string
	for _, a := range w.coreAddr {
		coreIPs = append(coreIPs, a)
	}
	natsDir := filepath.Join(w.dir, "nats")
	if err := os.MkdirAll(natsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, natsCA := bustest.Certs(t, natsDir, coreIPs...)
	const srvPass = "external nats coordinator password"
	if err := os.WriteFile(filepath.Join(w.dir, "nats.pw"), []byte(srvPass), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := bustest.Debian(t, natsDir, bustest.DebianConfig{NS: w.core, Host: "0.0.0.0", TLSDir: natsDir,
		Auth: bus.ConfigBlock("rampart-server", srvPass, nil)})
	tarpit := zonetest.HoldHTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(string) bool { return true })
	cfg := w.config(`zones: [{name: dmz, role: dmz}, {name: internal, role: internal}]
targets:
  - {name: app, address: "http://10.99.0.1:8081/", reach_defaults: false}
`, fmt.Sprintf("nats: {url: \"tls://127.0.0.1:%d\", user: rampart-server, password_file: nats.pw, ca: %s}", ns.Port, natsCA))
	w.startServe(cfg)
	// The external server learns the agents from the dashboard's
	// authorization block, as an operator would configure it.
	w.secrets["dmz-1"] = w.dash.createAgent("dmz-1", "dmz", "password")
	w.secrets["int-1"] = w.dash.createAgent("int-1", "internal", "password")
	_, block := w.dash.do("GET", "/zones/nats.conf", nil)
	if !strings.Contains(block, `"dmz-1"`) || !strings.Contains(block, `rampart.results.dmz.dmz-1`) {
		t.Fatalf("nats.conf:\n%s", block)
	}
	ns.SetAuth(strings.Replace(block, "REPLACE-ME", srvPass, 1))
	agent := func(name, zone string) *proc {
		pw := filepath.Join(w.dir, name+".password")
		if err := os.WriteFile(pw, []byte(w.secrets[name]), 0o600); err != nil {
			t.Fatal(err)
		}
		return w.runAgent(name, zone, zone, fmt.Sprintf("tls://%s:%d", w.coreAddr[zone], ns.Port), natsCA, "--password-file", pw)
	}
	dmz, in := agent("dmz-1", "dmz"), agent("int-1", "internal")
	w.dash.runNow("audit")
	<-tarpit.Held
	<-tarpit.Held

	ns.Kill() // jobs taken, not acknowledged: on disk
	ns.Start()
	w.serve.stop(t)
	tarpit.Release()
	for _, a := range []*proc{dmz, in} {
		a.out.wait(t, regexp.MustCompile(`msg="job done".* job=1\.`), 1)
	}
	w.startServe(cfg)
	w.judged(1)
	z := w.dash.zones()
	if r := z.Rounds[0]; r.Done != 2 || r.Dead != 0 {
		t.Fatalf("round: %+v", z.Rounds)
	}
	per := map[string]int{}
	for _, src := range w.dash.runs() {
		per[src]++
	}
	if per["zone:dmz agent:dmz-1 schedule:audit"] != 1 || per["zone:internal agent:int-1 schedule:audit"] != 1 {
		t.Errorf("runs by source: %v", per)
	}
}

// TestAgentSIGTERMFinishesItsJob: an agent told to stop (SIGTERM) while
// it scans takes no new job and finishes the one under way within its
// grace: the result is published and stored once, by that agent, and
// the agent exits with status 0.
func TestAgentSIGTERMFinishesItsJob(t *testing.T) {
	w := newWorld(t, "dmz")
	tarpit := zonetest.HoldHTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8081"), zonetest.Gateway(), func(string) bool { return true })
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}]
targets:
  - {name: app, address: "http://10.99.0.1:8081/", reach_defaults: false}
`, embeddedNATS))
	pw := filepath.Join(w.dir, "dmz-1.password")
	if err := os.WriteFile(pw, []byte(w.dash.createAgent("dmz-1", "dmz", "password")), 0o600); err != nil {
		t.Fatal(err)
	}
	// A grace far above what the test needs: only the release ends the scan.
	a := w.runAgent("dmz-1", "dmz", "dmz", "tls://"+w.coreAddr["dmz"]+":4222", "data/ca.pem", "--password-file", pw, "--grace", "10m")
	w.dash.runNow("audit")
	<-tarpit.Held
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.out.wait(t, regexp.MustCompile(`msg="agent stopping.* busy=1`), 1)
	tarpit.Release()
	<-a.exited
	if c := a.cmd.ProcessState.ExitCode(); c != 0 {
		t.Errorf("agent exit status %d after SIGTERM, want 0", c)
	}
	a.out.wait(t, regexp.MustCompile(`msg="job done".* job=1\.dmz\.0 .*delivery=1`), 1)
	if out := a.out.String(); strings.Contains(out, "job attempt failed") {
		t.Errorf("the job was released, not finished:\n%s", out)
	}
	w.judged(1)
	z := w.dash.zones()
	if r := z.Rounds[0]; r.Done != 1 || r.Dead != 0 {
		t.Errorf("round: %+v", r)
	}
	n := 0
	for _, src := range w.dash.runs() {
		if src == "zone:dmz agent:dmz-1 schedule:audit" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("runs stored from dmz-1: %d, want 1", n)
	}
}
