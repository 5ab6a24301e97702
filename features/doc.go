// Package features computes qiandun's point-in-time feature snapshots:
// the A-card set (one row per application, each as of its own apply
// time) and the B-card set (one row per active loan at a month end),
// plus application-level fraud flags.
//
// Every feature group is a readable SQL file embedded in the package
// (acard_*.sql, bcard_*.sql). Each feature has a comment line directly
// above the expression that produces it, in the fixed form
//
//	-- feature: <name> | <type> | <description> | <as-of rule>
//
// where type is int (INTEGER), double (DOUBLE), money (DECIMAL(18,2)) or
// category (VARCHAR). The catalog (ParseCatalog, DefaultCatalog) is
// derived from those comments, and its version is the SHA-256 of the
// SQL files, recorded in the stage manifest.
//
// The no-leakage rule holds throughout: a feature as of date d (for the
// A-card, as of the application's apply time t) uses only events strictly
// before d (t). Bureau inquiries and reports carry a date only, so for an
// application they count when dated before the apply date.
//
// Installment payoff and loan closure are not re-derived per snapshot:
// they are perf's intermediate models perf/installment_payoff and
// perf/loan_closure, computed once from all payments, of which a snapshot
// at d keeps only the times before d (payoff only moves forward in time).
// When the lake has no such tables (perf not run) or ingest ran after
// perf, a run computes them once from perf's SQL. Every SQL file names the
// lake tables it reads in a `-- reads:` header line (package sqlreads).
//
// The size of the connected group of borrowers linked through shared
// devices and phones cannot be written in SQL; package graph computes it
// with an incremental union-find over link and outcome events in time
// order, fed with Arrow columns from DuckDB. The fraud group's device and
// phone sharing counts and its velocity are computed from the same
// columns by package sharing: linear in the applications, where SQL
// self-joins on the keys hashed the whole book once per count (the IP's
// sharing, which the graph does not number, stays one such join).
package features
