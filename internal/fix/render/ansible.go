package render

import (
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/fix"
)

// om is an ordered YAML mapping.
type om []kv

type kv struct {
	k string
	v any
}

// MarshalYAML keeps the keys in the order written.
func (m om) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range m {
		var v yaml.Node
		if err := v.Encode(e.v); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.k}, &v)
	}
	return n, nil
}

// raw is text from a file: Ansible must not template it (a log4j pattern's
// %{...}, a Jinja template's {% ... %}), so it is tagged !unsafe.
type raw string

// MarshalYAML writes the string as an !unsafe scalar.
func (r raw) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!unsafe", Value: string(r)}
	if strings.Contains(string(r), "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n, nil
}

// Ansible writes the plan as a playbook: one play per target, a task per
// change (lineinfile for a line replaced or added, blockinfile for what
// is appended, copy for a new file or where lines are not unique enough
// to address), each with backup: true, guarded by the file's planned
// SHA-256 where a whole file is written, and handlers that restart or
// reload what the changes touch. Package removals and upgrades become
// package tasks. Binary files travel as Base64 and are decoded on the
// host.
func Ansible(w io.Writer, p *fix.Plan, o Options) error {
	if p.Nothing() {
		_, err := fmt.Fprintln(w, "# rampart fix: nothing to fix\n[]")
		return err
	}
	var plays []om
	byTarget := map[string][]*fix.Change{}
	var order []string
	for _, c := range p.Changes {
		if _, ok := byTarget[c.Target]; !ok {
			order = append(order, c.Target)
		}
		byTarget[c.Target] = append(byTarget[c.Target], c)
	}
	results := map[string][]fix.Result{}
	for _, r := range p.Results {
		if _, ok := byTarget[r.Target]; !ok {
			if _, seen := results[r.Target]; !seen {
				order = append(order, r.Target)
			}
		}
		results[r.Target] = append(results[r.Target], r)
	}
	for i, t := range order {
		plays = append(plays, play(i, t, byTarget[t], results[t]))
	}
	if _, err := fmt.Fprintln(w, "# rampart fix as an Ansible playbook: the same changes as `rampart fix --apply`.\n# Review it, then: ansible-playbook -i INVENTORY -l HOST this.yml\n---"); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(plays); err != nil {
		return err
	}
	return enc.Close()
}

type handlerSet struct {
	restart, sshd, nft bool
}

func play(i int, target string, changes []*fix.Change, results []fix.Result) om {
	var tasks []om
	hs := &handlerSet{}
	for j, c := range changes {
		tasks = append(tasks, changeTasks(i, j, c, hs)...)
	}
	for _, r := range results {
		if r.Packages == nil {
			continue
		}
		pc := r.Packages
		if len(pc.Remove) > 0 {
			tasks = append(tasks, om{{"name", r.Rule + ": remove " + strings.Join(pc.Remove, ", ")}, {"ansible.builtin.package", om{{"name", pc.Remove}, {"state", "absent"}}}})
		}
		if len(pc.Upgrade) > 0 {
			tasks = append(tasks, om{{"name", r.Rule + ": install or upgrade " + strings.Join(pc.Upgrade, ", ")}, {"ansible.builtin.package", om{{"name", pc.Upgrade}, {"state", "latest"}}}})
		}
	}
	pl := om{
		{"name", "rampart fix: " + target},
		{"hosts", "all"},
		{"become", true},
		{"vars", om{{"rampart_service", ""}}},
		{"tasks", tasks},
	}
	var handlers []om
	if hs.restart {
		handlers = append(handlers, om{{"name", "restart the product"}, {"ansible.builtin.service", om{{"name", "{{ rampart_service }}"}, {"state", "restarted"}}}, {"when", "rampart_service | length > 0"}})
	}
	if hs.sshd {
		handlers = append(handlers, om{{"name", "reload sshd"}, {"ansible.builtin.service", om{{"name", "ssh"}, {"state", "reloaded"}}}})
	}
	if hs.nft {
		handlers = append(handlers, om{{"name", "load nftables"}, {"ansible.builtin.service", om{{"name", "nftables"}, {"state", "restarted"}, {"enabled", true}}}})
	}
	if len(handlers) > 0 {
		pl = append(pl, kv{"handlers", handlers})
	}
	if len(tasks) == 0 {
		pl[4] = kv{"tasks", []om{{{"name", "nothing to change on this target"}, {"ansible.builtin.debug", om{{"msg", "see rampart fix's summary for the manual steps"}}}}}}
	}
	return pl
}

