package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Hidden reports whether a file name is never data: names beginning with
// "_" or "." (a commit root's _v, _tmp, _quarantine, _manifests, _lock,
// temporary files).
func Hidden(name string) bool {
	return strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".")
}

// maxWalkDepth bounds WalkFiles against a cycle of links.
const maxWalkDepth = 64

// WalkFiles calls fn for every regular file under root, in lexical order,
// following symbolic links as a reader does (filepath.WalkDir does not, so
// it would not see a commit's mounted outputs). Entries below root whose
// name is Hidden are skipped, and so are links that point at nothing.
func WalkFiles(root string, fn func(path string, info fs.FileInfo) error) error {
	st, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fn(root, st)
	}
	return walkFiles(root, 0, fn)
}

func walkFiles(dir string, depth int, fn func(string, fs.FileInfo) error) error {
	if depth > maxWalkDepth {
		return fmt.Errorf("walk %s: too deep (a cycle of links?)", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		if Hidden(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a dangling link
		}
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := walkFiles(p, depth+1, fn); err != nil {
				return err
			}
			continue
		}
		if st.Mode().IsRegular() {
			if err := fn(p, st); err != nil {
				return err
			}
		}
	}
	return nil
}
