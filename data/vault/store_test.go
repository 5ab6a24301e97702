package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"qiandun/internal/benchutil"
	"qiandun/internal/keyfile"
)

// peakHeap runs fn and returns the largest heap in use (runtime
// MemStats.HeapInuse) sampled every few milliseconds meanwhile.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer close(done)
		for {
			sample()
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	sample()
	return peak.Load()
}

// scaleToken and scaleValue are the i-th token and value of a big book:
// tokens like pii.Token's (64 hex digits), values like phone numbers.
func scaleToken(i int) string {
	h := sha256.Sum256([]byte(fmt.Sprint(i)))
	return hex.EncodeToString(h[:])
}

func scaleValue(i int) string { return fmt.Sprintf("1%010d", i) }

// TestScaleBoundedMemory: 2,000,000 values put through a 4 MiB buffer
// (dozens of runs), written, opened and revealed, in a bounded heap. The
// map and JSON file of the previous design peaked at 1,411 MiB of heap in
// use on the same book (measured with this sampler, Put then WriteFile);
// this one stays under 64 MiB. Reveals of a sample and of missing tokens
// are checked.
func TestScaleBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000,000 values")
	}
	const n, bound = 2_000_000, 64 << 20
	lake := t.TempDir()
	runtime.GC()
	var runs int
	peak := peakHeap(func() {
		v, err := Open(lake, keyA, nil)
		if err != nil {
			t.Fatal(err)
		}
		v.bufMax = 4 << 20
		for i := range n {
			if err := v.Put(scaleToken(i), scaleValue(i)); err != nil {
				t.Fatal(err)
			}
		}
		runs = len(v.runs)
		if err := v.Save(); err != nil {
			t.Fatal(err)
		}
		v.Close()
	})
	t.Logf("Put and Save of %d values: %d runs, peak heap in use %d MiB", n, runs, peak>>20)
	if runs < 20 {
		t.Errorf("%d runs spilled, want many", runs)
	}
	if peak > bound {
		t.Errorf("peak heap in use %d MiB, want under %d MiB", peak>>20, bound>>20)
	}
	if ents, _ := os.ReadDir(lake + "/" + tmpDir); len(ents) > 0 {
		t.Errorf("%d files left in the temporary area", len(ents))
	}
	st, _ := os.Stat(Path(lake))
	t.Logf("vault file %d MB", st.Size()/1e6)
	runtime.GC()
	peak = peakHeap(func() {
		v, err := Open(lake, keyA, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if v.Len() != n {
			t.Errorf("Len %d, want %d", v.Len(), n)
		}
		for i := 0; i < n; i += 1999 {
			if got, err := v.Reveal(context.Background(), scaleToken(i), "test"); err != nil || got != scaleValue(i) {
				t.Fatalf("Reveal(%d) = %q, %v", i, got, err)
			}
		}
		for _, tok := range []string{scaleToken(-1), scaleToken(n), "", "0", strings.Repeat("f", 64), strings.Repeat("g", 64)} {
			if _, err := v.Reveal(context.Background(), tok, "test"); err == nil || !strings.Contains(err.Error(), "no value") {
				t.Errorf("Reveal(missing %q): %v", tok, err)
			}
			if v.Has(tok) {
				t.Errorf("Has(missing %q)", tok)
			}
		}
	})
	t.Logf("Open and %d reveals: peak heap in use %d MiB", n/1999+6, peak>>20)
	if peak > bound/2 {
		t.Errorf("Open and reveals: peak heap in use %d MiB, want under %d MiB", peak>>20, bound>>21)
	}
}

// TestNewestPutWins: a Put replaces a value already in the file and an
// earlier Put of the same token, whether they are in the buffer, in
// spilled runs or both; before and after the write, and Len counts each
// token once.
func TestNewestPutWins(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bufMax int
	}{{"in memory", DefaultBufferBytes}, {"a run per Put", 1}, {"runs of a few", 300}} {
		t.Run(tc.name, func(t *testing.T) {
			lake := t.TempDir()
			want := fill(t, lake, keyA)
			old := slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			})
			v, err := Open(lake, keyA, nil)
			if err != nil {
				t.Fatal(err)
			}
			v.bufMax = tc.bufMax
			puts := [][2]string{{old[0], "new 1"}, {"tok-d", "d 1"}, {old[0], "new 2"}, {old[1], "b 2"}, {"tok-d", "d 2"}, {old[0], "new 3"}}
			for _, p := range puts {
				if err := v.Put(p[0], p[1]); err != nil {
					t.Fatal(err)
				}
				want[p[0]] = p[1]
			}
			if tc.bufMax == 1 && len(v.runs) != len(puts) {
				t.Errorf("%d runs, want %d", len(v.runs), len(puts))
			}
			check := func(v *Vault, when string) {
				t.Helper()
				for tok, val := range want {
					if got, err := v.Reveal(context.Background(), tok, "test"); err != nil || got != val {
						t.Errorf("%s: Reveal(%s) = %q, %v; want %q", when, tok, got, err, val)
					}
				}
				if got := v.Tokens(); len(got) != len(want) {
					t.Errorf("%s: %d tokens, want %d", when, len(got), len(want))
				}
			}
			check(v, "before the write")
			if err := v.Save(); err != nil {
				t.Fatal(err)
			}
			check(v, "after the write")
			if v.Len() != len(want) {
				t.Errorf("Len %d, want %d", v.Len(), len(want))
			}
			v.Close()
			checkAll(t, lake, keyA, want)
		})
	}
}

