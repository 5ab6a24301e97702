// Package par splits a loop over rows between two goroutines, the two
// cores of the machines qiandun is sized for. The split depends only on
// the number of rows, so a caller that keeps each half's partial sums
// apart and adds them in order gets the same result however the
// goroutines are scheduled.
package par

import "sync"

// Halves runs fn over [0, n) cut in two at n/2: fn(0, n/2) on the
// calling goroutine and fn(n/2, n) on another, and returns when both
// are done. Below two rows it calls fn(0, n) once. fn must write only
// what its half owns.
func Halves(n int, fn func(lo, hi int)) {
	if n < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(n/2, n)
	}()
	fn(0, n/2)
	wg.Wait()
}
