//go:build duckdb_arrow

package beamfeatures

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/data/perf/panelref"
	"qiandun/features"
)

// column appends one feature of a row to its builder.
type column func(b array.Builder, r *FeatRow)

func intCol(f func(*FeatRow) int32) column {
	return func(b array.Builder, r *FeatRow) { b.(*array.Int32Builder).Append(f(r)) }
}

func moneyCol(f func(*FeatRow) int64) column {
	return func(b array.Builder, r *FeatRow) { b.(*array.Decimal128Builder).Append(decimal128.FromI64(f(r))) }
}

func doubleCol(f func(*FeatRow) (float64, bool)) column {
	return func(b array.Builder, r *FeatRow) {
		if v, ok := f(r); ok {
			b.(*array.Float64Builder).Append(v)
		} else {
			b.AppendNull()
		}
	}
}

// columnsByName are the B-card features this package computes, by catalog
// name. A catalog feature not here is an error (the pipeline refuses to
// write a snapshot that would differ from the DuckDB stage's).
var columnsByName = map[string]column{
	// the spine
	"loan_id":     func(b array.Builder, r *FeatRow) { b.(*array.StringBuilder).Append(r.Loan) },
	"borrower_id": func(b array.Builder, r *FeatRow) { b.(*array.StringBuilder).Append(r.Borrower) },
	"as_of":       func(b array.Builder, r *FeatRow) { b.(*array.Date32Builder).Append(arrow.Date32(r.AsOf)) },
	// bcard_bureau
	"b_inq_since_issue": intCol(func(r *FeatRow) int32 { return r.InqSinceIssue }),
	"b_inq_30d":         intCol(func(r *FeatRow) int32 { return r.Inq30 }),
	"b_inq_90d":         intCol(func(r *FeatRow) int32 { return r.Inq90 }),
	// bcard_collection
	"coll_contacts_3m":        intCol(func(r *FeatRow) int32 { return r.Contacts3 }),
	"coll_contacts_6m":        intCol(func(r *FeatRow) int32 { return r.Contacts6 }),
	"coll_broken_promises_3m": intCol(func(r *FeatRow) int32 { return r.Broken3 }),
	"coll_broken_promises_6m": intCol(func(r *FeatRow) int32 { return r.Broken6 }),
	"coll_lost_contact_3m":    intCol(func(r *FeatRow) int32 { return r.Lost3 }),
	"coll_lost_contact_6m":    intCol(func(r *FeatRow) int32 { return r.Lost6 }),
	"coll_lost_contact_open":  intCol(func(r *FeatRow) int32 { return r.LostOpen }),
	// bcard_origination
	"acard_score_at_origination": doubleCol(func(r *FeatRow) (float64, bool) { return r.Score, r.HasScore }),
	// bcard_repayment
	"dpd_current":         intCol(func(r *FeatRow) int32 { return r.DPD }),
	"dpd_bucket":          func(b array.Builder, r *FeatRow) { b.(*array.StringBuilder).Append(panelref.Bucket(int(r.DPD))) },
	"max_dpd_3m":          intCol(func(r *FeatRow) int32 { return r.Max3 }),
	"max_dpd_6m":          intCol(func(r *FeatRow) int32 { return r.Max6 }),
	"max_dpd_12m":         intCol(func(r *FeatRow) int32 { return r.Max12 }),
	"n_late_installments": intCol(func(r *FeatRow) int32 { return r.NLate }),
	"months_since_delinquency": func(b array.Builder, r *FeatRow) {
		if r.HasMonthsSinceDelq {
			b.(*array.Int32Builder).Append(r.MonthsSinceDelq)
		} else {
			b.AppendNull()
		}
	},
	"paid_to_due_3m":        doubleCol(func(r *FeatRow) (float64, bool) { return r.PaidToDue3, r.HasPaidToDue3 }),
	"paid_to_due_6m":        doubleCol(func(r *FeatRow) (float64, bool) { return r.PaidToDue6, r.HasPaidToDue6 }),
	"principal_paid_share":  doubleCol(func(r *FeatRow) (float64, bool) { return r.PrincipalShare, r.HasPrincipalShare }),
	"outstanding_principal": moneyCol(func(r *FeatRow) int64 { return r.Outstanding }),
	"principal_ahead":       moneyCol(func(r *FeatRow) int64 { return r.Ahead }),
	"n_prepayments":         intCol(func(r *FeatRow) int32 { return r.NPrepay }),
	"months_on_book":        intCol(func(r *FeatRow) int32 { return r.MOB }),
}

// Layout is the B-card snapshot's columns in the DuckDB stage's order
// (loan_id, borrower_id, as_of, then the catalog's groups in file-name
// order) with their Arrow types.
type Layout struct {
	Schema *arrow.Schema
	cols   []column
}

// NewLayout derives the layout from the feature catalog; it fails on a
// catalog feature this package does not compute.
func NewLayout(cat features.Catalog) (Layout, error) {
	fields := []arrow.Field{
		{Name: "loan_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "borrower_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "as_of", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}
	for _, g := range cat.Groups(features.SetBCard) {
		for _, f := range cat.Group(g) {
			t, err := arrowType(f)
			if err != nil {
				return Layout{}, err
			}
			fields = append(fields, arrow.Field{Name: f.Name, Type: t, Nullable: true})
		}
	}
	l := Layout{Schema: arrow.NewSchema(fields, nil)}
	for _, f := range fields {
		c, ok := columnsByName[f.Name]
		if !ok {
			return Layout{}, fmt.Errorf("beamfeatures: the catalog's B-card feature %s has no Beam implementation", f.Name)
		}
		l.cols = append(l.cols, c)
	}
	return l, nil
}

func arrowType(f features.Feature) (arrow.DataType, error) {
	switch f.Type {
	case "int":
		return arrow.PrimitiveTypes.Int32, nil
	case "double":
		return arrow.PrimitiveTypes.Float64, nil
	case "money":
		return &arrow.Decimal128Type{Precision: 18, Scale: 2}, nil
	case "category":
		return arrow.BinaryTypes.String, nil
	}
	return nil, fmt.Errorf("beamfeatures: feature %s: type %q", f.Name, f.Type)
}

// writeFn writes one output file: rows of as-of date Dirs[key/Shards],
// shard key%Shards, sorted by loan, as part-<shard>.parquet (by a
// temporary name and a rename, so a retried bundle rewrites the same
// file).
type writeFn struct {
	Dirs   []string
	Shards int
	layout Layout
}

func (fn *writeFn) Setup() error {
	cat, err := features.DefaultCatalog()
	if err != nil {
		return err
	}
	fn.layout, err = NewLayout(cat)
	return err
}

func (fn *writeFn) ProcessElement(key int, rows func(*FeatRow) bool) error {
	var all []FeatRow
	var r FeatRow
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b FeatRow) int { return cmp.Compare(a.Loan, b.Loan) })
	path := filepath.Join(fn.Dirs[key/fn.Shards], fmt.Sprintf("part-%03d.parquet", key%fn.Shards))
	if err := rowgroups.Write(path, fn.layout.Schema, compress.Codecs.Zstd, len(all), func(b *array.RecordBuilder, i int) {
		for c, col := range fn.layout.cols {
			col(b.Field(c), &all[i])
		}
	}); err != nil {
		return fmt.Errorf("beamfeatures: %w", err)
	}
	return nil
}
