package publish_test

import (
	"fmt"
	"os"
	"path/filepath"

	"qiandun/scoring/publish"
)

// A stage writes its files into the temporary directory, lists them in its
// manifest and commits; a consumer verifies before reading.
func Example() {
	root, _ := os.MkdirTemp("", "publish-example-")
	defer os.RemoveAll(root)
	final := filepath.Join(root, "scores", "2024-01-31")

	d, err := publish.Begin(final)
	if err != nil {
		panic(err)
	}
	defer d.Abort() // no-op after Commit
	if err := d.WriteFile("scores.csv", []byte("entity_id,score\nA1,612\n"), 1); err != nil {
		panic(err)
	}
	files, _ := d.Files()
	if err := d.Commit(map[string]any{"rows": 1, "files": files}); err != nil {
		panic(err)
	}

	got, err := publish.Verify(final)
	fmt.Println(err, got[0].Name, got[0].Rows, got[0].Bytes)
	// Output: <nil> scores.csv 1 23
}
