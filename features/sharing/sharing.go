// Package sharing counts, for each application of a book in time order,
// the other borrowers who applied with the same key (a device, a phone,
// an IP) in a trailing window, and the borrower's own earlier
// applications in a window: the A-card's sharing and velocity checks.
//
// Keys and borrowers are dense integer numbers (the link graph's node
// numbers), so each count is a counting sort by key and one sliding
// window over each key's applications: linear in the applications,
// where the same counts in SQL are self-joins that hash every
// application of the book.
package sharing

import (
	"errors"
	"fmt"
	"slices"
)

// Others sets out[i] to the number of distinct borrowers other than
// borrower[i] among the applications j with key[j] == key[i] and
// time[i]-window <= time[j] < time[i]. A key below zero is missing, and
// its count is 0. time must be ascending; borrower numbers must not be
// negative. All slices have the same length.
func Others(time []int64, borrower, key []int32, window int64, out []int32) error {
	if err := check(time, borrower, out); err != nil {
		return err
	}
	if len(key) != len(time) {
		return fmt.Errorf("sharing: %d keys for %d applications", len(key), len(time))
	}
	nb := int32(0)
	for _, b := range borrower {
		nb = max(nb, b+1)
	}
	// seen[b] is how many applications of borrower b the window holds;
	// distinct is how many borrowers it holds.
	seen := make([]int32, nb)
	start, order := byKey(key)
	clear(out)
	for k := 0; k+1 < len(start); k++ {
		apps := order[start[k]:start[k+1]]
		if len(apps) < 2 {
			continue
		}
		distinct := int32(0)
		lo, hi := 0, 0 // the window is apps[lo:hi]
		for _, x := range apps {
			t := time[x]
			for ; hi < len(apps) && time[apps[hi]] < t; hi++ {
				if b := borrower[apps[hi]]; seen[b] == 0 {
					distinct++
					seen[b] = 1
				} else {
					seen[b]++
				}
			}
			for ; lo < hi && time[apps[lo]] < t-window; lo++ {
				if b := borrower[apps[lo]]; seen[b] == 1 {
					distinct--
					seen[b] = 0
				} else {
					seen[b]--
				}
			}
			n := distinct
			if seen[borrower[x]] > 0 {
				n--
			}
			out[x] = n
		}
		for _, x := range apps[lo:hi] {
			seen[borrower[x]] = 0
		}
	}
	return nil
}

// Earlier sets out[i] to the number of applications j with
// borrower[j] == borrower[i] and time[i]-window <= time[j] < time[i].
// time must be ascending; borrower numbers must not be negative.
func Earlier(time []int64, borrower []int32, window int64, out []int32) error {
	if err := check(time, borrower, out); err != nil {
		return err
	}
	start, order := byKey(borrower)
	for k := 0; k+1 < len(start); k++ {
		apps := order[start[k]:start[k+1]]
		lo, hi := 0, 0
		for _, x := range apps {
			t := time[x]
			for hi < len(apps) && time[apps[hi]] < t {
				hi++
			}
			for lo < hi && time[apps[lo]] < t-window {
				lo++
			}
			out[x] = int32(hi - lo)
		}
	}
	return nil
}

func check(time []int64, borrower, out []int32) error {
	if len(borrower) != len(time) || len(out) != len(time) {
		return fmt.Errorf("sharing: %d borrowers and %d outputs for %d applications", len(borrower), len(out), len(time))
	}
	if len(time) > 1<<31-1 {
		return errors.New("sharing: more than 2^31-1 applications")
	}
	for i, b := range borrower {
		if b < 0 {
			return fmt.Errorf("sharing: application %d has borrower %d", i, b)
		}
		if i > 0 && time[i] < time[i-1] {
			return fmt.Errorf("sharing: application %d is earlier than the one before it", i)
		}
	}
	return nil
}

// byKey sorts the applications by key (a counting sort, so each key's
// are in ascending order): key k's are order[start[k-lo]:start[k-lo+1]],
// lo the least key. Missing keys are left out.
func byKey(key []int32) (start, order []int32) {
	lo, hi := int32(-1), int32(-1)
	for _, k := range key {
		if k < 0 {
			continue
		}
		if lo < 0 || k < lo {
			lo = k
		}
		hi = max(hi, k)
	}
	if lo < 0 {
		return nil, nil
	}
	start = make([]int32, int(hi-lo)+2)
	for _, k := range key {
		if k >= 0 {
			start[k-lo+1]++
		}
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	order = make([]int32, start[len(start)-1])
	next := slices.Clone(start[:len(start)-1])
	for i, k := range key {
		if k >= 0 {
			order[next[k-lo]] = int32(i)
			next[k-lo]++
		}
	}
	return start, order
}
