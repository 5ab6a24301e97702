//go:build duckdb_arrow && killpoints

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/data/vault"
	"qiandun/internal/durable"
)

// lakeAndVault returns the identity tokens the lake carries — borrowers'
// name, ID-number and phone tokens in applications, lenders' in
// investments — and the tokens its PII vault holds (both sorted; nil when
// there is none).
func lakeAndVault(t *testing.T, root string) (inLake, inVault []string) {
	t.Helper()
	var parts []string
	for table, cols := range map[string]string{
		"applications": "name_token, id_number_token, phone_token",
		"investments":  "lender_name_token, lender_id_number_token, lender_phone_token",
	} {
		if m, _ := filepath.Glob(filepath.Join(root, table, "*.parquet")); len(m) > 0 {
			parts = append(parts, "SELECT unnest(["+cols+"]) AS t FROM read_parquet("+lake.Quote(filepath.Join(root, table, "*.parquet"))+")")
		}
	}
	if len(parts) > 0 {
		db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "300MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query("SELECT DISTINCT t FROM (" + strings.Join(parts, " UNION ALL ") + ") WHERE t IS NOT NULL ORDER BY t")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			inLake = append(inLake, s)
		}
		rows.Close()
	}
	key, err := os.ReadFile(filepath.Join(os.Getenv("QIANDUN_KEY_DIR"), vault.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(root, bytes.TrimSpace(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	inVault = v.Tokens()
	if len(inVault) == 0 {
		inVault = nil
	}
	sort.Strings(inLake)
	return inLake, inVault
}

// agree fails unless the lake's tokens and the vault's are the same set.
func agree(t *testing.T, when, root string) int {
	t.Helper()
	inLake, inVault := lakeAndVault(t, root)
	if strings.Join(inLake, ",") != strings.Join(inVault, ",") {
		t.Fatalf("%s: the lake carries %d identity tokens, the vault holds %d: they disagree", when, len(inLake), len(inVault))
	}
	return len(inLake)
}

// splitRejected moves every other rejected application of raw's
// applications.csv to a second export (no loan refers to it), returned as
// bytes, so that a second ingest brings new identities.
func splitRejected(t *testing.T, raw string) []byte {
	t.Helper()
	p := filepath.Join(raw, "applications.csv")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	keep, moved := []string{lines[0]}, []string{lines[0]}
	n := 0
	for _, l := range lines[1:] {
		if strings.HasSuffix(strings.TrimSpace(l), ",rejected") {
			if n++; n%2 == 0 {
				moved = append(moved, l)
				continue
			}
		}
		keep = append(keep, l)
	}
	if len(moved) < 20 {
		t.Fatalf("only %d rejected applications moved", len(moved)-1)
	}
	if err := os.WriteFile(p, []byte(strings.Join(keep, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Join(moved, ""))
}

// The PII vault is committed with the ingest (issue 16): a second ingest
// bringing new identities is killed after each publication step; after
// recovery the lake and the vault are those of one commit (the first
// ingest's or the second's, whole) and carry the same tokens, and the
// re-run finishes with both equal to an uninterrupted run's. Then `vault
// rotate` killed after each step leaves the vault usable with the old key
// or the new one, and the tables untouched.
func TestKillIngestVault(t *testing.T) {
	bin := killBin(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	qd(t, bin, 0, "", "gen", "--out", raw, "--loans", "300")
	second := splitRejected(t, raw)
	ingest := func(lk string) []string {
		return []string{"ingest", "--raw", raw, "--lake", lk, "--max-reject-rate", "0.2"}
	}
	base := filepath.Join(dir, "base")
	qd(t, bin, 0, "", ingest(filepath.Join(base, "lake"))...)
	nBase := agree(t, "first ingest", filepath.Join(base, "lake"))
	if err := os.WriteFile(filepath.Join(raw, "applications-2.csv"), second, 0o644); err != nil {
		t.Fatal(err)
	}
	// The vault's bytes differ run to run (a fresh nonce per value): it is
	// compared by its tokens (agree), the rest by content.
	rels := append(append([]string{}, lakeTables...), "_quarantine")
	before := contents(t, filepath.Join(base, "lake"), rels...)

	clean := filepath.Join(dir, "clean")
	cpTree(t, base, clean)
	n, log := steps(t, bin, ingest(filepath.Join(clean, "lake"))...)
	if n < 3 {
		t.Fatalf("ingest has %d publication steps:\n%s", n, log)
	}
	if target, err := os.Readlink(vault.Path(filepath.Join(clean, "lake"))); err != nil || !strings.Contains(target, filepath.Join(durable.VersionsDir, vault.Chain, "current")) {
		t.Fatalf("the vault is not a mount of the ingest commit: %q, %v", target, err)
	}
	want := contents(t, filepath.Join(clean, "lake"), rels...)
	nClean := agree(t, "second ingest", filepath.Join(clean, "lake"))
	if nClean <= nBase {
		t.Fatalf("the second ingest added no identities (%d, then %d)", nBase, nClean)
	}
	for k := 1; k <= n; k++ {
		root := filepath.Join(dir, fmt.Sprintf("k%d", k))
		cpTree(t, base, root)
		lk := filepath.Join(root, "lake")
		if !qd(t, bin, k, "", ingest(lk)...) {
			t.Fatalf("kill point %d: not killed", k)
		}
		if err := durable.Recover(lk); err != nil {
			t.Fatal(err)
		}
		got := contents(t, lk, rels...)
		if !same(got, before) && !same(got, want) {
			t.Fatalf("killed after step %d: the lake is neither the first commit nor the second", k)
		}
		if m := agree(t, fmt.Sprintf("killed after step %d", k), lk); (m == nBase) != same(got, before) {
			t.Fatalf("killed after step %d: the vault holds %d tokens, the lake is the other commit's", k, m)
		}
		qd(t, bin, 0, "", ingest(lk)...)
		if got := contents(t, lk, rels...); !same(got, want) {
			t.Fatalf("killed after step %d, re-run: %v, want %v", k, keys(got), keys(want))
		}
		if m := agree(t, fmt.Sprintf("killed after step %d, re-run", k), lk); m != nClean {
			t.Fatalf("killed after step %d, re-run: the vault holds %d tokens, want %d", k, m, nClean)
		}
		noDebris(t, fmt.Sprintf("ingest killed after step %d and re-run", k), root)
	}
	t.Logf("ingest with new identities: %d kill points; %d tokens, then %d", n, nBase, nClean)

	// vault rotate, killed after each step.
	keyDir := os.Getenv("QIANDUN_KEY_DIR")
	newKey := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newKey, []byte("rotated-vault-key-0123456789abcdef-0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	rotate := func(lk string) []string { return []string{"vault", "rotate", "--lake", lk, "--new-key-file", newKey} }
	rn, rlog := steps(t, bin, rotate(filepath.Join(clean, "lake"))...)
	if rn < 3 {
		t.Fatalf("vault rotate has %d publication steps:\n%s", rn, rlog)
	}
	tables := contents(t, filepath.Join(clean, "lake"), lakeTables...)
	for k := 1; k <= rn; k++ {
		root := filepath.Join(dir, fmt.Sprintf("r%d", k))
		cpTree(t, base, root)
		lk := filepath.Join(root, "lake")
		qd(t, bin, 0, "", ingest(lk)...)
		if !qd(t, bin, k, "", rotate(lk)...) {
			t.Fatalf("rotate kill point %d: not killed", k)
		}
		if err := durable.Recover(lk); err != nil {
			t.Fatal(err)
		}
		oldK, _ := os.ReadFile(filepath.Join(keyDir, vault.KeyFileName))
		newK, _ := os.ReadFile(newKey)
		vOld, errOld := vault.Open(lk, bytes.TrimSpace(oldK), nil)
		vNew, errNew := vault.Open(lk, bytes.TrimSpace(newK), nil)
		switch {
		case errOld == nil && vOld.Len() == nClean:
		case errNew == nil && vNew.Len() == nClean:
		default:
			t.Fatalf("rotate killed after step %d: the vault opens with neither key whole (old: %v, new: %v)", k, errOld, errNew)
		}
		if got := contents(t, lk, lakeTables...); !same(got, tables) {
			t.Fatalf("rotate killed after step %d: the tables changed", k)
		}
	}
	t.Logf("vault rotate: %d kill points", rn)
}
