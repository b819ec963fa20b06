package tlswire

import "fmt"

// reader is a bounds-checked cursor over a message; every read past the end
// sets err and returns zero values, so parsers check once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: truncated: %w", what, ErrMalformed)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.fail(what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) uint8 {
	v := r.bytes(1, what)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u16(what string) uint16 {
	v := r.bytes(2, what)
	if v == nil {
		return 0
	}
	return uint16(v[0])<<8 | uint16(v[1])
}

func (r *reader) u24(what string) int {
	v := r.bytes(3, what)
	if v == nil {
		return 0
	}
	return int(v[0])<<16 | int(v[1])<<8 | int(v[2])
}

func (r *reader) vec8(what string) []byte  { return r.bytes(int(r.u8(what)), what) }
func (r *reader) vec16(what string) []byte { return r.bytes(int(r.u16(what)), what) }
func (r *reader) vec24(what string) []byte { return r.bytes(r.u24(what), what) }

func (r *reader) empty() bool { return len(r.b) == 0 }

// builder appends length-prefixed vectors.
type builder struct{ b []byte }

func (w *builder) u8(v uint8)   { w.b = append(w.b, v) }
func (w *builder) u16(v uint16) { w.b = append(w.b, byte(v>>8), byte(v)) }
func (w *builder) raw(p []byte) { w.b = append(w.b, p...) }

// vec appends a vector with an n-byte length prefix filled by fn.
func (w *builder) vec(n int, fn func()) {
	start := len(w.b)
	w.b = append(w.b, make([]byte, n)...)
	fn()
	l := len(w.b) - start - n
	for i := n - 1; i >= 0; i-- {
		w.b[start+i] = byte(l)
		l >>= 8
	}
}
