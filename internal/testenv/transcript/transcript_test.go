package transcript

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// greet is a small probe: it says hello (with its connection's random
// bytes), reads the server's line, and reads on until the server closes,
// the connection's timeout passes, or it reads a second line.
func greet(ctx context.Context, env *collect.Env, addr, label string, timeout time.Duration) (lines []string, err error) {
	c, err := env.Net(2).Dial(ctx, collect.DialSpec{Host: "127.0.0.1", Addr: addr, Label: label, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	nonce := make([]byte, 8)
	if _, err := io.ReadFull(c.Rand(), nonce); err != nil {
		return nil, err
	}
	if _, err := c.Write(append([]byte("HELLO "+label+" "), nonce...)); err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte("\n")); err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	for range 2 {
		l, err := br.ReadString('\n')
		if err != nil {
			return lines, err
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines, nil
}

// TestRecordAndReplay: a recorded conversation replays with the same
// answers, errors of the same kind (a timeout at once), and the probe's
// exact bytes; a probe that sends other bytes, opens a connection the
// recording lacks, or leaves a recorded one unopened, fails the replay.
func TestRecordAndReplay(t *testing.T) {
	addr := testenv.Serve(t, 10*time.Second, func(c net.Conn) {
		l, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(l, "HELLO closes "):
			_, _ = c.Write([]byte("BYE\n"))
		case strings.HasPrefix(l, "HELLO waits "):
			_, _ = c.Write([]byte("ONE\n"))
			_, _ = io.Copy(io.Discard, c) // then says nothing more
		}
	})
	ctx := context.Background()
	seeded := func(d collect.Dialer) *collect.Env {
		return &collect.Env{Dialer: d, Entropy: fixedSeed{}}
	}
	rec := &Recorder{}
	closes, errCloses := greet(ctx, seeded(rec), addr, "closes", time.Minute)
	waits, errWaits := greet(ctx, seeded(rec), addr, "waits", 50*time.Millisecond)
	if len(closes) != 1 || !errors.Is(errCloses, io.EOF) || len(waits) != 1 || netfail.Of(errWaits) != netfail.Timeout {
		t.Fatalf("live: %q %v, %q %v", closes, errCloses, waits, errWaits)
	}
	path := filepath.Join(t.TempDir(), "x.json.gz")
	f := &File{Recorded: time.Unix(1700000000, 0).UTC(), Seed: "s", Target: addr, Conns: rec.Conns()}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	// The same probe replays: same lines, same kinds of error, no waiting.
	rp := NewReplayer(loaded)
	c2, e2 := greet(ctx, seeded(rp), addr, "closes", time.Minute)
	w2, ew2 := greet(ctx, seeded(rp), addr, "waits", time.Hour)
	if strings.Join(c2, ",") != "BYE" || !errors.Is(e2, io.EOF) || strings.Join(w2, ",") != "ONE" || netfail.Of(ew2) != netfail.Timeout {
		t.Errorf("replay: %q %v, %q %v", c2, e2, w2, ew2)
	}
	if err := rp.Err(); err != nil {
		t.Errorf("faithful replay: %v", err)
	}

	// Other bytes: the random differs.
	rp = NewReplayer(loaded)
	_, _ = greet(ctx, &collect.Env{Dialer: rp, Entropy: otherSeed{}}, addr, "closes", time.Minute)
	_, _ = greet(ctx, seeded(rp), addr, "waits", time.Minute)
	if err := rp.Err(); err == nil || !strings.Contains(err.Error(), "wrote other bytes than recorded") {
		t.Errorf("other bytes: %v", err)
	}

	// A connection the recording lacks, and one left unopened.
	rp = NewReplayer(loaded)
	if _, err := greet(ctx, seeded(rp), addr, "new", time.Minute); err == nil {
		t.Error("an unrecorded connection was dialed")
	}
	err = rp.Err()
	if err == nil || !strings.Contains(err.Error(), `no such connection in the recording`) || !strings.Contains(err.Error(), "2 of 2 recorded connections were never dialed") {
		t.Errorf("unknown and unused connections: %v", err)
	}
}

// A refused connect is recorded and replayed as refused.
func TestRecordRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rec := &Recorder{}
	env := &collect.Env{Dialer: rec}
	if _, err := greet(context.Background(), env, addr, "x", time.Second); netfail.Of(err) != netfail.Refused {
		t.Fatalf("live: %v", err)
	}
	rp := NewReplayer(&File{Conns: rec.Conns()})
	if _, err := greet(context.Background(), &collect.Env{Dialer: rp}, addr, "x", time.Second); netfail.Of(err) != netfail.Refused {
		t.Errorf("replay: %v (%q)", err, netfail.Of(err))
	}
	if err := rp.Err(); err != nil {
		t.Error(err)
	}
}

type fixedSeed struct{}

func (fixedSeed) Stream(label string) io.Reader { return strings.NewReader(strings.Repeat("r", 64)) }

type otherSeed struct{}

func (otherSeed) Stream(label string) io.Reader { return strings.NewReader(strings.Repeat("o", 64)) }
