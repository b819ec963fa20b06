package hostos

import (
	"github.com/rampart-sec/rampart/internal/collect/hostos/sshdconf"
)

const sshdConfig = "/etc/ssh/sshd_config"

// sshd reads the effective sshd configuration: `sshd -T` on the live
// host, else the files.
func (s *scan) sshd() {
	files, ferr := sshdconf.ReadFiles(s.r, sshdConfig)
	if ferr != nil && !isNotExist(ferr) {
		s.fail("sshd", ferr)
		return
	}
	if files == nil {
		s.h.SSHD.Source = sshdConfig + " not found"
		return // Present stays false: no sshd configured
	}
	if out, ok, err := s.exec("sshd", "-T"); ok {
		if err == nil {
			s.h.SSHD = sshdconf.Facts(sshdconf.ParseDashT(out), "sshd -T", files)
			return
		}
		s.h.SSHD = sshdconf.Facts(files, sshdConfig+" (sshd -T failed: "+cmdNote(err)+")", nil)
		return
	}
	s.h.SSHD = sshdconf.Facts(files, sshdConfig, nil)
}
