// Package hugepage allocates the large numeric slices of a run in memory
// the kernel may back with transparent huge pages.
//
// Where the kernel's transparent huge pages are in "madvise" mode (the
// default of many distributions), Go's heap never gets them: each 4 KiB
// page of a fresh slice is a page fault on first write. On a virtual
// machine a fault is dear (about 10 µs on the 2-core machine the README's
// figures come from), and a 1,000,000-row table of 20 columns is some
// 40,000 of them. A slice from this package is advised MADV_HUGEPAGE
// before it is written, so the same columns fault in 2 MiB at a time.
//
// The advice is a hint: where the kernel has no huge pages to give, or
// off Linux, the slices are ordinary ones.
package hugepage
