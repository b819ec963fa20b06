//go:build unix

package fix

import (
	"io/fs"
	"syscall"
)

// owner returns a file's user and group.
func owner(fi fs.FileInfo) (int, int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