func notify(c *fix.Change, hs *handlerSet) string {
	switch {
	case strings.HasPrefix(path.Join("/", c.Path), "/etc/ssh/"):
		hs.sshd = true
		return "reload sshd"
	case path.Join("/", c.Path) == "/etc/nftables.conf":
		hs.nft = true
		return "load nftables"
	case strings.HasPrefix(c.Path, "etc/"):
		return ""
	}
	hs.restart = true
	return "restart the product"
}

func validateFor(c *fix.Change) string {
	switch path.Join("/", c.Path) {
	case "/etc/nftables.conf":
		return "nft -c -f %s"
	}
	if strings.HasPrefix(path.Join("/", c.Path), "/etc/ssh/sshd_config") {
		return "/usr/sbin/sshd -t -f %s"
	}
	return ""
}

func withNotify(t om, n string) om {
	if n != "" {
		t = append(t, kv{"notify", n})
	}
	return t
}

func changeTasks(i, j int, c *fix.Change, hs *handlerSet) []om {
	dest := path.Join(c.Root, c.Path)
	rules := strings.Join(c.Rules, ", ")
	n := ""
	if c.Action != fix.Chmod {
		n = notify(c, hs)
	}
	reg := fmt.Sprintf("rampart_%d_%d", i, j)
	mode := modeString(c.Mode)
	switch {
	case c.Action == fix.Chmod:
		return []om{{{"name", rules + ": " + c.Path + " " + c.Summary}, {"ansible.builtin.file", om{{"path", dest}, {"mode", mode}}}}}
	case c.Binary:
		b64 := dest + ".rampart-b64"
		after := fix.Hash(c.After)
		return []om{
			{{"name", "check " + c.Path}, {"ansible.builtin.stat", om{{"path", dest}, {"checksum_algorithm", "sha256"}}}, {"register", reg}},
			guard(reg, c),
			{{"name", rules + ": " + c.Path + " (" + c.Summary + ")"}, {"ansible.builtin.copy", om{{"dest", b64}, {"content", raw(base64.StdEncoding.EncodeToString(c.After))}, {"mode", "0600"}}}, {"when", whenNot(reg, after)}},
			withNotify(om{{"name", "install " + c.Path}, {"ansible.builtin.shell", fmt.Sprintf("set -e; %s base64 -d %s > %s.tmp && chmod %s %s.tmp && mv %s.tmp %s && rm -f %s",
				backupCmd(c, dest), q(b64), q(dest), mode, q(dest), q(dest), q(dest), q(b64))}, {"when", whenNot(reg, after)}}, n),
		}
	case c.Action == fix.Create:
		t := om{{"dest", dest}, {"content", raw(c.After)}, {"mode", mode}, {"force", false}}
		if v := validateFor(c); v != "" {
			t = append(t, kv{"validate", v})
		}
		return []om{withNotify(om{{"name", rules + ": create " + c.Path}, {"ansible.builtin.copy", t}}, n)}
	}
	if tasks, ok := lineTasks(c, dest, n); ok {
		return tasks
	}
	t := om{{"dest", dest}, {"content", raw(c.After)}, {"mode", mode}, {"backup", true}}
	if v := validateFor(c); v != "" {
		t = append(t, kv{"validate", v})
	}
	return []om{
		{{"name", "check " + c.Path}, {"ansible.builtin.stat", om{{"path", dest}, {"checksum_algorithm", "sha256"}}}, {"register", reg}},
		guard(reg, c),
		withNotify(om{{"name", rules + ": " + c.Path}, {"ansible.builtin.copy", t}}, n),
	}
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func backupCmd(c *fix.Change, dest string) string {
	if c.Action == fix.Create {
		return ""
	}
	return fmt.Sprintf("cp -p %s %s.rampart-$(date -u +%%Y%%m%%dT%%H%%M%%S);", q(dest), q(dest))
}

func whenNot(reg, hash string) string {
	return fmt.Sprintf("not (%s.stat.exists and %s.stat.checksum == '%s')", reg, reg, hash)
}

// guard fails the play when a file is neither as scanned nor as fixed.
func guard(reg string, c *fix.Change) om {
	after := fix.Hash(c.After)
	cond := fmt.Sprintf("%s.stat.exists and %s.stat.checksum in ['%s', '%s']", reg, reg, c.Hash, after)
	if c.Action == fix.Create {
		cond = fmt.Sprintf("not %s.stat.exists or %s.stat.checksum == '%s'", reg, reg, after)
	}
	return om{{"name", "refuse " + c.Path + " if it changed since the scan"}, {"ansible.builtin.assert", om{{"that", []string{cond}}, {"fail_msg", c.Path + " changed since rampart scanned it: run rampart fix again"}}}}
}

// lineTasks expresses a text file's edits as lineinfile and blockinfile
// tasks when every edit can be addressed by a unique line.
func lineTasks(c *fix.Change, dest, notifyName string) ([]om, bool) {
	if len(c.Edits) == 0 {
		return nil, false // a whole new content: copied
	}
	oldLines := splitLines(string(c.Before))
	newText := string(c.After)
	count := func(lines []string, s string) int {
		n := 0
		for _, l := range lines {
			if l == s {
				n++
			}
		}
		return n
	}
	newLines := splitLines(newText)
	// Lines replaced by an edit, by old line number: an insertion after
	// one is anchored on its new text (the replacement runs first).
	replaced := map[int]string{}
	for _, e := range c.Edits {
		if b, a := splitLines(e.Before), splitLines(e.After); len(b) == 1 && len(a) == 1 && e.OldFirst == e.OldLast {
			replaced[e.OldFirst] = a[0]
		}
	}
	var tasks []om
	var tail []string
	var tailRules []string
	for _, e := range c.Edits {
		before, after := splitLines(e.Before), splitLines(e.After)
		switch {
		case len(before) == 1 && len(after) == 1 && e.OldFirst == e.OldLast:
			if count(oldLines, before[0]) != 1 || count(newLines, after[0]) != 1 {
				return nil, false
			}
			tasks = append(tasks, withNotify(om{{"name", e.Rule + ": " + e.What},
				{"ansible.builtin.lineinfile", om{{"path", dest}, {"regexp", raw("^" + regexp.QuoteMeta(before[0]) + "$")}, {"line", raw(after[0])}, {"backup", true}}}}, notifyName))
		case len(before) == 0 && e.OldFirst > len(oldLines):
			tail = append(tail, after...)
			tailRules = append(tailRules, strings.Split(e.Rule, ",")...)
		case len(before) == 0 && len(after) > 0 && e.OldFirst >= 2:
			anchor := oldLines[e.OldFirst-2]
			if r, ok := replaced[e.OldFirst-1]; ok {
				anchor = r
			} else if count(oldLines, anchor) != 1 {
				return nil, false
			}
			for _, a := range after {
				if count(oldLines, a) != 0 || count(newLines, a) != 1 || count(newLines, anchor) != 1 {
					return nil, false
				}
				tasks = append(tasks, withNotify(om{{"name", e.Rule + ": " + e.What},
					{"ansible.builtin.lineinfile", om{{"path", dest}, {"insertafter", raw("^" + regexp.QuoteMeta(anchor) + "$")}, {"line", raw(a)}, {"backup", true}}}}, notifyName))
				anchor = a
			}
		default:
			return nil, false
		}
	}
	// A line replaced earlier may be the anchor of an insertion: the
	// anchor is looked up after the replacement tasks ran.
	if len(tail) > 0 {
		for len(tail) > 0 && strings.TrimSpace(tail[0]) == "" {
			tail = tail[1:]
		}
		tasks = append(tasks, withNotify(om{{"name", fix.NormalizeRules(strings.Join(tailRules, ",")) + ": appended to " + path.Base(dest)},
			{"ansible.builtin.blockinfile", om{{"path", dest}, {"block", raw(strings.Join(tail, "\n"))}, {"marker", "# {mark} rampart fix"}, {"backup", true}}}}, notifyName))
	}
	return reorder(tasks), true
}

// reorder runs replacements before insertions anchored on their results.
func reorder(tasks []om) []om {
	var repl, ins, rest []om
	for _, t := range tasks {
		if m, ok := t[1].v.(om); ok && t[1].k == "ansible.builtin.lineinfile" {
			if m[1].k == "regexp" {
				repl = append(repl, t)
				continue
			}
			ins = append(ins, t)
			continue
		}
		rest = append(rest, t)
	}
	return append(append(repl, ins...), rest...)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
