package civil

import (
	"testing"
	"time"
)

// TestAgainstTime checks Days, Date, DaysIn and IsLeap against the time
// package on every day from 1600 to 2400 (leap centuries, the epoch, and
// dates before it).
func TestAgainstTime(t *testing.T) {
	for day := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() <= 2400; day = day.AddDate(0, 0, 1) {
		y, m, d := day.Year(), int(day.Month()), day.Day()
		want := int(day.Unix() / 86400) // midnight UTC: an exact multiple
		if got := Days(y, m, d); got != want {
			t.Fatalf("Days(%d, %d, %d) = %d, want %d", y, m, d, got, want)
		}
		if gy, gm, gd := Date(want); gy != y || gm != m || gd != d {
			t.Fatalf("Date(%d) = %d-%d-%d, want %d-%d-%d", want, gy, gm, gd, y, m, d)
		}
		if d == 1 {
			if got, want := DaysIn(y, m), time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
				t.Fatalf("DaysIn(%d, %d) = %d, want %d", y, m, got, want)
			}
			if got, want := IsLeap(y), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366; m == 1 && got != want {
				t.Fatalf("IsLeap(%d) = %v", y, got)
			}
		}
	}
}
