// Package synthbook writes small synthetic credit books for tests: four
// characteristics x1..x4 uniform on [0, 1) (rounded to 0.001) and a bad
// flag drawn with the log odds a test gives, deterministic by seed.
package synthbook

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
)

// Write writes n rows "x1,x2,x3,x4,bad" (with a header) to w, bad drawn
// as 1 with probability 1/(1+exp(−logit(x))).
func Write(w io.Writer, n int, seed uint64, logit func(x [4]float64) float64) error {
	r := rand.New(rand.NewPCG(seed, 7))
	b := bufio.NewWriter(w)
	b.WriteString("x1,x2,x3,x4,bad\n")
	for range n {
		var x [4]float64
		for k := range x {
			x[k] = math.Round(r.Float64()*1000) / 1000
		}
		y := 0
		if r.Float64() < 1/(1+math.Exp(-logit(x))) {
			y = 1
		}
		fmt.Fprintf(b, "%g,%g,%g,%g,%d\n", x[0], x[1], x[2], x[3], y)
	}
	return b.Flush()
}

// WriteFile writes the book of Write to path.
func WriteFile(path string, n int, seed uint64, logit func(x [4]float64) float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, n, seed, logit); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// XOR is the log odds of a pure interaction of x1 and x2 (risky when both
// are on the same side of 0.5; neither has a main effect) plus a main
// effect of x3.
func XOR(x [4]float64) float64 {
	s := 1.5
	if (x[0] < 0.5) != (x[1] < 0.5) {
		s = -1.5
	}
	return -1 + s + 0.8*x[2]
}
