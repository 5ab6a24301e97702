package hugepage_test

import (
	"fmt"
	"testing"

	"qiandun/internal/hugepage"
)

func ExampleMake() {
	col := hugepage.Make[float64](0, 1_000_000) // 8 MB: advised
	col = append(col, 1.5, 2.5)
	fmt.Println(len(col), cap(col))
	// Output: 2 1000000
}

func TestMake(t *testing.T) {
	for _, tc := range []struct{ n, c, wantCap int }{
		{0, 0, 0},
		{3, 0, 3},
		{3, 10, 10},
		{10, 3, 10}, // capacity below length: the length
		{1 << 20, 0, 1 << 20},
		{0, 1 << 20, 1 << 20},
	} {
		s := hugepage.Make[int64](tc.n, tc.c)
		if len(s) != tc.n || cap(s) != tc.wantCap {
			t.Errorf("Make(%d, %d): len %d cap %d, want %d, %d", tc.n, tc.c, len(s), cap(s), tc.n, tc.wantCap)
		}
		for i, v := range s {
			if v != 0 {
				t.Fatalf("Make(%d, %d)[%d] = %d, want 0", tc.n, tc.c, i, v)
			}
		}
	}
}
