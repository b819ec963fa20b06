package bus

import (
	"fmt"
	"sort"
	"strings"
)

// Perms is what a NATS user may publish and subscribe to.
type Perms struct {
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// AgentPerms are the permissions of an agent's credentials: pull jobs
// from its zone's consumer and acknowledge them, publish results, dead
// letters, failures and heartbeats under its own name, and receive
// replies in its own inbox. Nothing else: not another zone's jobs, not
// another agent's subjects, not the JetStream management API.
func AgentPerms(zone, agent string) Perms {
	cons := ZoneConsumer(zone)
	return Perms{
		Publish: []string{
			"$JS.API.CONSUMER.INFO." + JobsStream + "." + cons,
			"$JS.API.CONSUMER.MSG.NEXT." + JobsStream + "." + cons,
			"$JS.ACK." + JobsStream + "." + cons + ".>",
			"$JS.ACK.*.*." + JobsStream + "." + cons + ".>",
			ResultSubject(zone, agent),
			DeadSubject(zone, agent),
			HeartbeatSubject(zone, agent),
			FailSubject(zone, agent),
		},
		Subscribe: []string{InboxPrefix(agent) + ".>"},
	}
}

// Credential is one agent's NATS identity: a user name with a bcrypt
// password hash, or an nkey public key (the agent keeps the seed).
type Credential struct {
	Agent string
	Zone  string
	// PasswordHash is a bcrypt hash ($2a$...); NKey a user public key
	// (U...). Exactly one is set.
	PasswordHash string
	NKey         string
}

// ConfigBlock renders the authorization block of a nats-server
// configuration file for an external server: the server's own user and
// every agent with its permissions. Operators of an external cluster
// paste it into their configuration (or translate it to their account
// setup).
func ConfigBlock(serverUser, serverPassword string, creds []Credential) string {
	var b strings.Builder
	b.WriteString("authorization {\n  users = [\n")
	fmt.Fprintf(&b, "    {user: %q, password: %q}\n", serverUser, serverPassword)
	sorted := append([]Credential(nil), creds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Agent < sorted[j].Agent })
	for _, c := range sorted {
		p := AgentPerms(c.Zone, c.Agent)
		id := fmt.Sprintf("user: %q, password: %q", c.Agent, c.PasswordHash)
		if c.NKey != "" {
			id = fmt.Sprintf("nkey: %q", c.NKey)
		}
		fmt.Fprintf(&b, "    {%s, permissions: {publish: {allow: %s}, subscribe: {allow: %s}}}\n", id, quoteList(p.Publish), quoteList(p.Subscribe))
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
