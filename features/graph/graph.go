// Package graph computes, for each application in time order, the
// connected group of borrowers linked through shared devices and phones
// as the links stood at its apply time, and the outcomes of the other
// borrowers in that group that were known by then.
//
// It is an incremental union-find (path halving, union by size) over a
// merged stream of link events (applications) and outcome events
// (a borrower becomes a known good or a known bad), processed in one pass
// in time order. Each group root keeps the number of borrowers, known
// goods and known bads in its group, so a query is a few finds.
package graph

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Links are the applications in time order, as parallel columns. Node
// numbers are dense: 0..Borrowers-1 are borrowers, the rest devices and
// phones; -1 means missing.
type Links struct {
	Time     []int64 // apply time, any monotone unit (microseconds)
	Borrower []int32
	Device   []int32
	Phone    []int32
}

// Outcomes are when borrowers became known bad or known good. Valid[i]
// false means never (the time is ignored).
type Outcomes struct {
	Borrower  []int32
	BadTime   []int64
	BadValid  []bool
	GoodTime  []int64
	GoodValid []bool
}

// Result holds, per application (same index as Links), the size of its
// borrower group including the applicant and the other borrowers of the
// group known bad and known good strictly before its apply time.
type Result struct {
	GroupSize []int32
	KnownBad  []int32
	KnownGood []int32
}

const (
	unknown int8 = iota
	good
	bad
)

type dsu struct {
	parent []int32
	size   []int32 // borrowers in the group (roots only)
	nBad   []int32
	nGood  []int32
}

func (d *dsu) find(x int32) int32 {
	for d.parent[x] != x {
		d.parent[x] = d.parent[d.parent[x]]
		x = d.parent[x]
	}
	return x
}

func (d *dsu) union(a, b int32) {
	ra, rb := d.find(a), d.find(b)
	if ra == rb {
		return
	}
	if d.size[ra] < d.size[rb] || (d.size[ra] == d.size[rb] && ra > rb) {
		ra, rb = rb, ra
	}
	d.parent[rb] = ra
	d.size[ra] += d.size[rb]
	d.nBad[ra] += d.nBad[rb]
	d.nGood[ra] += d.nGood[rb]
}

type outcomeEvent struct {
	t        int64
	borrower int32
	state    int8
}

// Compute runs the union-find over nodes node numbers, of which the
// first borrowers are borrowers. Links must be sorted by Time.
// Applications with the same time do not see each other's links; an
// outcome event counts for an application only if its time is strictly
// before the application's time.
func Compute(nodes, borrowers int, l Links, o Outcomes) (Result, error) {
	n := len(l.Time)
	if len(l.Borrower) != n || len(l.Device) != n || len(l.Phone) != n {
		return Result{}, errors.New("graph: link columns differ in length")
	}
	ev, err := outcomeEvents(o, borrowers)
	if err != nil {
		return Result{}, err
	}
	d := newDSU(nodes, borrowers)
	state := make([]int8, borrowers)
	res := Result{GroupSize: make([]int32, n), KnownBad: make([]int32, n), KnownGood: make([]int32, n)}
	next := 0
	for i := 0; i < n; {
		t := l.Time[i]
		if i > 0 && t < l.Time[i-1] {
			return Result{}, fmt.Errorf("graph: links not in time order at %d", i)
		}
		// Outcomes known strictly before t.
		for ; next < len(ev) && ev[next].t < t; next++ {
			d.record(ev[next], state)
		}
		// Query every application at time t before linking any of them.
		j := i
		for ; j < n && l.Time[j] == t; j++ {
			if err := checkLink(l, j, nodes, borrowers); err != nil {
				return Result{}, err
			}
			res.GroupSize[j], res.KnownBad[j], res.KnownGood[j] = d.query(l.Borrower[j], l.Device[j], l.Phone[j], state)
		}
		for ; i < j; i++ {
			if l.Device[i] >= 0 {
				d.union(l.Borrower[i], l.Device[i])
			}
			if l.Phone[i] >= 0 {
				d.union(l.Borrower[i], l.Phone[i])
			}
		}
	}
	return res, nil
}

