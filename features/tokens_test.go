package features

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/lake"
	"qiandun/internal/durable"
)

// The fraud features link applications by device, phone and IP. Since
// device ids and IPs became personal information they are compared as
// tokens: this test builds the A-card features twice on one generated
// book — once on the tokenised lake ingest writes, once on a copy whose
// device_id_token and ip_token columns hold the clear values from the raw
// export, as the lake held them before — and requires every feature of
// every application to be the same.
func TestFraudFeaturesSameOnTokens(t *testing.T) {
	ctx := context.Background()
	raw, tok := t.TempDir(), t.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed = 3000, 5
	if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: tok, MaxRejectRate: 0.01,
		Key: []byte("test-key-0123456789abcdef-0123456789"), DB: lake.DBOptions{MemoryLimit: "1GB", Threads: 2}, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}

	clear := t.TempDir()
	if err := copyTables(tok, clear); err != nil {
		t.Fatal(err)
	}
	apps, err := filepath.Glob(filepath.Join(raw, "applications*"))
	if err != nil || len(apps) != 1 {
		t.Fatalf("raw applications export: %v %v", apps, err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := lake.New(clear).TableDir("applications")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir, 0o755)
	if _, err := db.Exec(fmt.Sprintf(`COPY (
  SELECT a.* REPLACE (nullif(trim(r.device_id), '') AS device_id_token, nullif(trim(r.ip), '') AS ip_token)
  FROM read_parquet(%s) a
  JOIN read_csv(%s, header = true, all_varchar = true) r USING (application_id)
) TO %s (FORMAT parquet)`, lake.Quote(lake.New(tok).Glob("applications")), lake.Quote(apps[0]), lake.Quote(filepath.Join(dir, "part-0.parquet")))); err != nil {
		t.Fatal(err)
	}
	var n, clearIPs int
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE ip_token LIKE '%%.%%.%%.%%') FROM read_parquet(%s)`,
		lake.Quote(filepath.Join(dir, "part-0.parquet")))).Scan(&n, &clearIPs); err != nil {
		t.Fatal(err)
	}
	if n == 0 || clearIPs == 0 {
		t.Fatalf("the clear copy has %d applications, %d clear IPs", n, clearIPs)
	}

	onTokens := buildSnapshot(t, tok, SetACard, "2024-01-01")
	onClear := buildSnapshot(t, clear, SetACard, "2024-01-01")
	if len(onTokens) != n || len(onClear) != n {
		t.Fatalf("%d applications, features for %d on tokens and %d on clear values", n, len(onTokens), len(onClear))
	}
	shared := map[string]int{}
	for id, want := range onClear {
		got := onTokens[id]
		if !reflect.DeepEqual(got, want) {
			for c := range want {
				if !reflect.DeepEqual(got[c], want[c]) {
					t.Errorf("application %s: %s = %v on tokens, %v on clear values", id, c, got[c], want[c])
				}
			}
		}
		for _, c := range []string{"device_shared_borrowers_30d", "ip_shared_borrowers_30d", "phone_shared_borrowers_30d"} {
			if v, _ := num(want[c]); v > 0 {
				shared[c]++
			}
		}
		if v, _ := num(want["link_group_size"]); v > 1 {
			shared["link_group_size"]++
		}
	}
	t.Logf("applications with a shared device, IP, phone, or in a group: %v of %d", shared, n)
	for _, c := range []string{"device_shared_borrowers_30d", "ip_shared_borrowers_30d", "link_group_size"} {
		if shared[c] == 0 {
			t.Errorf("no application has %s > 0 on the clear values: the comparison proves nothing", c)
		}
	}
}

// copyTables copies the lake's tables (not its _-prefixed directories).
func copyTables(from, to string) error {
	// The tables are links into the ingest commit's version: follow them.
	return durable.WalkFiles(from, func(p string, _ fs.FileInfo) error {
		rel, _ := filepath.Rel(from, p)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}
