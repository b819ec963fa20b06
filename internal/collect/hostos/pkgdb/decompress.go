package pkgdb

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// maxDict bounds the window (dictionary) a zstd or xz stream may ask the
// decoder to allocate: xz -9 and zstd -19 use 64 MiB and 8 MiB.
const maxDict = 64 << 20

// errTooLarge is returned by a reader from openData past its limit.
type errTooLarge struct {
	file  string
	limit int64
}

func (e errTooLarge) Error() string {
	return fmt.Sprintf("%s: more than %d bytes once decompressed", e.file, e.limit)
}

// openData opens a package-list or repository-metadata file, decompressing
// it by its suffix (.gz, .xz, .zst, .bz2, .lz4, or none), and bounds what
// is read from it at limit decompressed bytes: past that, Read fails.
func openData(r *rootfs.Root, p string, limit int64) (io.Reader, func(), error) {
	f, err := r.Open(p)
	if err != nil {
		return nil, func() {}, err
	}
	var rd io.Reader
	closeFn := func() { f.Close() }
	switch ext := path.Ext(p); strings.ToLower(ext) {
	case ".gz":
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, func() {}, fmt.Errorf("%s: %w", p, err)
		}
		rd, closeFn = z, func() { z.Close(); f.Close() }
	case ".xz":
		br := bufio.NewReaderSize(f, 4096)
		if err := xzDictOK(br); err != nil {
			f.Close()
			return nil, func() {}, fmt.Errorf("%s: %w", p, err)
		}
		z, err := xz.NewReader(br)
		if err != nil {
			f.Close()
			return nil, func() {}, fmt.Errorf("%s: %w", p, err)
		}
		rd = z
	case ".zst":
		// A bounded window: a crafted frame cannot ask for gigabytes.
		z, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxDict), zstd.WithDecoderMaxMemory(4*maxDict))
		if err != nil {
			f.Close()
			return nil, func() {}, fmt.Errorf("%s: %w", p, err)
		}
		rd, closeFn = z, func() { z.Close(); f.Close() }
	case ".bz2":
		rd = bzip2.NewReader(f)
	case ".lz4":
		rd = lz4.NewReader(f)
	default:
		rd = f
	}
	return &capReader{r: rd, left: limit, err: errTooLarge{file: p, limit: limit}}, closeFn, nil
}

// capReader fails once more than its limit has been read.
type capReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.left < 0 {
		return 0, c.err
	}
	if int64(len(b)) > c.left+1 {
		b = b[:c.left+1]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if c.left < 0 {
		return n, c.err
	}
	return n, err
}

// xzDictOK reads, without consuming, the xz stream header and the first
// block header, and refuses an LZMA2 dictionary larger than maxDict (the
// decoder would allocate it whole: up to 4 GiB).
func xzDictOK(br *bufio.Reader) error {
	hdr, err := br.Peek(12 + 1)
	if err != nil {
		return fmt.Errorf("xz header: %w", err)
	}
	if string(hdr[:6]) != "\xfd7zXZ\x00" {
		return errors.New("not an xz stream")
	}
	size := (int(hdr[12]) + 1) * 4
	if hdr[12] == 0 {
		return nil // an empty stream: the index comes first
	}
	b, err := br.Peek(12 + size)
	if err != nil {
		return fmt.Errorf("xz block header: %w", err)
	}
	b = b[12+1 : 12+size]
	flags := b[0]
	b = b[1:]
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && len(b) > 0; i++ {
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, ok := varint(); !ok {
				return errors.New("malformed xz block header")
			}
		}
	}
	for range int(flags&0x03) + 1 {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || n > uint64(len(b)) {
			return errors.New("malformed xz block header")
		}
		props := b[:n]
		b = b[n:]
		if id != 0x21 { // not LZMA2 (a BCJ or delta filter before it)
			continue
		}
		if len(props) != 1 || props[0] > 40 {
			return errors.New("malformed LZMA2 properties")
		}
		dict := uint64(1<<32 - 1)
		if p := props[0]; p < 40 {
			dict = uint64(2|p&1) << (p/2 + 11)
		}
		if dict > maxDict {
			return fmt.Errorf("xz dictionary of %d MiB (over %d MiB)", dict>>20, maxDict>>20)
		}
	}
	return nil
}
