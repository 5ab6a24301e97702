package disclose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadConfig: the register is read; an empty file or none gives an
// empty register; an unknown key or an empty id is refused naming the
// file.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, text string
		want       []string
		err        string
	}{
		{"register.yaml", "related_parties: [B1, B2]\n", []string{"B1", "B2"}, ""},
		{"empty.yaml", "", nil, ""},
		{"none.yaml", "related_parties: []\n", []string{}, ""},
		{"typo.yaml", "related_party: [B1]\n", nil, "field related_party not found"},
		{"blank.yaml", "related_parties: [B1, '']\n", nil, "related_parties[1] is empty"},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := LoadConfig(p)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got.RelatedParties, c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got.RelatedParties, err, c.want)
		}
	}
	if c, err := LoadConfig(""); err != nil || len(c.RelatedParties) != 0 {
		t.Errorf("no file: %v %v", c, err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}
