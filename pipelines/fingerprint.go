package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"qiandun/internal/durable"
)

// FileRec is one output file as last fingerprinted: its content hash is
// reused while size and modification time are unchanged, as make and git do.
type FileRec struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModNano int64  `json:"mod_unix_nano"`
	SHA256  string `json:"sha256"`
}

// configSHA returns the sha256 of the stage's typed config (its section
// after expansion, and its defaults) and of the paths it reads and writes.
func configSHA(s *Node) string {
	b, err := json.Marshal(struct {
		Name   string `json:"name"`
		Config Stage  `json:"config"`
		IO     IO     `json:"io"`
	}{s.Name, s.Stage, s.IO})
	if err != nil { // a stage config is plain data
		panic(fmt.Sprintf("stage %s: config fingerprint: %v", s.Name, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// fingerprintOutputs hashes the files under the stage's output paths.
// skip is a directory whose contents are never part of an output (the run
// manifests). prev are the records of the last fingerprint, whose hashes
// are reused for files that did not change size or mtime.
func fingerprintOutputs(outputs []string, skip string, prev []FileRec) (string, []FileRec, error) {
	cache := make(map[string]FileRec, len(prev))
	for _, r := range prev {
		cache[r.Path] = r
	}
	skip = filepath.Clean(skip)
	seen := map[string]bool{}
	var recs []FileRec
	var missing []string
	for _, pat := range outputs {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return "", nil, fmt.Errorf("output %q: %w", pat, err)
		}
		if len(matches) == 0 {
			missing = append(missing, pat)
			continue
		}
		for _, m := range matches {
			// Mounted outputs are links into their commit's version:
			// follow them (names beginning with "_" or "." below m, such
			// as the versions themselves, are never outputs).
			err := durable.WalkFiles(m, func(p string, info fs.FileInfo) error {
				if seen[p] || isTemp(filepath.Base(p)) || under(p, skip) {
					return nil
				}
				seen[p] = true
				r := FileRec{Path: p, Size: info.Size(), ModNano: info.ModTime().UnixNano()}
				if c, ok := cache[p]; ok && c.Size == r.Size && c.ModNano == r.ModNano && c.SHA256 != "" {
					r.SHA256 = c.SHA256
				} else if r.SHA256, err = durable.SHA256(p); err != nil {
					return err
				}
				recs = append(recs, r)
				return nil
			})
			if err != nil {
				return "", nil, fmt.Errorf("fingerprint output %s: %w", m, err)
			}
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Path < recs[j].Path })
	h := sha256.New()
	for _, r := range recs {
		fmt.Fprintf(h, "%s\x00%s\n", r.Path, r.SHA256)
	}
	for _, m := range missing {
		fmt.Fprintf(h, "missing\x00%s\n", m)
	}
	return hex.EncodeToString(h.Sum(nil)), recs, nil
}

// isTemp reports names of files being written by an atomic writer.
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp")
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}
