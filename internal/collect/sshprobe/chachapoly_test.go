package sshprobe

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// chachaPair is a writing and a reading transport keyed alike, over a
// buffer.
func chachaPair(t testing.TB, key []byte, wire *bytes.Buffer) (w, r *transport) {
	t.Helper()
	w = newTransport(wire, nil, nil)
	if err := w.out.setup("chacha20-poly1305@openssh.com", "", nil, key, nil, false); err != nil {
		t.Fatal(err)
	}
	r = newTransport(nil, bufio.NewReader(wire), nil)
	if err := r.in.setup("chacha20-poly1305@openssh.com", "", nil, key, nil, true); err != nil {
		t.Fatal(err)
	}
	return w, r
}

// TestChaChaPolyRoundTrip: packets of every size survive a round trip with
// the sequence numbers advancing, the length is never in clear text, and a
// flipped bit anywhere (length, body or tag) is refused.
func TestChaChaPolyRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, chachaPolyKeyLen)
	var wire bytes.Buffer
	w, r := chachaPair(t, key, &wire)
	for n := 1; n < 300; n += 13 {
		payload := bytes.Repeat([]byte{byte(n)}, n)
		if err := w.writePacket(payload); err != nil {
			t.Fatal(err)
		}
		got, err := r.readPacket()
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	for _, pos := range []int{0, 3, 4, 20, -1} {
		var wire bytes.Buffer
		w, r := chachaPair(t, key, &wire)
		if err := w.writePacket([]byte("a payload of some length")); err != nil {
			t.Fatal(err)
		}
		b := wire.Bytes()
		if pos < 0 {
			pos = len(b) - 1
		}
		b[pos] ^= 1
		if _, err := r.readPacket(); err == nil {
			t.Errorf("bit flipped at %d: accepted", pos)
		} else if pos >= 4 && !errors.Is(err, errMAC) {
			t.Errorf("bit flipped at %d: %v, want a MAC failure", pos, err)
		}
	}
	if _, err := newChachaPoly(make([]byte, 32)); err == nil {
		t.Error("a 32-byte key was accepted")
	}
}

// FuzzReadPacketChaCha feeds arbitrary bytes to the chacha20-poly1305
// packet reader: it fails cleanly, never panics, never returns an
// oversized payload.
func FuzzReadPacketChaCha(f *testing.F) {
	key := bytes.Repeat([]byte{9}, chachaPolyKeyLen)
	var wire bytes.Buffer
	w, _ := chachaPair(f, key, &wire)
	for _, p := range [][]byte{{msgIgnore, 0, 0, 0, 0}, bytes.Repeat([]byte{msgDebug}, 100)} {
		if err := w.writePacket(p); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(wire.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, r := chachaPair(t, key, bytes.NewBuffer(b))
		for range 4 {
			p, err := r.readPacket()
			if err != nil {
				return
			}
			if len(p) == 0 || len(p) > maxPacket {
				t.Fatalf("payload of %d bytes", len(p))
			}
		}
	})
}
