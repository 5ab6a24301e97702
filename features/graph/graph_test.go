package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCompute(t *testing.T) {
	// Borrowers 0..3, devices 4..5, phones 6..7.
	//
	//	t=1  b0 d4 p6   alone                       -> size 1
	//	t=2  b1 d4 p7   joins b0 via d4             -> size 2
	//	t=2  b2 d5 p7   same instant as b1: p7 not yet linked -> size 1
	//	t=3  b3 d5 -    b2's group {b0,b1,b2} via p7 after t=2 -> size 4
	//	t=4  b0 -  -    b0's group is everyone      -> size 4
	// Outcomes: b1 good at 2 (counts from t=3), b2 bad at 3 (counts from t=4),
	// b1 bad at 4 (not before t=4).
	l := Links{
		Time:     []int64{1, 2, 2, 3, 4},
		Borrower: []int32{0, 1, 2, 3, 0},
		Device:   []int32{4, 4, 5, 5, -1},
		Phone:    []int32{6, 7, 7, -1, -1},
	}
	o := Outcomes{
		Borrower:  []int32{1, 2},
		GoodTime:  []int64{2, 0},
		GoodValid: []bool{true, false},
		BadTime:   []int64{4, 3},
		BadValid:  []bool{true, true},
	}
	res, err := Compute(8, 4, l, o)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		GroupSize: []int32{1, 2, 1, 4, 4},
		KnownBad:  []int32{0, 0, 0, 0, 1},
		KnownGood: []int32{0, 0, 0, 1, 1},
	}
	if !slices.Equal(res.GroupSize, want.GroupSize) || !slices.Equal(res.KnownBad, want.KnownBad) || !slices.Equal(res.KnownGood, want.KnownGood) {
		t.Errorf("got %+v\nwant %+v", res, want)
	}
}

// TestComputeMatchesBruteForce checks the one-pass union-find against a
// from-scratch graph search for every application of random event streams.
func TestComputeMatchesBruteForce(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		const nb, nd, np, n = 30, 10, 10, 80
		l, o := randomEvents(rng, nb, nd, np, n, 2) // pairs of simultaneous applications
		res, err := Compute(nb+nd+np, nb, l, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			size, bad, good := brute(nb+nd+np, nb, l, o, i)
			if res.GroupSize[i] != size || res.KnownBad[i] != bad || res.KnownGood[i] != good {
				t.Fatalf("seed %d app %d: got size %d bad %d good %d, want %d %d %d", seed, i,
					res.GroupSize[i], res.KnownBad[i], res.KnownGood[i], size, bad, good)
			}
		}
	}
}

