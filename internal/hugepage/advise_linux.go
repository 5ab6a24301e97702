package hugepage

import (
	"syscall"
	"unsafe"
)

// advise marks the whole huge pages inside [p, p+size) MADV_HUGEPAGE.
// Errors are ignored: the advice is a hint.
func advise(p unsafe.Pointer, size uintptr) {
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + size) &^ (huge - 1)
	if end <= start {
		return
	}
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}
