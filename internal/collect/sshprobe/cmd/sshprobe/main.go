// Command sshprobe runs the SSH collector against one endpoint and prints
// its facts as JSON (a development and benchmarking aid).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/sshprobe"
	"github.com/rampart-sec/rampart/internal/target"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sshprobe host:port | ssh://host:port")
		os.Exit(2)
	}
	t, err := target.ParseEndpoint(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := sshprobe.New(sshprobe.Options{}).Collect(ctx, t, &collect.Env{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if f == nil || f.SSH == nil {
		fmt.Fprintln(os.Stderr, "not an SSH server")
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(f.SSH)
}
