//go:build duckdb_arrow && killpoints

package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"qiandun/internal/durable"
)

// The disclose stage killed after each publication step while it adds a
// month to a published site: the site, recovered as the next run
// recovers it, shows the earlier commit (May alone) or the new one (May
// and June), whole; the next run, another month's (July), keeps what was
// committed of June; a re-run of June then equals a clean run byte for
// byte; nothing is left behind.
func TestKillDisclose(t *testing.T) {
	bin := killBin(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	qd(t, bin, 0, "", "gen", "--out", raw, "--loans", "400")
	base := filepath.Join(dir, "base")
	lake := filepath.Join(base, "lake")
	qd(t, bin, 0, "", "ingest", "--raw", raw, "--lake", lake)
	qd(t, bin, 0, "", "perf", "--lake", lake, "--as-of", "2023-12-31")
	disclose := func(root, month string) []string {
		return []string{"disclose", "--lake", filepath.Join(root, "lake"), "--month", month, "--out", filepath.Join(root, "site")}
	}
	qd(t, bin, 0, "", disclose(base, "2023-05")...)
	rels := []string{"index.html", "2023-05", "2023-06"}
	old := contents(t, filepath.Join(base, "site"), rels...)
	clean := filepath.Join(dir, "clean")
	cpTree(t, base, clean)
	n, log := steps(t, bin, disclose(clean, "2023-06")...)
	want := contents(t, filepath.Join(clean, "site"), rels...)
	if n < 3 || same(old, want) || len(want) <= len(old) {
		t.Fatalf("%d publication steps (%s); %d files before June, %d after", n, log, len(old), len(want))
	}
	for k := 1; k <= n; k++ {
		root := filepath.Join(dir, fmt.Sprintf("k%d", k))
		cpTree(t, base, root)
		if !qd(t, bin, k, "", disclose(root, "2023-06")...) {
			t.Fatalf("kill point %d: not killed", k)
		}
		// All or nothing as the next run sees it (it recovers first: a
		// kill after the commit point leaves the new month's link to make).
		// (checked on a copy: the run below must do its own recovery).
		seen := filepath.Join(dir, fmt.Sprintf("seen%d", k))
		cpTree(t, filepath.Join(root, "site"), seen)
		if err := durable.Recover(seen); err != nil {
			t.Fatal(err)
		}
		got := contents(t, seen, rels...)
		if !same(got, old) && !same(got, want) {
			t.Fatalf("killed after step %d: the site is neither the earlier commit nor the new one: %v", k, keys(got))
		}
		june := contents(t, seen, "2023-06")
		// The next run may be another month's: the site keeps June (or
		// never had it) and adds July; then June's re-run finishes the job.
		qd(t, bin, 0, "", disclose(root, "2023-07")...)
		if len(contents(t, filepath.Join(root, "site"), "2023-07")) == 0 {
			t.Fatalf("killed after step %d, July: not published", k)
		}
		if !same(contents(t, filepath.Join(root, "site"), "2023-06"), june) {
			t.Fatalf("killed after step %d: publishing July changed what was committed of June (%d files, were %d)",
				k, len(contents(t, filepath.Join(root, "site"), "2023-06")), len(june))
		}
		qd(t, bin, 0, "", disclose(root, "2023-06")...)
		got = contents(t, filepath.Join(root, "site"), "2023-05", "2023-06")
		if !same(got, contents(t, filepath.Join(clean, "site"), "2023-05", "2023-06")) {
			t.Fatalf("killed after step %d, re-run: the site differs from a clean run's", k)
		}
		noDebris(t, fmt.Sprintf("disclose killed after step %d and re-run", k), root)
	}
	t.Logf("disclose: %d kill points", n)
}
