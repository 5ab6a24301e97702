package durable_test

import (
	"fmt"
	"os"
	"path/filepath"

	"qiandun/internal/durable"
)

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "durable-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "manifest.json")
	if err := durable.WriteFile(path, []byte("{}\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	sum, _ := durable.SHA256(path)
	fmt.Println(sum)
	// Output: ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356
}

// A stage writes its tables and its manifest into one Txn; readers see
// them through the ordinary paths once Commit has swapped the pointer.
func ExampleTxn() {
	lake, _ := os.MkdirTemp("", "durable-txn-")
	defer os.RemoveAll(lake)
	tx, err := durable.Begin(lake, "perf")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tx.Abort() // no-op once committed
	dir, _ := tx.Dir("perf/panel")
	os.WriteFile(filepath.Join(dir, "part-0.parquet"), []byte("..."), 0o644)
	os.WriteFile(tx.Path("_manifests/perf.json"), []byte("{}\n"), 0o644)
	tx.Mount("perf", "_manifests/perf.json")
	if err := tx.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	files, _ := filepath.Glob(filepath.Join(lake, "perf", "panel", "*.parquet"))
	link, _ := os.Readlink(filepath.Join(lake, "perf"))
	fmt.Println(len(files), link)
	// Output: 1 _v/perf/current/perf
}
