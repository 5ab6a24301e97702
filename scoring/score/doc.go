// Package score is the batch scoring stage: it scores every row of a
// feature snapshot (lake mode) or a flat CSV/Parquet file with a
// scorecard artifact and publishes scores.parquet, scores.csv and
// manifest.json atomically under <out>/<as_of>/ (package publish).
//
// Data path: the input query runs on a private streaming DuckDB
// (internal/duckstream), which hands its rows over as Arrow record
// batches while it scans; units of BatchRows rows are scored in parallel
// in Go with the card's own arithmetic (training/scorecard.Lookup, the
// bins and fixed-point points of Model.Score), applied straight to the
// Arrow buffers a tile of 2,048 rows at a time: numeric bins by comparisons
// unrolled for the card's number of breaks, categories through a per-unit
// cache keyed by their bytes, points summed as integers. Reason codes are
// precomputed priorities (a row's reasons are its three lowest). The
// scored units are written in input order: scores.parquet by arrow-go's
// Parquet writer, the grade, reason, decision and constant columns as
// dictionary arrays whose indices are the scorer's codes; scores.csv,
// rendered by the workers, by its own goroutine. Both files are hashed as
// they are written and written with direct I/O where the file system
// allows (package publish).
//
// Refusals (nothing is written): a model whose checksum does not verify,
// a card characteristic missing from the input, or a column whose type
// does not fit the characteristic (a numeric characteristic needs an
// integer, floating-point or DECIMAL column; a categorical one a VARCHAR,
// BOOLEAN or integer column); and an input that cannot be scored as it
// stands (checks.go): an empty file, a header and no rows, no rows at all
// (unless Options.AllowEmpty), a characteristic NULL in every row, and
// duplicate entity ids (unless Options.AllowDuplicateIDs), each named
// with its file. A value never seen in training takes the
// characteristic's fallback bin (its missing bin if it has one, else its
// lowest-points bin); the rows are counted per characteristic in the
// manifest (fallback_bins).
//
// Monitoring: every run computes the score PSI and each characteristic's
// CSI against the training distribution held in the artifact (package
// monitor), stores them in the manifest and logs a warning above 0.10
// and an alert above 0.25.
package score
