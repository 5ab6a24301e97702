//go:build duckdb_arrow

package main

import (
	"slices"
	"testing"
)

func TestSnapshotDates(t *testing.T) {
	for _, c := range []struct {
		set, asOf, from, to string
		want                []string // nil: an error
	}{
		{"bcard", "2023-12-31", "", "", []string{"2023-12-31"}},
		{"bcard", "", "2023-11", "2024-02", []string{"2023-11-30", "2023-12-31", "2024-01-31", "2024-02-29"}},
		{"bcard", "", "2023-06", "", []string{"2023-06-30"}},
		{"acard", "2023-12-31", "", "", nil},
		{"bcard", "", "", "", nil},
		{"bcard", "2023-12-31", "2023-01", "", nil},
		{"bcard", "", "2023-13", "", nil},
		{"bcard", "", "2024-02", "2023-11", nil},
	} {
		got, err := snapshotDates(c.set, c.asOf, c.from, c.to)
		if (err != nil) != (c.want == nil) || !slices.Equal(got, c.want) {
			t.Errorf("snapshotDates(%q, %q, %q, %q) = %v, %v; want %v", c.set, c.asOf, c.from, c.to, got, err, c.want)
		}
	}
}
