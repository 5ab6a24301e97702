package sharing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestOthersAndEarlier(t *testing.T) {
	const day = 1
	// Applications in time order: borrower, key (-1 missing).
	tests := []struct {
		name     string
		time     []int64
		borrower []int32
		key      []int32
		window   int64
		others   []int32
		earlier  []int32
	}{
		{"one application", []int64{5}, []int32{0}, []int32{7}, 30, []int32{0}, []int32{0}},
		{"missing key counts nothing", []int64{1, 2}, []int32{0, 1}, []int32{-1, -1}, 30, []int32{0, 0}, []int32{0, 0}},
		{"another borrower before", []int64{1, 2}, []int32{0, 1}, []int32{3, 3}, 30, []int32{0, 1}, []int32{0, 0}},
		{"the same borrower is not another", []int64{1, 2, 3}, []int32{0, 0, 1}, []int32{3, 3, 3}, 30, []int32{0, 0, 1}, []int32{0, 1, 0}},
		{"a borrower counted once", []int64{1, 2, 3}, []int32{1, 1, 0}, []int32{3, 3, 3}, 30, []int32{0, 0, 1}, []int32{0, 1, 0}},
		{"same time is not before", []int64{4, 4, 4}, []int32{0, 1, 2}, []int32{3, 3, 3}, 30, []int32{0, 0, 0}, []int32{0, 0, 0}},
		{"window bound inclusive", []int64{0, 30 * day, 30*day + 1}, []int32{0, 1, 2}, []int32{3, 3, 3}, 30 * day, []int32{0, 1, 1}, []int32{0, 0, 0}},
		{"other keys apart", []int64{1, 2, 3, 4}, []int32{0, 1, 2, 3}, []int32{3, 4, 3, 4}, 30, []int32{0, 0, 1, 1}, []int32{0, 0, 0, 0}},
		{"the applicant's own earlier use excluded", []int64{1, 2, 3}, []int32{0, 1, 0}, []int32{3, 3, 3}, 30, []int32{0, 1, 1}, []int32{0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]int32, len(tt.time))
			if err := Others(tt.time, tt.borrower, tt.key, tt.window, got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.others) {
				t.Errorf("Others = %v, want %v", got, tt.others)
			}
			if err := Earlier(tt.time, tt.borrower, tt.window, got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.earlier) {
				t.Errorf("Earlier = %v, want %v", got, tt.earlier)
			}
		})
	}
}

// The counts equal the SQL's definition, evaluated pair by pair.
func TestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		n := 1 + rng.IntN(60)
		nb, nk := 1+rng.IntN(8), 1+rng.IntN(6)
		tm := make([]int64, n)
		b, k := make([]int32, n), make([]int32, n)
		for i := range n {
			tm[i] = int64(rng.IntN(40))
			b[i] = int32(rng.IntN(nb))
			k[i] = int32(rng.IntN(nk+1)) - 1 + int32(100*rng.IntN(2)) // -1, and keys far from zero
		}
		slices.Sort(tm)
		w := int64(rng.IntN(15))
		others, earlier := make([]int32, n), make([]int32, n)
		if err := Others(tm, b, k, w, others); err != nil {
			t.Fatal(err)
		}
		if err := Earlier(tm, b, w, earlier); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			distinct := map[int32]bool{}
			var same int32
			for j := range n {
				if tm[j] >= tm[i] || tm[j] < tm[i]-w {
					continue
				}
				if k[i] >= 0 && k[j] == k[i] && b[j] != b[i] {
					distinct[b[j]] = true
				}
				if b[j] == b[i] {
					same++
				}
			}
			if others[i] != int32(len(distinct)) || earlier[i] != same {
				t.Fatalf("trial %d, application %d: Others %d Earlier %d, want %d and %d", trial, i, others[i], earlier[i], len(distinct), same)
			}
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	out := make([]int32, 2)
	for _, tt := range []struct {
		name     string
		time     []int64
		borrower []int32
		key      []int32
	}{
		{"time not ascending", []int64{2, 1}, []int32{0, 1}, []int32{0, 0}},
		{"negative borrower", []int64{1, 2}, []int32{0, -1}, []int32{0, 0}},
		{"lengths differ", []int64{1, 2}, []int32{0}, []int32{0, 0}},
		{"keys short", []int64{1, 2}, []int32{0, 1}, []int32{0}},
	} {
		if err := Others(tt.time, tt.borrower, tt.key, 1, out); err == nil {
			t.Errorf("%s: Others accepted it", tt.name)
		}
	}
}

func ExampleOthers() {
	// Four applications in time order (days): borrowers 0, 1, 0 and 2,
	// the first three from device 9, the last with no device.
	time := []int64{1, 3, 20, 40}
	borrower := []int32{0, 1, 0, 2}
	device := []int32{9, 9, 9, -1}
	out := make([]int32, 4)
	if err := Others(time, borrower, device, 30, out); err != nil {
		fmt.Println(err)
	}
	fmt.Println("other borrowers on the device in 30 days:", out)
	if err := Earlier(time, borrower, 30, out); err != nil {
		fmt.Println(err)
	}
	fmt.Println("own applications in 30 days:", out)
	// Output:
	// other borrowers on the device in 30 days: [0 1 1 0]
	// own applications in 30 days: [0 0 1 0]
}

// BenchmarkOthers counts 1M applications with mostly unique keys, as a
// book's devices are.
func BenchmarkOthers(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	tm := make([]int64, n)
	bor, key, out := make([]int32, n), make([]int32, n), make([]int32, n)
	for i := range n {
		tm[i] = int64(i) * 60_000_000
		bor[i] = int32(rng.IntN(n * 9 / 10))
		key[i] = int32(rng.IntN(n * 9 / 10))
	}
	b.ResetTimer()
	for range b.N {
		if err := Others(tm, bor, key, 30*86_400_000_000, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "apps/s")
}
