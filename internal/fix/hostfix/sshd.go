package hostfix

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/fix"
)

// DropIn is where the sshd settings go.
const DropIn = "/etc/ssh/sshd_config.d/50-rampart.conf"

const mainConfig = "/etc/ssh/sshd_config"

// issueNet is the legal notice written when /etc/issue.net has none.
const issueNet = "Authorised use only. Activity on this system is monitored and recorded;\nunauthorised use is prohibited and may be prosecuted.\n"

type sshSetting struct {
	rule, keyword, value string
	cur                  facts.Setting
}

// sshd writes the SSH settings the failing rules want as a drop-in
// (SSH-001 to SSH-004), after making sure sshd reads it first.
func (p *planner) sshd() error {
	if !p.h.SSHD.Present {
		return nil
	}
	s := p.h.SSHD
	var want []sshSetting
	if p.fails("SSH-001") {
		if p.opt.SSHPort > 0 && p.opt.SSHPort != 22 {
			want = append(want, sshSetting{"SSH-001", "Port", fmt.Sprint(p.opt.SSHPort), s.Settings["port"]})
		} else {
			r := p.set("SSH-001", fix.NeedsInput, "the new SSH port is the operator's to choose (clients and the firewall follow it)")
			r.Inputs = []string{"--ssh-port N"}
		}
	}
	if p.fails("SSH-002") {
		want = append(want, sshSetting{"SSH-002", "PermitRootLogin", "no", s.PermitRootLogin})
	}
	if p.fails("SSH-003") {
		want = append(want, sshSetting{"SSH-003", "PasswordAuthentication", "no", s.PasswordAuthentication})
		want = append(want, sshSetting{"SSH-003", "KbdInteractiveAuthentication", "no", s.KbdInteractive})
	}
	banner := "/etc/issue.net"
	if p.fails("SSH-004") {
		if s.Banner.Set && s.Banner.Value != "" && s.Banner.Value != "none" {
			banner = s.Banner.Value
		}
		want = append(want, sshSetting{"SSH-004", "Banner", banner, s.Banner})
	}
	if len(want) == 0 {
		return nil
	}
	// sshd keeps the first value it reads of a keyword: the drop-in must be
	// included before the main file's own settings, and settings read
	// before it (an earlier drop-in) are commented out where they are.
	main, err := p.ws.Read(rel(mainConfig))
	if err != nil {
		return fmt.Errorf("%s: %w", mainConfig, err)
	}
	includeLine := includeLineOf(main)
	mainDoc, err := p.ws.Text(rel(mainConfig))
	if err != nil {
		return err
	}
	var rules []string
	for _, w := range want {
		rules = appendOnce(rules, w.rule)
	}
	tag := strings.Join(rules, ",")
	if includeLine == 0 {
		mainDoc.Replace(0, 0, "# Added by rampart fix: read the drop-ins first (sshd keeps the first value of a keyword).\nInclude /etc/ssh/sshd_config.d/*.conf\n", tag, "Include sshd_config.d")
	}
	var body strings.Builder
	body.WriteString("# Written by rampart fix (" + strings.Join(rules, ", ") + ").\n")
	body.WriteString("# sshd reads this file where sshd_config includes sshd_config.d/*.conf, and keeps\n# the first value it reads of each keyword.\n")
	for _, w := range want {
		body.WriteString(w.keyword + " " + w.value + "\n")
		o := w.cur.Origin
		if o.File == "" || o.Line == 0 || o.File == DropIn {
			continue
		}
		wins := false
		switch {
		case o.File == mainConfig:
			wins = includeLine > 0 && o.Line < includeLine
		case path.Dir(o.File) == path.Dir(DropIn):
			wins = path.Base(o.File) < path.Base(DropIn)
		}
		if !wins {
			continue
		}
		doc, err := p.ws.Text(rel(o.File))
		if err != nil {
			return err
		}
		start, end := lineRange(doc.Src, o.Line)
		if start < end {
			doc.Replace(start, start, "# disabled by rampart fix ("+w.rule+"): ", w.rule, w.keyword+" in "+path.Base(o.File))
		}
	}
	content := []byte(body.String())
	if err := p.check("sshd -t", p.opt.Validator.SSHD, content); err != nil {
		for _, r := range rules {
			p.set(r, fix.Failed, "the sshd drop-in does not pass sshd -t: "+err.Error())
		}
		return nil
	}
	if err := p.ws.Write(rel(DropIn), content, 0o644, false, tag, "sshd drop-in"); err != nil {
		return err
	}
	if p.fails("SSH-004") && !p.ws.Exists(rel(banner)) {
		if err := p.ws.Write(rel(banner), []byte(issueNet), 0o644, false, "SSH-004", "legal notice"); err != nil {
			return err
		}
	}
	reload := "sshd -t && systemctl reload ssh (sshd on RPM systems)"
	for _, w := range want {
		text := w.keyword + " " + w.value + " in " + DropIn
		switch w.rule {
		case "SSH-003":
			p.set(w.rule, fix.Fixed, text, "install every user's public key before reloading, or they are locked out")
		case "SSH-001":
			p.set(w.rule, fix.Fixed, text, "open the new port in the firewall and tell clients before reloading")
		default:
			p.set(w.rule, fix.Fixed, text)
		}
		p.results[w.rule].Commands = appendOnce(p.results[w.rule].Commands, reload)
	}
	p.otherInstances(want)
	return nil
}