// TestMergeRandom: random Puts over a small token space (many repeats),
// through buffers of several sizes and three write cycles, give the
// vault a reference map holds.
func TestMergeRandom(t *testing.T) {
	for _, bufMax := range []int{1, 500, 4 << 10, DefaultBufferBytes} {
		t.Run(fmt.Sprint(bufMax), func(t *testing.T) {
			lake := t.TempDir()
			r := rand.New(rand.NewPCG(1, uint64(bufMax)))
			want := map[string]string{}
			for cycle := range 3 {
				v, err := Open(lake, keyA, nil)
				if err != nil {
					t.Fatal(err)
				}
				v.bufMax = bufMax
				for i := range 400 {
					tok, val := fmt.Sprintf("t%03d", r.IntN(300)), fmt.Sprintf("v%d.%d", cycle, i)
					if err := v.Put(tok, val); err != nil {
						t.Fatal(err)
					}
					want[tok] = val
				}
				if err := v.Save(); err != nil {
					t.Fatal(err)
				}
				v.Close()
				checkAll(t, lake, keyA, want)
			}
			v, _ := Open(lake, keyA, nil)
			defer v.Close()
			var toks []string
			if err := v.Each(func(tok string) error { toks = append(toks, tok); return nil }); err != nil {
				t.Fatal(err)
			}
			if !sort.StringsAreSorted(toks) || len(toks) != len(want) {
				t.Errorf("Each gave %d tokens (sorted: %v), want %d", len(toks), sort.StringsAreSorted(toks), len(want))
			}
		})
	}
}

