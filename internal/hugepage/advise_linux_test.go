package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// vmFlags returns the VmFlags of the mapping that holds address a.
func vmFlags(t *testing.T, a uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 && strings.Contains(strings.Fields(line)[0], "-") {
			in = lo <= a && a < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Fields(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	t.Fatalf("no mapping holds %#x", a)
	return nil
}

// TestAdvised checks that a large slice's whole huge pages are in a
// mapping marked for huge pages (VmFlags hg).
func TestAdvised(t *testing.T) {
	big := Make[float64](0, 4<<20) // 32 MiB
	start := (uintptr(unsafe.Pointer(unsafe.SliceData(big))) + huge - 1) &^ (huge - 1)
	if flags := vmFlags(t, start); !slices.Contains(flags, "hg") {
		t.Errorf("32 MiB slice: VmFlags %v, want hg", flags)
	}
	runtime.KeepAlive(big)
}
