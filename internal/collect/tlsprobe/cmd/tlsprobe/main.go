// Command tlsprobe runs the TLS collector against one endpoint and prints
// its facts as JSON: a development and benchmark driver until the rampart
// CLI wires the collector in (`rampart facts host:port` does the same).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/tlsprobe"
	"github.com/rampart-sec/rampart/internal/target"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsprobe host:port")
		os.Exit(2)
	}
	t, err := target.ParseEndpoint(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	level := slog.LevelInfo
	if os.Getenv("TLSPROBE_DEBUG") != "" {
		level = slog.LevelDebug
	}
	env := &collect.Env{Timeout: 60 * time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	f, err := tlsprobe.New(tlsprobe.Options{}).Collect(context.Background(), t, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		os.Exit(1)
	}
}
