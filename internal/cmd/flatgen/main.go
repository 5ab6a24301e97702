// Command flatgen writes the synthetic flat modelling table of the training
// speed floor (package internal/flatgen) as CSV:
//
//	go run ./internal/cmd/flatgen -rows 1000000 -out flat.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"qiandun/internal/flatgen"
)

func main() {
	rows := flag.Int("rows", 1000000, "data rows")
	seed := flag.Uint64("seed", 1, "seed")
	out := flag.String("out", "flat.csv", "output CSV")
	flag.Parse()
	if err := write(*out, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "flatgen:", err)
		os.Exit(1)
	}
}

func write(path string, rows int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := flatgen.Write(f, rows, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
