package publish

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestDirectFile: whatever the sizes of the writes and of the file (empty,
// under, at and over a block and a buffer), the file holds exactly the
// bytes written, on a disk file system (direct I/O) and, where there is
// one, on tmpfs (which refuses it: the ordinary path).
func TestDirectFile(t *testing.T) {
	dirs := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "qiandun-direct-")
		if err == nil {
			defer os.RemoveAll(d)
			dirs = append(dirs, d)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dir := range dirs {
		for _, size := range []int{0, 1, directBlock - 1, directBlock, directBlock + 1, directBuffer - 1, directBuffer, directBuffer + 1, 3*directBuffer + 17} {
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(rng.IntN(256))
			}
			path := filepath.Join(dir, "f")
			f, err := createDirect(path)
			if err != nil {
				t.Fatal(err)
			}
			for p := want; len(p) > 0; {
				k := min(len(p), 1+rng.IntN(3*directBlock))
				if rng.IntN(4) == 0 {
					k = min(len(p), directBuffer+rng.IntN(directBuffer))
				}
				if n, err := f.Write(p[:k]); err != nil || n != k {
					t.Fatalf("%s size %d: write %d: %d, %v", dir, size, k, n, err)
				}
				p = p[k:]
			}
			if err := f.Close(); err != nil {
				t.Fatalf("%s size %d: close: %v", dir, size, err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s size %d: file has %d bytes, not the ones written", dir, size, len(got))
			}
		}
	}
}