// otherInstances: a running sshd started with its own configuration
// (-f FILE) reads neither sshd_config nor the drop-in, unless FILE
// includes it, so the drop-in does not fix what the SSH rules found on
// it. Its rules are left to the operator (manual), with the settings to
// put in that file and the instance named; rampart does not edit a file
// a service was started with outside the system configuration.
func (p *planner) otherInstances(want []sshSetting) {
	for _, in := range p.h.SSHDInstances {
		if in.ConfigFile == "" || in.ConfigFile == mainConfig || in.ConfigFile == DropIn || in.Error != "" {
			continue
		}
		// A file that includes the drop-ins before its own settings of
		// the keywords is reached by the drop-in.
		includeLine := 0
		if b, err := p.ws.Read(rel(in.ConfigFile)); err == nil {
			includeLine = includeLineOf(b)
		}
		who := fmt.Sprintf("the sshd with pid %d", in.PID)
		if len(in.Listening) > 0 {
			who += " (listening on " + strings.Join(in.Listening, ", ") + ")"
		}
		for _, w := range want {
			if o := in.Settings[strings.ToLower(w.keyword)].Origin; includeLine > 0 && (o.File != in.ConfigFile || o.Line > includeLine) {
				continue
			}
			p.set(w.rule, fix.Manual,
				who+" runs with -f "+in.ConfigFile+", which reads neither "+mainConfig+" nor the drop-in: rampart fix leaves that file to the operator",
				"in "+in.ConfigFile+": "+w.keyword+" "+w.value+", then restart that sshd")
		}
	}
}

// includeLineOf returns the line of an sshd configuration that includes
// the drop-in directory, 0 when none does.
func includeLineOf(conf []byte) int {
	m := regexp.MustCompile(`(?mi)^[ \t]*Include[ \t]+(\S*sshd_config\.d\S*)`).FindIndex(conf)
	if m == nil {
		return 0
	}
	return 1 + strings.Count(string(conf[:m[0]]), "\n")
}

func lineRange(b []byte, line int) (int, int) {
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(string(b[off:]), '\n')
		if j < 0 {
			return 0, 0
		}
		off += j + 1
	}
	end := off
	for end < len(b) && b[end] != '\n' {
		end++
	}
	return off, end
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// check runs a validator and records what it said.
func (p *planner) check(name string, v func([]byte) error, content []byte) error {
	if v == nil {
		p.validate = append(p.validate, name+": not checked (no validator)")
		return nil
	}
	err := v(content)
	switch {
	case err == nil:
		p.validate = append(p.validate, name+": ok")
	case IsMissing(err):
		p.validate = append(p.validate, name+": not checked: "+err.Error())
		return nil
	}
	return err
}
