package features_test

import (
	"fmt"
	"testing/fstest"

	"qiandun/features"
)

// A feature group is a SQL file; the comment above each expression is its
// catalog entry.
func ExampleParseCatalog() {
	fsys := fstest.MapFS{"acard_bureau.sql": {Data: []byte(`SELECT app_idx,
    -- feature: inq_7d_total | int | Bureau inquiries in the 7 days before the apply date | query_date in [apply_date - 7, apply_date)
    count(*) AS inq_7d_total
FROM inq GROUP BY app_idx`)}}
	cat, err := features.ParseCatalog(fsys)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range cat.Features {
		fmt.Printf("%s %s.%s %s (%s): %s\n", f.Set, f.Group, f.Name, f.Type, f.SQLType(), f.AsOfRule)
	}
	// Output: acard acard_bureau.inq_7d_total int (INTEGER): query_date in [apply_date - 7, apply_date)
}