// writeJSONVault writes want as the JSON vault file of older releases,
// sealed with key, and with bad an entry that is not base64 under token
// "bad".
func writeJSONVault(t *testing.T, lake string, key []byte, want map[string]string, bad bool) {
	t.Helper()
	aead, err := newAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	f := jsonFile{KeyFingerprint: keyfile.Fingerprint(key), Entries: map[string]string{}}
	if bad {
		f.Entries["bad"] = "not base64!"
	}
	for tok, val := range want {
		s, err := seal(aead, []byte(tok), []byte(val))
		if err != nil {
			t.Fatal(err)
		}
		f.Entries[tok] = base64.StdEncoding.EncodeToString(s)
	}
	b, _ := json.Marshal(f)
	os.MkdirAll(lake+"/_vault", 0o700)
	if err := os.WriteFile(Path(lake), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestJSONVault: a vault in the JSON form of older releases opens (its
// values revealed, a corrupt entry reported as before), is refused under
// another key, and the next write converts it; Rotate converts it too.
func TestJSONVault(t *testing.T) {
	lake := t.TempDir()
	want := values()
	writeJSONVault(t, lake, keyA, want, true)
	if _, err := Open(lake, keyB, nil); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("a JSON vault opened with another key: %v", err)
	}
	v, err := Open(lake, keyA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != len(want)+1 {
		t.Errorf("Len %d, want %d", v.Len(), len(want)+1)
	}
	if _, err := v.Reveal(context.Background(), "bad", "test"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Reveal of a corrupt entry: %v", err)
	}
	v.Put("tok-new", "新")
	want["tok-new"] = "新"
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if b, _ := os.ReadFile(Path(lake)); !bytes.HasPrefix(b, []byte(magic)) {
		t.Errorf("the vault is still JSON after a write: %.40q", b)
	}
	v, err = Open(lake, keyA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != len(want)+1 {
		t.Errorf("converted: Len %d, want %d", v.Len(), len(want)+1)
	}
	for tok, val := range want {
		if got, err := v.Reveal(context.Background(), tok, "test"); err != nil || got != val {
			t.Errorf("converted: Reveal(%s) = %q, %v", tok, got, err)
		}
	}
	if _, err := v.Reveal(context.Background(), "bad", "test"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("converted: Reveal of the corrupt entry: %v", err)
	}
	v.Close()

	lake = t.TempDir()
	writeJSONVault(t, lake, keyA, values(), false)
	if n, err := Rotate(lake, keyA, keyB, nil); err != nil || n != len(values()) {
		t.Fatalf("Rotate of a JSON vault = %d, %v", n, err)
	}
	if b, _ := os.ReadFile(Path(lake)); !bytes.HasPrefix(b, []byte(magic)) {
		t.Error("the rotated vault is still JSON")
	}
	v, err = Open(lake, keyB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for tok, val := range values() {
		if got, err := v.Reveal(context.Background(), tok, "test"); err != nil || got != val {
			t.Errorf("rotated: Reveal(%s) = %q, %v", tok, got, err)
		}
	}
}

// TestCorruptFile: a truncated or damaged vault file is an error naming
// the file, at Open (header, index, size) or at the reveal of a value in
// a damaged block; never a wrong value.
func TestCorruptFile(t *testing.T) {
	lake := t.TempDir()
	v, _ := Open(lake, keyA, nil)
	want := map[string]string{}
	for i := range 1000 {
		want[scaleToken(i)] = scaleValue(i)
		v.Put(scaleToken(i), scaleValue(i))
	}
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
	v.Close()
	good, _ := os.ReadFile(Path(lake))
	h := int(headerLen(keyfile.Fingerprint(keyA)))
	recEnd := len(good) - trailerLen - 200 // inside the index
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"empty", func(b []byte) []byte { return nil }},
		{"cut in the magic", func(b []byte) []byte { return b[:5] }},
		{"cut in the header", func(b []byte) []byte { return b[:h-3] }},
		{"header only", func(b []byte) []byte { return b[:h] }},
		{"cut in the records", func(b []byte) []byte { return b[:len(b)/2] }},
		{"cut in the index", func(b []byte) []byte { return b[:recEnd] }},
		{"cut in the trailer", func(b []byte) []byte { return b[:len(b)-3] }},
		{"a byte more", func(b []byte) []byte { return append(b, 0) }},
		{"version", func(b []byte) []byte { b[8] ^= 0x7f; return b }},
		{"fingerprint", func(b []byte) []byte { b[13] ^= 1; return b }},
		{"count", func(b []byte) []byte { b[h-30] ^= 1; return b }},
		{"a record", func(b []byte) []byte { b[len(b)/3] ^= 0x10; return b }},
		{"the first record", func(b []byte) []byte { b[h+2] ^= 0x10; return b }},
		{"the index", func(b []byte) []byte { b[recEnd] ^= 1; return b }},
		{"the trailer", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(Path(lake), tc.edit(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			v, err := Open(lake, keyA, nil)
			if err != nil {
				if !strings.Contains(err.Error(), Path(lake)) {
					t.Errorf("the error does not name the file: %v", err)
				}
				return
			}
			defer v.Close()
			var first error
			for tok, val := range want {
				got, err := v.Reveal(context.Background(), tok, "test")
				if err == nil && got != val {
					t.Fatalf("Reveal(%s) = %q, want %q", tok, got, val)
				}
				if err != nil && first == nil {
					first = err
				}
			}
			if first == nil {
				t.Fatal("a damaged vault opened and revealed every value")
			}
			if !strings.Contains(first.Error(), Path(lake)) {
				t.Errorf("the error does not name the file: %v", first)
			}
		})
	}
}

// BenchmarkPutWriteFile: Put then WriteFile of a book of values (200,000;
// 2,000,000 with QIANDUN_BENCH_SCALE=full) with the default buffer, as
// ingest puts them (PutBytes); the tokens are made in the loop (a SHA-256
// each), so that no input held in memory counts in the peak RSS.
func BenchmarkPutWriteFile(b *testing.B) {
	n := benchutil.Scale(2_000_000, 200_000)
	benchutil.ResetPeakRSS()
	b.ResetTimer()
	var tok [64]byte
	var val []byte
	for range b.N {
		lake := b.TempDir()
		v, err := Open(lake, keyA, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			h := sha256.Sum256(strconv.AppendInt(val[:0], int64(i), 10))
			hex.Encode(tok[:], h[:])
			val = fmt.Appendf(val[:0], "1%010d", i)
			if err := v.PutBytes(tok[:], val); err != nil {
				b.Fatal(err)
			}
		}
		if err := v.WriteFile(Path(lake)); err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
	benchutil.Report(b, n)
}

// BenchmarkRevealBatch: a sorted batch of reveals of a tenth of the
// values, as bureau and repair ask (vaultReveals sorts its batch).
func BenchmarkRevealBatch(b *testing.B) {
	n := benchutil.Scale(2_000_000, 200_000)
	lake := b.TempDir()
	v, _ := Open(lake, keyA, nil)
	for i := range n {
		v.Put(scaleToken(i), scaleValue(i))
	}
	if err := v.Save(); err != nil {
		b.Fatal(err)
	}
	v.Close()
	var batch []string
	for i := 0; i < n; i += 10 {
		batch = append(batch, scaleToken(i))
	}
	sort.Strings(batch)
	benchutil.ResetPeakRSS()
	b.ResetTimer()
	for range b.N {
		v, err := Open(lake, keyA, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, tok := range batch {
			if _, err := v.Reveal(context.Background(), tok, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		v.Close()
	}
	benchutil.Report(b, len(batch))
}

// TestConcurrentPuts: ingest's lanes Put from several goroutines while
// the buffer spills; every value arrives.
func TestConcurrentPuts(t *testing.T) {
	lake := t.TempDir()
	v, err := Open(lake, keyA, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.bufMax = 4 << 10
	const workers, each = 8, 1000
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := w * each; i < (w+1)*each && err == nil; i++ {
				err = v.PutBytes([]byte(scaleToken(i)), []byte(scaleValue(i)))
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
	v.Close()
	want := map[string]string{}
	for i := range workers * each {
		want[scaleToken(i)] = scaleValue(i)
	}
	checkAll(t, lake, keyA, want)
}
