package lake

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestViews(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"loans/part-0.parquet",
		"perf/panel/part-0.parquet",
		"features/acard/as_of=2019-06-30/part-0.parquet",
		"features/acard/as_of=2019-07-31/part-0.parquet",
		"_quarantine/loans/x.parquet",
		"_tmp/ingest-1/loans/part-0.parquet",
		"notes/readme.txt",
		"top.parquet",
	} {
		f := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, nil, 0o644)
	}
	vs, err := New(root).Views()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Name+"="+v.Dir)
	}
	want := "features_acard=features/acard loans=loans perf_panel=perf/panel"
	if strings.Join(got, " ") != want {
		t.Errorf("views %v, want %s", got, want)
	}
	if !strings.Contains(vs[0].Expr, "hive_partitioning = true") || !strings.Contains(vs[0].Expr, filepath.Join("acard", "*", "*.parquet")) {
		t.Errorf("partitioned view reads %s", vs[0].Expr)
	}
	if strings.Contains(vs[1].Expr, "hive") {
		t.Errorf("plain view reads %s", vs[1].Expr)
	}
	if _, err := New(filepath.Join(root, "nope")).Views(); err == nil {
		t.Error("no error for a missing lake")
	}
}
