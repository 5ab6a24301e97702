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
