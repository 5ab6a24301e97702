package features_test

import (
	"strings"
	"testing"

	"qiandun/features"
	"qiandun/training/scorecard"
)

// TestReasonCatalogCoversFeatures lists the reason catalog's coverage of
// every A-card and B-card feature (the demo cards' characteristics are
// drawn from these): each has a Chinese and English entry, so no reason
// of a demo card reads as a generated "name in [a, b)". Every catalog
// entry names a feature (no stale entries).
func TestReasonCatalogCoversFeatures(t *testing.T) {
	fc, err := features.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := scorecard.DefaultReasonCatalog()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, set := range []string{features.SetACard, features.SetBCard} {
		var missing []string
		fs := fc.Set(set)
		for _, f := range fs {
			known[f.Name] = true
			if !rc.Has(f.Name) {
				missing = append(missing, f.Name)
			}
		}
		t.Logf("%s: %d of %d features in the reason catalog", set, len(fs)-len(missing), len(fs))
		if len(missing) > 0 {
			t.Errorf("%s: not in training/scorecard/reasons.yaml: %s", set, strings.Join(missing, ", "))
		}
	}
	for name := range rc.Characteristics {
		if !known[name] {
			t.Errorf("reasons.yaml entry %s is no feature", name)
		}
	}
}