// brute answers application i by a graph search over the links of
// applications strictly earlier in time plus i's own.
func brute(nodes, nb int, l Links, o Outcomes, i int) (size, bad, good int32) {
	adj := make([][]int32, nodes)
	add := func(j int) {
		for _, x := range []int32{l.Device[j], l.Phone[j]} {
			if x >= 0 {
				adj[l.Borrower[j]] = append(adj[l.Borrower[j]], x)
				adj[x] = append(adj[x], l.Borrower[j])
			}
		}
	}
	for j := range l.Time {
		if l.Time[j] < l.Time[i] {
			add(j)
		}
	}
	add(i)
	seen := make([]bool, nodes)
	stack := []int32{l.Borrower[i]}
	seen[l.Borrower[i]] = true
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, y := range adj[x] {
			if !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	t := l.Time[i]
	for k, b := range o.Borrower {
		if !seen[b] || b == l.Borrower[i] {
			continue
		}
		switch {
		case o.BadValid[k] && o.BadTime[k] < t:
			bad++
		case o.GoodValid[k] && o.GoodTime[k] < t:
			good++
		}
	}
	for b := range nb {
		if seen[b] {
			size++
		}
	}
	return size, bad, good
}

func ExampleCompute() {
	// Two borrowers (0, 1) share device 2; borrower 0 was known bad at t=5.
	l := Links{Time: []int64{1, 10}, Borrower: []int32{0, 1}, Device: []int32{2, 2}, Phone: []int32{-1, -1}}
	o := Outcomes{Borrower: []int32{0}, BadTime: []int64{5}, BadValid: []bool{true}, GoodTime: []int64{0}, GoodValid: []bool{false}}
	res, _ := Compute(3, 2, l, o)
	fmt.Println(res.GroupSize, res.KnownBad, res.KnownGood)
	// Output: [1 2] [0 1] [0 0]
}

func TestComputeRejectsBadInput(t *testing.T) {
	ok := Links{Time: []int64{1, 2}, Borrower: []int32{0, 1}, Device: []int32{2, -1}, Phone: []int32{-1, -1}}
	for name, tc := range map[string]struct {
		l Links
		o Outcomes
	}{
		"device out of range": {Links{Time: []int64{1}, Borrower: []int32{0}, Device: []int32{9}, Phone: []int32{-1}}, Outcomes{}},
		"borrower missing":    {Links{Time: []int64{1}, Borrower: []int32{-1}, Device: []int32{2}, Phone: []int32{-1}}, Outcomes{}},
		"device as borrower":  {Links{Time: []int64{1}, Borrower: []int32{2}, Device: []int32{-1}, Phone: []int32{-1}}, Outcomes{}},
		"not in time order":   {Links{Time: []int64{2, 1}, Borrower: []int32{0, 1}, Device: []int32{-1, -1}, Phone: []int32{-1, -1}}, Outcomes{}},
		"short column":        {Links{Time: []int64{1, 2}, Borrower: []int32{0}, Device: []int32{2}, Phone: []int32{-1}}, Outcomes{}},
		"outcome not a borrower": {ok, Outcomes{Borrower: []int32{2}, BadTime: []int64{0}, BadValid: []bool{true},
			GoodTime: []int64{0}, GoodValid: []bool{false}}},
	} {
		if _, err := Compute(3, 2, tc.l, tc.o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Compute(3, 2, ok, Outcomes{}); err != nil {
		t.Errorf("valid input: %v", err)
	}
}

// TestComputeIgnoresNumbering: prep_graph_borrowers.sql and
// prep_graph_links.sql number borrowers, devices and phones in no
// particular order, so the result must be the same under any
// renumbering of the borrowers among themselves and of the devices and
// phones among themselves.
func TestComputeIgnoresNumbering(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 11))
		const nb, nd, np, n = 40, 12, 12, 120
		l, o := randomEvents(rng, nb, nd, np, n, 3)
		want, err := Compute(nb+nd+np, nb, l, o)
		if err != nil {
			t.Fatal(err)
		}
		// Devices and phones share one permuted range of node numbers;
		// borrowers another.
		perm, bperm := rng.Perm(nd+np), rng.Perm(nb)
		renum := func(x int32) int32 {
			if x < 0 {
				return x
			}
			return int32(nb + perm[int(x)-nb])
		}
		p := Links{Time: l.Time}
		for i := range n {
			p.Borrower = append(p.Borrower, int32(bperm[l.Borrower[i]]))
			p.Device, p.Phone = append(p.Device, renum(l.Device[i])), append(p.Phone, renum(l.Phone[i]))
		}
		q := o
		q.Borrower = nil
		for _, b := range o.Borrower {
			q.Borrower = append(q.Borrower, int32(bperm[b]))
		}
		got, err := Compute(nb+nd+np, nb, p, q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.GroupSize, want.GroupSize) || !slices.Equal(got.KnownBad, want.KnownBad) || !slices.Equal(got.KnownGood, want.KnownGood) {
			t.Fatalf("seed %d: results change when the nodes are renumbered", seed)
		}
	}
}

// randomEvents draws n applications by nb borrowers, each with one of nd
// devices and one of np phones three times in four (else none), k
// applications to a time step, and for every borrower a good and a bad
// outcome time, valid one time in two and one in three.
func randomEvents(rng *rand.Rand, nb, nd, np, n, k int) (Links, Outcomes) {
	var l Links
	for i := range n {
		l.Time = append(l.Time, int64(i/k))
		l.Borrower = append(l.Borrower, int32(rng.IntN(nb)))
		dev, ph := int32(-1), int32(-1)
		if rng.IntN(4) > 0 {
			dev = int32(nb + rng.IntN(nd))
		}
		if rng.IntN(4) > 0 {
			ph = int32(nb + nd + rng.IntN(np))
		}
		l.Device, l.Phone = append(l.Device, dev), append(l.Phone, ph)
	}
	var o Outcomes
	for b := range nb {
		o.Borrower = append(o.Borrower, int32(b))
		o.GoodTime, o.GoodValid = append(o.GoodTime, int64(rng.IntN(n/k))), append(o.GoodValid, rng.IntN(2) == 0)
		o.BadTime, o.BadValid = append(o.BadTime, int64(rng.IntN(n/k))), append(o.BadValid, rng.IntN(3) == 0)
	}
	return l, o
}
