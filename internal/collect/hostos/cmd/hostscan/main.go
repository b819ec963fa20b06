// Command hostscan runs the hostos collector on a root ("/" by default)
// and prints its facts, or with -judge the host rules' findings, as JSON.
// It is a development and benchmarking aid; `rampart scan local` is the
// product.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/cmdexec"
	"github.com/rampart-sec/rampart/internal/collect/hostos"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

func main() {
	root := flag.String("root", "/", "root file system to audit")
	judge := flag.Bool("judge", false, "print the host rules' findings instead of the facts")
	noExec := flag.Bool("no-exec", false, "run no command (files only)")
	flag.Parse()
	t := target.Target{Name: "local", Kind: target.Host, Dir: *root}
	env := &collect.Env{}
	if !*noExec {
		env.Exec = cmdexec.New(cmdexec.Options{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := hostos.New().Collect(ctx, t, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Target = t.Facts()
	f.Scan = facts.DefaultScan(time.Now())
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if !*judge {
		enc.Encode(f)
		return
	}
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	type row struct{ Rule, Status, Message string }
	var out []row
	for _, fd := range rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"host": true}}) {
		if len(fd.Checks) == 0 && fd.Status == "not_applicable" {
			continue
		}
		out = append(out, row{fd.RuleID, string(fd.Status), fd.Message})
	}
	enc.Encode(out)
}