// newDSU is the union-find of nodes singleton nodes; each of the first
// borrowers counts one in its group's size.
func newDSU(nodes, borrowers int) *dsu {
	d := &dsu{
		parent: make([]int32, nodes),
		size:   make([]int32, nodes),
		nBad:   make([]int32, nodes),
		nGood:  make([]int32, nodes),
	}
	for i := range d.parent {
		d.parent[i] = int32(i)
		if i < borrowers {
			d.size[i] = 1
		}
	}
	return d
}

// checkNode validates a node number: optional nodes may be -1.
func checkNode(what string, i int, v int32, limit int, optional bool) error {
	if (v == -1 && optional) || (v >= 0 && int(v) < limit) {
		return nil
	}
	return fmt.Errorf("graph: %s %d: node %d out of range [0,%d)", what, i, v, limit)
}

// checkLink validates application j's borrower, device and phone nodes.
func checkLink(l Links, j, nodes, borrowers int) error {
	if err := checkNode("application borrower", j, l.Borrower[j], borrowers, false); err != nil {
		return err
	}
	if err := checkNode("application device", j, l.Device[j], nodes, true); err != nil {
		return err
	}
	return checkNode("application phone", j, l.Phone[j], nodes, true)
}

// outcomeEvents lists the outcomes' good and bad events in time order;
// a good and a bad at the same instant apply good first, so bad wins.
func outcomeEvents(o Outcomes, borrowers int) ([]outcomeEvent, error) {
	if len(o.BadTime) != len(o.Borrower) || len(o.BadValid) != len(o.Borrower) ||
		len(o.GoodTime) != len(o.Borrower) || len(o.GoodValid) != len(o.Borrower) {
		return nil, errors.New("graph: outcome columns differ in length")
	}
	n := 0
	for i := range o.Borrower {
		n += int(boolInt(o.GoodValid[i]) + boolInt(o.BadValid[i]))
	}
	ev := make([]outcomeEvent, 0, n)
	for i, b := range o.Borrower {
		if err := checkNode("outcome borrower", i, b, borrowers, false); err != nil {
			return nil, err
		}
		if o.GoodValid[i] {
			ev = append(ev, outcomeEvent{o.GoodTime[i], b, good})
		}
		if o.BadValid[i] {
			ev = append(ev, outcomeEvent{o.BadTime[i], b, bad})
		}
	}
	slices.SortFunc(ev, func(a, b outcomeEvent) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.borrower, b.borrower), cmp.Compare(a.state, b.state))
	})
	return ev, nil
}

func boolInt(b bool) int8 {
	if b {
		return 1
	}
	return 0
}

// record applies outcome event e to its borrower's group: a borrower's
// state only moves up (none, good, bad), and a good turned bad leaves the
// group's good count.
func (d *dsu) record(e outcomeEvent, state []int8) {
	old := state[e.borrower]
	if old >= e.state {
		return
	}
	r := d.find(e.borrower)
	if old == good {
		d.nGood[r]--
	}
	if e.state == good {
		d.nGood[r]++
	} else {
		d.nBad[r]++
	}
	state[e.borrower] = e.state
}

// query returns the size and the known bad and good borrowers of the
// union of the groups of borrower b, device dv and phone ph (-1: none),
// the applicant b's own outcome left out.
func (d *dsu) query(b, dv, ph int32, state []int8) (size, nb, ng int32) {
	var roots [3]int32
	k := 0
	for _, x := range [3]int32{b, dv, ph} {
		if x < 0 {
			continue
		}
		r := d.find(x)
		dup := false
		for _, y := range roots[:k] {
			dup = dup || y == r
		}
		if !dup {
			roots[k] = r
			k++
		}
	}
	for _, r := range roots[:k] {
		size += d.size[r]
		nb += d.nBad[r]
		ng += d.nGood[r]
	}
	switch state[b] { // the applicant is not one of the "others"
	case bad:
		nb--
	case good:
		ng--
	}
	return size, nb, ng
}
