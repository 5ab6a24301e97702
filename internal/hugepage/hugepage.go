package hugepage

import "unsafe"

// huge is the size of a transparent huge page on amd64 and arm64 (4 KiB
// base pages).
const huge = 2 << 20

// Make returns a slice of length n and capacity c (or n, if larger).
// When its backing array spans a whole huge page or more, the huge pages
// inside it are advised (MADV_HUGEPAGE on Linux) before Make returns:
// those the heap has not touched yet then fault in 2 MiB at a time.
func Make[T any](n, c int) []T {
	s := make([]T, n, max(n, c))
	var zero T
	if size := uintptr(cap(s)) * unsafe.Sizeof(zero); size >= huge {
		advise(unsafe.Pointer(unsafe.SliceData(s)), size)
	}
	return s
}
