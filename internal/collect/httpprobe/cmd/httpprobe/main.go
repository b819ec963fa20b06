// Command httpprobe runs the HTTP collector alone against one endpoint and
// prints its facts as JSON: a development and benchmark driver (rampart
// facts TARGET runs every collector; this times the HTTP probe by itself).
//
//	httpprobe [-intrusive] [-role dmz] https://host:port/
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/target"
)

func main() {
	intrusive := flag.Bool("intrusive", false, "try admin/admin once per login endpoint")
	role := flag.String("role", "", "vantage point: dmz, internal or management")
	debug := flag.Bool("debug", false, "debug logs on stderr")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: httpprobe [-intrusive] [-role dmz] https://host:port/ | host:port")
		os.Exit(2)
	}
	t, err := target.ParseEndpoint(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	t.Decl.Role = *role
	level := slog.LevelWarn
	if *debug {
		level = slog.LevelDebug
	}
	env := &collect.Env{
		Dialer:    &net.Dialer{},
		Timeout:   2 * time.Minute,
		PerHost:   5,
		Intrusive: *intrusive,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	f, err := httpprobe.New(httpprobe.Options{Version: "dev"}).Collect(context.Background(), t, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if f == nil {
		fmt.Fprintln(os.Stderr, "not an HTTP service")
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"http": f.HTTP}); err != nil {
		os.Exit(1)
	}
}
