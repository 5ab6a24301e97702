package features

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseCatalog(t *testing.T) {
	good := "SELECT\n  -- feature: inq_30d_total | int | Inquiries in 30 days | strictly before apply_time\n  1 AS inq_30d_total\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		err   string // substring of the error, "" for success
		n     int
	}{
		{"ok", map[string]string{"acard_bureau.sql": good, "prep_x.sql": "-- feature: ignored | int | helper files are not groups | x"}, "", 1},
		{"three fields", map[string]string{"acard_x.sql": "-- feature: a | int | no rule\n"}, "acard_x.sql:1: feature comment needs 4 fields", 0},
		{"bad type", map[string]string{"bcard_x.sql": "\n-- feature: a | float | d | r\n"}, `bcard_x.sql:2: feature a: unknown type "float"`, 0},
		{"bad name", map[string]string{"acard_x.sql": "-- feature: Bad-Name | int | d | r\n"}, "not a lower-case identifier", 0},
		{"duplicate", map[string]string{"acard_a.sql": good, "acard_b.sql": good}, "already defined in acard_a.sql:2", 0},
		{"same name other set", map[string]string{"acard_a.sql": good, "bcard_b.sql": good}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, s := range tc.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			cat, err := ParseCatalog(fsys)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cat.Features) != tc.n {
				t.Fatalf("%d features, want %d", len(cat.Features), tc.n)
			}
			f := cat.Features[0]
			if f.Set != "acard" || f.Group != "acard_a" && f.Group != "acard_bureau" || f.Name != "inq_30d_total" || f.Type != "int" ||
				f.Description != "Inquiries in 30 days" || f.AsOfRule != "strictly before apply_time" || f.SQLType() != "INTEGER" {
				t.Errorf("feature %+v", f)
			}
		})
	}
}

func TestCatalogVersionTracksSQL(t *testing.T) {
	a := fstest.MapFS{"acard_x.sql": {Data: []byte("-- feature: a | int | d | r\nSELECT 1 AS a")}}
	b := fstest.MapFS{"acard_x.sql": {Data: []byte("-- feature: a | int | d | r\nSELECT 2 AS a")}}
	ca, _ := ParseCatalog(a)
	cb, _ := ParseCatalog(b)
	ca2, _ := ParseCatalog(a)
	if ca.Version == cb.Version || ca.Version != ca2.Version || len(ca.Version) != 64 {
		t.Errorf("versions %s %s %s", ca.Version, cb.Version, ca2.Version)
	}
}

// TestDefaultCatalog checks the embedded files: both sets present, the
// groups the stage promises, and that every SQL file on disk is embedded.
func TestDefaultCatalog(t *testing.T) {
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for set, groups := range map[string][]string{
		SetACard: {"acard_application", "acard_asset", "acard_bureau", "acard_fraud", "acard_graph"},
		SetBCard: {"bcard_bureau", "bcard_collection", "bcard_origination", "bcard_repayment"},
	} {
		if got := cat.Groups(set); strings.Join(got, ",") != strings.Join(groups, ",") {
			t.Errorf("%s groups %v, want %v", set, got, groups)
		}
	}
	onDisk, _ := os.ReadDir(".")
	n := 0
	for _, e := range onDisk {
		if strings.HasSuffix(e.Name(), ".sql") {
			n++
		}
	}
	embedded, _ := sqlFiles.ReadDir(".")
	if n != len(embedded) {
		t.Errorf("%d SQL files on disk, %d embedded", n, len(embedded))
	}
}
