// Package score is the batch scoring stage: it scores every row of a
// feature snapshot (lake mode) or a flat CSV/Parquet file with a
// scorecard artifact and publishes scores.parquet, scores.csv and
// manifest.json atomically under <out>/<as_of>/ (package publish).
//
// Data path: DuckDB reads the input and hands it over as Arrow record
// batches; units of BatchRows rows are scored in parallel in Go with the
// card's own arithmetic (training/scorecard.Lookup, the bins and
// fixed-point points of Model.Score), applied straight to the Arrow
// buffers: numeric bins by a branch-free count of the breaks below the
// value, categories through a per-unit cache of their bins, points summed
// as integers ×10⁴. Reason codes are precomputed priorities (a row's
// reasons are its three lowest), so grade, reasons and decision cross
// back as dictionary indices. The scored batches go back to DuckDB, in
// input order, as an Arrow view that one COPY writes to Parquet
// (snappy), while the CSV, formatted by the workers, is written in order
// by its own goroutine and hashed as it is written.
//
// Refusals (nothing is written): a model whose checksum does not verify,
// a card characteristic missing from the input, or a column whose type
// does not fit the characteristic (a numeric characteristic needs an
// integer, floating-point or DECIMAL column; a categorical one a VARCHAR,
// BOOLEAN or integer column). A value never seen in training takes the
// characteristic's fallback bin (its missing bin if it has one, else its
// lowest-points bin); the rows are counted per characteristic in the
// manifest (fallback_bins).
//
// Monitoring: every run computes the score PSI and each characteristic's
// CSI against the training distribution held in the artifact (package
// monitor), stores them in the manifest and logs a warning above 0.10
// and an alert above 0.25.
package score
