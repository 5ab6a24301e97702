package features

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/data/schema"
	"qiandun/features/graph"
	"qiandun/features/sharing"
	"qiandun/internal/sqlreads"
)

// Snapshot is what one feature snapshot wrote.
type Snapshot struct {
	Set       string
	AsOf      time.Time
	Rows      int64  // entities in the snapshot
	Path      string // the published as_of=<date> directory
	Flags     int64  // fraud flags (A-card only)
	FlagsPath string
	Seconds   float64
}

// DateString formats a date as YYYY-MM-DD.
func DateString(t time.Time) string { return t.Format(time.DateOnly) }

// Dir returns the directory of the snapshot of set as of the given date.
func Dir(l lake.Lake, set string, asOf time.Time) string {
	return l.TableDir("features/" + set + "/as_of=" + DateString(asOf))
}

// FlagsDir returns the directory of the fraud flags as of the given date.
func FlagsDir(l lake.Lake, asOf time.Time) string {
	return l.TableDir("features/fraud_flags/as_of=" + DateString(asOf))
}

// Builder computes snapshots on one DuckDB connection. It is not safe for
// concurrent use.
type Builder struct {
	Lake lake.Lake
	// Out is where snapshots are written: the staging area of the lake
	// commit that publishes them (lake.Commit.Staged), laid out like Lake.
	Out     lake.Lake
	Catalog Catalog
	Log     *slog.Logger
	conn    *sql.Conn
	views   bool
	// keyJoin makes Build join the A-card groups on the key and sort
	// (tests); positional says whether the last Build wrote the
	// snapshot as a POSITIONAL JOIN.
	keyJoin, positional bool
}

// NewBuilder returns a Builder that works on conn, a connection of a
// DuckDB opened by lake.OpenDB.
func NewBuilder(l lake.Lake, cat Catalog, conn *sql.Conn, log *slog.Logger) *Builder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Builder{Lake: l, Catalog: cat, Log: log, conn: conn}
}

// InputTables are the lake tables the features read: every table ingest
// writes (schema.Tables), in its order, but the custody tables
// (investments, custody_transactions), which no feature reads.
func InputTables() []string {
	var out []string
	for _, t := range schema.Tables() {
		if t.Name != "investments" && t.Name != "custody_transactions" {
			out = append(out, t.Name)
		}
	}
	return out
}

// Intermediates are perf's models the features read (computed in the
// run from the raw tables when the lake has none, see intermediates).
func Intermediates() []string { return []string{"perf/installment_payoff", "perf/loan_closure"} }

func (b *Builder) exec(ctx context.Context, what, q string) error {
	start := time.Now()
	if _, err := b.conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("features: %s: %w", what, err)
	}
	b.Log.Debug("features step", "step", what, "seconds", time.Since(start).Seconds())
	return nil
}

func (b *Builder) execFile(ctx context.Context, table, file string) error {
	q, err := readSQL(file)
	if err != nil {
		return err
	}
	return b.exec(ctx, file, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", lake.Ident(table), q))
}

// setup creates a view per raw lake table (an empty typed table when the
// lake has none of it, with a warning) and the optional scores_acard view.
func (b *Builder) setup(ctx context.Context) error {
	if b.views {
		return nil
	}
	for _, name := range InputTables() {
		t, _ := schema.Lookup(name)
		if scan, err := b.Lake.Scan(name); err == nil {
			if err := b.exec(ctx, "view "+name, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s", name, scan)); err != nil {
				return err
			}
			continue
		}
		if name == "applications" || name == "loans" {
			return fmt.Errorf("features: lake %s has no %s table (run ingest first)", b.Lake.Root, name)
		}
		b.Log.Warn("lake table missing; its features will be empty", "table", name, "dir", b.Lake.TableDir(name))
		if err := b.exec(ctx, "empty "+name, strings.Replace(schema.LakeDDL(t, name), "CREATE TABLE", "CREATE OR REPLACE TABLE", 1)); err != nil {
			return err
		}
	}
	// Hook for the A-card score at origination: <lake>/scores_acard
	// (application_id, score) once scoring writes it.
	q := "CREATE OR REPLACE VIEW scores_acard AS SELECT CAST(NULL AS VARCHAR) AS application_id, CAST(NULL AS DOUBLE) AS score WHERE false"
	if scan, err := b.Lake.Scan("scores_acard"); err == nil {
		q = fmt.Sprintf("CREATE OR REPLACE VIEW scores_acard AS SELECT CAST(application_id AS VARCHAR) AS application_id, CAST(score AS DOUBLE) AS score FROM %s", scan)
	}
	if err := b.exec(ctx, "view scores_acard", q); err != nil {
		return err
	}
	if err := b.exec(ctx, "macros.sql", perf.Macros()); err != nil {
		return err
	}
	if err := b.intermediates(ctx); err != nil {
		return err
	}
	b.views = true
	return nil
}

// intermediates makes perf's intermediate models installment_payoff and
// loan_closure readable: views over the lake's perf/installment_payoff and
// perf/loan_closure, or, when perf has not written them (or ingest ran
// after perf, so they are stale), tables computed here once for the whole
// run from perf's own SQL, so every snapshot of the run reads the same
// model.
func (b *Builder) intermediates(ctx context.Context) error {
	stale := ""
	if ing, err := b.Lake.ReadManifest("ingest"); err == nil {
		if pf, err := b.Lake.ReadManifest("perf"); err == nil && ing.Finished.After(pf.Started) {
			stale = "ingest ran after perf"
		}
	}
	if stale == "" && b.Lake.Exists("perf/installment_payoff") && b.Lake.Exists("perf/loan_closure") {
		for _, v := range [][2]string{{"installment_payoff", "perf/installment_payoff"}, {"loan_closure", "perf/loan_closure"}} {
			if err := b.exec(ctx, "view "+v[1], fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet(%s)", v[0], lake.Quote(b.Lake.Glob(v[1])))); err != nil {
				return err
			}
		}
		return nil
	}
	if stale == "" {
		stale = "perf has not written them"
	}
	b.Log.Warn("features: computing perf/installment_payoff and perf/loan_closure in this run", "reason", stale, "lake", b.Lake.Root)
	for _, v := range [][2]string{{"chunk_loans", "loans"}, {"chunk_schedule", "repayment_schedule"}, {"chunk_repayments", "repayments"}} {
		if err := b.exec(ctx, "view "+v[0], "CREATE OR REPLACE TEMP VIEW "+v[0]+" AS SELECT * FROM "+v[1]); err != nil {
			return err
		}
	}
	for _, v := range [][2]string{{"installment_payoff", "chunk_payoff"}, {"loan_closure", "chunk_closure"}} {
		if err := b.exec(ctx, "perf sql/"+v[0]+".sql", "CREATE OR REPLACE TABLE "+v[0]+" AS\n"+perf.Query(v[0])); err != nil {
			return err
		}
		if err := b.exec(ctx, "view "+v[1], "CREATE OR REPLACE TEMP VIEW "+v[1]+" AS SELECT * FROM "+v[0]); err != nil {
			return err
		}
	}
	return nil
}

// Build computes the snapshot of set as of the date asOf and publishes it
// atomically under <lake>/features/<set>/as_of=<date>/ (and, for the
// A-card, the fraud flags under <lake>/features/fraud_flags/as_of=<date>/).
func (b *Builder) Build(ctx context.Context, set string, asOf time.Time) (_ Snapshot, err error) {
	start := time.Now()
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	snap := Snapshot{Set: set, AsOf: asOf}
	if set != SetACard && set != SetBCard {
		return snap, fmt.Errorf("features: unknown set %q (want acard or bcard)", set)
	}
	if err := b.setup(ctx); err != nil {
		return snap, err
	}
	if err := b.exec(ctx, "as_of", fmt.Sprintf("SET VARIABLE as_of = DATE %s", lake.Quote(DateString(asOf)))); err != nil {
		return snap, err
	}
	horizon := "DATE '9999-12-31'"
	if set == SetACard {
		horizon = "getvariable('as_of')"
	}
	if err := b.exec(ctx, "horizon", "SET VARIABLE installments_due_before = "+horizon); err != nil {
		return snap, err
	}
	key, spine, head, err := b.prep(ctx, set)
	if err != nil {
		return snap, err
	}
	// Each group's SQL, checked against its catalog entries.
	var sel []string
	for _, c := range head {
		sel = append(sel, "s."+c)
	}
	// The A-card snapshot is the POSITIONAL JOIN of the spine's head
	// columns and the group tables, each sorted by app_idx on its own,
	// when every group holds one row per application (checked: each
	// sorted group's app_idx equals the head's at every row). A sort of
	// the snapshot's joined wide rows, which a large book spills, is then
	// not needed: on a 1M-loan book under a tenth of the memory (as a
	// 10M-loan book has) it was 20 s of the stage's 47. Otherwise the
	// groups are joined on the key and the snapshot sorted.
	positional := set == SetACard && !b.keyJoin
	if positional {
		if err := b.sorted(ctx, "sort spine_head", "spine_head", fmt.Sprintf("SELECT %s, %s FROM %s", key, strings.Join(head, ", "), spine), key); err != nil {
			return snap, err
		}
	}
	// The A-card group tables live in a compressed database (see
	// compressedGroups) until the snapshot is written.
	restore := func() error { return nil }
	if set == SetACard {
		if restore, err = b.compressedGroups(ctx); err != nil {
			return snap, err
		}
		defer func() {
			if rerr := restore(); err == nil {
				err = rerr
			}
		}()
	}
	gsel, from, joined, positional, err := b.groupTables(ctx, set, key, spine, positional)
	if err != nil {
		return snap, err
	}
	sel = append(sel, gsel...)
	// The positional write reads only spine_head and the group tables:
	// the spine is dropped first, so DuckDB need not keep it, or write it
	// out to its temporary files to make room, while the snapshot is
	// written.
	if positional {
		if err := b.drop(ctx, spine); err != nil {
			return snap, err
		}
	}
	// Sorted by the entity id: the A-card spine's app_idx is in
	// application_id order and cheaper to sort on.
	order := "s." + head[0]
	if set == SetACard {
		order = "s.app_idx"
	}
	// The snapshot is written straight from the join, sorted: COPY keeps
	// the ORDER BY. (A table of it first held every row in DuckDB's
	// memory, about 1 KB a row, which a large book spills.)
	if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = true"); err != nil {
		return snap, err
	}
	snap.Path = Dir(b.Lake, set, asOf)
	final := fmt.Sprintf("SELECT %s\nFROM %s\nORDER BY %s", strings.Join(sel, ",\n  "), from, order)
	if positional {
		final = fmt.Sprintf("SELECT %s\nFROM %s", strings.Join(sel, ",\n  "), joined)
	}
	b.positional = positional
	part, err := b.publish(ctx, final, snap.Path)
	if err != nil {
		return snap, err
	}
	if err := restore(); err != nil {
		return snap, err
	}
	if err := b.conn.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(part)+")").Scan(&snap.Rows); err != nil {
		return snap, fmt.Errorf("features: count: %w", err)
	}
	if set == SetACard {
		if snap.Flags, snap.FlagsPath, err = b.fraudFlags(ctx, part, asOf); err != nil {
			return snap, err
		}
	}
	snap.Seconds = time.Since(start).Seconds()
	b.Log.Info("features snapshot", "set", set, "as_of", DateString(asOf), "rows", snap.Rows, "flags", snap.Flags, "seconds", snap.Seconds)
	return snap, nil
}

// groupTables computes set's groups into the tables g_<group> (in
// groupsDB for the A-card, compressed after each) and returns their
// columns for the snapshot's select list, the key join of the spine and
// them (from) and the positional join of spine_head and them (joined),
// and whether the positional join holds: asked for, and every group
// table aligned with spine_head.
func (b *Builder) groupTables(ctx context.Context, set, key, spine string, positional bool) (sel []string, from, joined string, stillPositional bool, err error) {
	var fromB, joinedB strings.Builder
	fmt.Fprintf(&fromB, "%s s", spine)
	fmt.Fprintf(&joinedB, "spine_head s")
	groups := b.Catalog.Groups(set)
	last, err := lastUse(groups)
	if err != nil {
		return nil, "", "", false, err
	}
	for gi, group := range groups {
		table := "g_" + group
		feats := b.Catalog.Group(group)
		if err := b.groupTable(ctx, table, group+".sql", key, feats, positional); err != nil {
			return nil, "", "", false, err
		}
		if set == SetACard {
			if err := b.exec(ctx, "compress "+table, "CHECKPOINT "+groupsDB); err != nil {
				return nil, "", "", false, err
			}
		}
		// A session table no later group uses is dropped (the spine,
		// which the key join reads, at the write), so the working set
		// shrinks as the groups are computed.
		if err := b.drop(ctx, slices.DeleteFunc(last[gi], func(t string) bool { return t == spine })...); err != nil {
			return nil, "", "", false, err
		}
		alias := fmt.Sprintf("g%d", gi)
		if positional {
			if positional, err = b.aligned(ctx, "spine_head", table, key); err != nil {
				return nil, "", "", false, err
			}
		}
		fmt.Fprintf(&fromB, "\nLEFT JOIN %s %s ON %s.%s = s.%s", table, alias, alias, key, key)
		fmt.Fprintf(&joinedB, "\nPOSITIONAL JOIN %s %s", table, alias)
		for _, f := range feats {
			sel = append(sel, fmt.Sprintf("CAST(%s.%s AS %s) AS %s", alias, f.Name, f.SQLType(), f.Name))
		}
	}
	return sel, fromB.String(), joinedB.String(), positional, nil
}

// groupsDB is the attached database that holds the A-card group tables.
const groupsDB = "groups"

// compressedGroups attaches groupsDB, an in-memory database that DuckDB
// compresses when it is checkpointed, and makes it where new tables go;
// the session's own tables stay readable by name (search_path). Build
// checkpoints it after each group: the groups' integer columns, held
// bitpacked, take a fraction of their plain vectors. A 10M-loan book's
// 17M applications had spilled 10.3 GiB to DuckDB's temporary files
// when the snapshot's write began, and the write took 60 s; with the
// groups compressed, 42 s, and the stage 301 s instead of 349. The
// groups have a database of their own so that a checkpoint compresses
// them alone: checkpointing the session's database also compressed the
// spine's strings, 20 s more.
// The returned function detaches groupsDB (dropping its tables) and
// restores the session's database; it may be called more than once.
func (b *Builder) compressedGroups(ctx context.Context) (func() error, error) {
	var home string
	if err := b.conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&home); err != nil {
		return nil, fmt.Errorf("features: current database: %w", err)
	}
	for _, q := range []string{
		"ATTACH OR REPLACE ':memory:' AS " + groupsDB + " (COMPRESS)",
		"USE " + groupsDB,
		fmt.Sprintf("SET search_path = %s", lake.Quote(groupsDB+".main,"+home+".main")),
	} {
		if err := b.exec(ctx, "groups database", q); err != nil {
			return nil, err
		}
	}
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		for _, q := range []string{"USE " + lake.Ident(home), "RESET search_path", "DETACH " + groupsDB} {
			if err := b.exec(ctx, "groups database", q); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// drop drops the session tables.
func (b *Builder) drop(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if err := b.exec(ctx, "drop "+t, "DROP TABLE IF EXISTS "+lake.Ident(t)); err != nil {
			return err
		}
	}
	return nil
}

// fraudFlags runs the fraud rules on the A-card snapshot just written
// to part and publishes the flags; it returns their count and directory.
func (b *Builder) fraudFlags(ctx context.Context, part string, asOf time.Time) (int64, string, error) {
	if err := b.exec(ctx, "view acard_features", "CREATE OR REPLACE TEMP VIEW acard_features AS SELECT * FROM read_parquet("+lake.Quote(part)+")"); err != nil {
		return 0, "", err
	}
	q, err := readSQL("rules_fraud_flags.sql")
	if err != nil {
		return 0, "", err
	}
	if err := b.exec(ctx, "fraud flags", "CREATE OR REPLACE TABLE fraud_flags AS\n"+q); err != nil {
		return 0, "", err
	}
	var n int64
	if err := b.conn.QueryRowContext(ctx, "SELECT count(*) FROM fraud_flags").Scan(&n); err != nil {
		return 0, "", fmt.Errorf("features: count flags: %w", err)
	}
	dir := FlagsDir(b.Lake, asOf)
	if _, err := b.publish(ctx, "SELECT * FROM fraud_flags", dir); err != nil {
		return 0, "", err
	}
	return n, dir, nil
}

// sorted makes table the rows of query in key order (kept: insertion
// order is preserved while it is written; the session's setting is
// restored after); what names the step in logs and errors.
func (b *Builder) sorted(ctx context.Context, what, table, query, key string) error {
	if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = true"); err != nil {
		return err
	}
	t := lake.Ident(table)
	if err := b.exec(ctx, what, fmt.Sprintf("CREATE OR REPLACE TABLE %s_sorted AS %s ORDER BY %s", table, query, lake.Ident(key))); err != nil {
		return err
	}
	if err := b.exec(ctx, "sort "+table, fmt.Sprintf("DROP TABLE IF EXISTS %s; ALTER TABLE %s_sorted RENAME TO %s", t, table, t)); err != nil {
		return err
	}
	return b.exec(ctx, "insertion order", "SET preserve_insertion_order = false")
}

// aligned reports whether tables x and y, read in their stored order,
// hold the same key at every row, and as many rows.
func (b *Builder) aligned(ctx context.Context, x, y, key string) (bool, error) {
	if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = true"); err != nil {
		return false, err
	}
	var off int64
	k := lake.Ident(key)
	q := fmt.Sprintf("SELECT count(*) FROM %s x POSITIONAL JOIN %s y WHERE x.%s IS DISTINCT FROM y.%s", x, y, k, k)
	if err := b.conn.QueryRowContext(ctx, q).Scan(&off); err != nil {
		return false, fmt.Errorf("features: %s against %s: %w", y, x, err)
	}
	if off > 0 {
		b.Log.Debug("features: rows out of line; joining on the key and sorting", "table", y, "rows", off)
	}
	return off == 0, b.exec(ctx, "insertion order", "SET preserve_insertion_order = false")
}

// lastUse returns, for each group, the session tables (its SQL's
// `-- uses:` header) that no later group uses.
func lastUse(groups []string) ([][]string, error) {
	uses := make([][]string, len(groups))
	for i, g := range groups {
		src, err := readSQL(g + ".sql")
		if err != nil {
			return nil, err
		}
		h, err := sqlreads.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("features: %s.sql: %w", g, err)
		}
		uses[i] = h.Uses
	}
	last := make([][]string, len(groups))
	later := map[string]bool{}
	for i := len(groups) - 1; i >= 0; i-- {
		for _, t := range uses[i] {
			if !later[t] {
				last[i] = append(last[i], t)
				later[t] = true
			}
		}
	}
	return last, nil
}

// prep builds the spine of set and the session tables its groups use
// and returns the entity key, the spine table and the spine columns that
// lead the snapshot.
func (b *Builder) prep(ctx context.Context, set string) (key, spine string, head []string, err error) {
	if set == SetACard {
		key, spine, head = "app_idx", "spine_acard", []string{"application_id", "borrower_id", "apply_time"}
		// As for the B-card: the prep and group tables are joined by
		// app_idx and the snapshot sorted at the end.
		if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = false"); err != nil {
			return key, spine, head, err
		}
		// Only prep_borrower_outcomes.sql reads the installments here: a
		// view, not a table of every installment due before the as-of
		// date (10M rows on a 1M-loan book), which a large book spills.
		q, err := readSQL("prep_installments.sql")
		if err != nil {
			return key, spine, head, err
		}
		if err := b.exec(ctx, "prep_installments.sql", "CREATE OR REPLACE TEMP VIEW installments AS\n"+q); err != nil {
			return key, spine, head, err
		}
		if err := b.acardSpine(ctx, spine); err != nil {
			return key, spine, head, err
		}
		if err := b.execFile(ctx, "borrower_outcomes", "prep_borrower_outcomes.sql"); err != nil {
			return key, spine, head, err
		}
		if err := b.linkGraph(ctx); err != nil {
			return key, spine, head, err
		}
		// Only the union-find read these.
		if err := b.drop(ctx, "borrower_outcomes", "graph_borrowers"); err != nil {
			return key, spine, head, err
		}
	} else {
		// The spine first, from the intermediate models; then the
		// installments of its loans only, so a snapshot's working set is
		// the active book at d, not every loan ever issued.
		key, spine, head = "loan_id", "spine_bcard", []string{"loan_id", "borrower_id", "as_of"}
		// The prep and group tables are joined by loan_id and the
		// snapshot is sorted at the end: their row order does not matter,
		// and not keeping it lets DuckDB stream and spill more freely.
		if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = false"); err != nil {
			return key, spine, head, err
		}
		if err := b.execFile(ctx, spine, "prep_bcard_spine.sql"); err != nil {
			return key, spine, head, err
		}
		q, err := readSQL("prep_installments.sql")
		if err != nil {
			return key, spine, head, err
		}
		if err := b.exec(ctx, "prep_installments.sql", "CREATE OR REPLACE TABLE installments AS\nSELECT i.* FROM (\n"+q+"\n) i SEMI JOIN spine_bcard s ON s.loan_id = i.loan_id"); err != nil {
			return key, spine, head, err
		}
	}
	return key, spine, head, nil
}

// acardSpine builds the A-card spine. It numbers the applications in the
// lake's order, which is application_id order in a lake ingest wrote;
// when the applications are not in that order (a lake written by other
// means), it builds the spine again from them sorted.
func (b *Builder) acardSpine(ctx context.Context, spine string) error {
	// The spine joins the wide application rows to narrow tables;
	// DuckDB's estimate of the filtered applications makes it build its
	// hash table on the wide side (6.9 of 7.4 s on a 1M-loan book)
	// unless the written order is kept.
	if err := b.exec(ctx, "join sides", "SET disabled_optimizers = 'build_side_probe_side'"); err != nil {
		return err
	}
	if err := b.exec(ctx, "insertion order", "SET preserve_insertion_order = true"); err != nil {
		return err
	}
	unordered := func() (int64, error) {
		if err := b.execFile(ctx, spine, "prep_acard_spine.sql"); err != nil {
			return 0, err
		}
		var n int64
		if err := b.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+spine+" WHERE out_of_order").Scan(&n); err != nil {
			return 0, fmt.Errorf("features: %s: %w", spine, err)
		}
		return n, nil
	}
	n, err := unordered()
	if err != nil {
		return err
	}
	if n > 0 {
		b.Log.Warn("features: the lake's applications are not in application_id order (not written by ingest?); sorting them for the A-card spine",
			"lake", b.Lake.Root, "rows_out_of_place", n)
		scan, err := b.Lake.Scan("applications")
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		view := "CREATE OR REPLACE VIEW applications AS SELECT * FROM " + scan
		if err := b.exec(ctx, "sorted applications", view+" ORDER BY application_id"); err != nil {
			return err
		}
		if n, err = unordered(); err != nil {
			return err
		}
		if err := b.exec(ctx, "view applications", view); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("features: %s: %d applications out of application_id order after sorting", spine, n)
		}
	}
	if err := b.exec(ctx, "join sides", "RESET disabled_optimizers"); err != nil {
		return err
	}
	// The application group's own columns move to spine_application,
	// which it alone reads and which is dropped after it: the other
	// groups, the union-find and the write then work beside a spine of
	// half the width (about 335 bytes a row in DuckDB's memory before,
	// 5.7 GB for a 10M-loan book's 17M applications, more than the
	// stage's memory limit).
	cols := append([]string{"app_idx", "apply_date", "age", "gender", "monthly_income", "requested_amount"}, applicationOnly()...)
	if err := b.exec(ctx, "spine_application", fmt.Sprintf("CREATE OR REPLACE TABLE spine_application AS SELECT %s FROM %s", strings.Join(cols, ", "), spine)); err != nil {
		return err
	}
	for _, c := range applicationOnly() {
		if err := b.exec(ctx, "spine_application", fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", spine, c)); err != nil {
			return err
		}
	}
	return b.exec(ctx, "insertion order", "SET preserve_insertion_order = false")
}

// applicationOnly returns the spine columns only the application group
// (acard_application.sql) reads.
func applicationOnly() []string {
	return []string{"product", "channel", "term_months", "education", "marital_status", "employment_years", "city"}
}

// groupTable makes table the rows of a group's SQL file, each feature
// stored in its catalog type (a count as INTEGER, not the BIGINT of
// count(*): a large book's group tables are most of the stage's working
// set), once checkColumns has found the file's columns to be the key and
// then exactly its catalog features. With byKey the rows are stored in
// key order, sorted as the table is written (not copied sorted after).
func (b *Builder) groupTable(ctx context.Context, table, file, key string, feats []Feature, byKey bool) error {
	q, err := readSQL(file)
	if err != nil {
		return err
	}
	if err := b.checkColumns(ctx, q, file, key, feats); err != nil {
		return err
	}
	sel := []string{lake.Ident(key)}
	for _, f := range feats {
		sel = append(sel, fmt.Sprintf("CAST(%s AS %s) AS %s", lake.Ident(f.Name), f.SQLType(), lake.Ident(f.Name)))
	}
	q = fmt.Sprintf("SELECT %s FROM (\n%s\n)", strings.Join(sel, ", "), q)
	if byKey {
		return b.sorted(ctx, file+" (sorted by "+key+")", table, q, key)
	}
	return b.exec(ctx, file, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", lake.Ident(table), q))
}

// checkColumns verifies that query's columns are the key and then exactly
// the catalog's features, in order, so the comments cannot drift from
// the SQL.
func (b *Builder) checkColumns(ctx context.Context, query, file, key string, feats []Feature) error {
	rows, err := b.conn.QueryContext(ctx, fmt.Sprintf("SELECT column_name FROM (DESCRIBE (\n%s\n))", query))
	if err != nil {
		return fmt.Errorf("features: describe %s: %w", file, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	want := []string{key}
	for _, f := range feats {
		want = append(want, f.Name)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("features: %s: columns %v do not match its feature comments %v", file, got, want)
	}
	return nil
}

// publish writes the query's result as part-0.parquet of the lake
// directory dst, in the staging area b.Out of the commit that publishes
// it, and returns the file's path.
func (b *Builder) publish(ctx context.Context, query, dst string) (string, error) {
	if b.Out.Root == "" {
		return "", fmt.Errorf("features: no commit to write %s into (Builder.Out)", dst)
	}
	r, err := filepath.Rel(b.Lake.Root, dst)
	if err != nil {
		return "", fmt.Errorf("features: %w", err)
	}
	dir := b.Out.TableDir(filepath.ToSlash(r))
	// A snapshot kept from the last commit is hard-linked: remove the
	// links before writing, never write into the committed files.
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("features: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("features: %w", err)
	}
	part := filepath.Join(dir, "part-0.parquet")
	return part, b.exec(ctx, "write "+dst, fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd)", query, lake.Quote(part)))
}

// linkGraph reads the link and outcome events as Arrow columns, runs the
// union-find and registers its result as the table graph_links.
func (b *Builder) linkGraph(ctx context.Context) error {
	linksSQL, err := readSQL("prep_graph_links.sql")
	if err != nil {
		return err
	}
	outSQL, err := readSQL("prep_graph_outcomes.sql")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := b.execFile(ctx, "graph_borrowers", "prep_graph_borrowers.sql"); err != nil {
		return err
	}
	// The columns are sized up front: grown by append, a 10M-loan book's
	// 17M applications left several times their size in garbage.
	var nLinks, nOuts int
	if err := b.conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM spine_acard), (SELECT count(*) FROM borrower_outcomes)").Scan(&nLinks, &nOuts); err != nil {
		return fmt.Errorf("features: graph sizes: %w", err)
	}
	idx := make([]int32, 0, nLinks)
	links := graph.Links{Time: make([]int64, 0, nLinks), Borrower: make([]int32, 0, nLinks),
		Device: make([]int32, 0, nLinks), Phone: make([]int32, 0, nLinks)}
	outs := graph.Outcomes{Borrower: make([]int32, 0, nOuts), BadTime: make([]int64, 0, nOuts),
		BadValid: make([]bool, 0, nOuts), GoodTime: make([]int64, 0, nOuts), GoodValid: make([]bool, 0, nOuts)}
	err = b.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		if err := readBatches(ctx, ar, linksSQL, func(rec arrow.RecordBatch) error {
			idx = append(idx, int32Col(rec, 0)...)
			links.Time = append(links.Time, int64Col(rec, 1)...)
			links.Borrower = append(links.Borrower, int32Col(rec, 2)...)
			links.Device = append(links.Device, int32Col(rec, 3)...)
			links.Phone = append(links.Phone, int32Col(rec, 4)...)
			return nil
		}); err != nil {
			return fmt.Errorf("graph links: prep_graph_links.sql: %w", err)
		}
		if err := readBatches(ctx, ar, outSQL, func(rec arrow.RecordBatch) error {
			outs.Borrower = append(outs.Borrower, int32Col(rec, 0)...)
			t, v := nullableInt64Col(rec, 1)
			outs.BadTime, outs.BadValid = append(outs.BadTime, t...), append(outs.BadValid, v...)
			t, v = nullableInt64Col(rec, 2)
			outs.GoodTime, outs.GoodValid = append(outs.GoodTime, t...), append(outs.GoodValid, v...)
			return nil
		}); err != nil {
			return fmt.Errorf("graph outcomes: prep_graph_outcomes.sql: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	var maxNode, maxBorrower int32 = -1, -1
	for i := range links.Time {
		maxBorrower = max(maxBorrower, links.Borrower[i])
		maxNode = max(maxNode, links.Borrower[i], links.Device[i], links.Phone[i])
	}
	for _, x := range outs.Borrower {
		maxBorrower = max(maxBorrower, x)
		maxNode = max(maxNode, x)
	}
	read := time.Since(start)
	res, err := graph.Compute(int(maxNode)+1, int(maxBorrower)+1, links, outs)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	b.Log.Debug("features step", "step", "union-find", "applications", len(idx), "seconds", time.Since(start).Seconds(),
		"read_seconds", read.Seconds())
	start = time.Now()
	shared, err := shareCounts(links)
	if err != nil {
		return err
	}
	b.Log.Debug("features step", "step", "sharing counts", "seconds", time.Since(start).Seconds())
	if err := b.storeInt32(ctx, "graph_links", []string{"app_idx", "group_size", "known_bad", "known_good"},
		idx, res.GroupSize, res.KnownBad, res.KnownGood); err != nil {
		return err
	}
	if err := b.storeInt32(ctx, "app_sharing", []string{"app_idx", "device_borrowers_30d", "phone_borrowers_30d", "borrower_apps_7d"},
		append([][]int32{idx}, shared...)...); err != nil {
		return err
	}
	// The union-find's columns (2–3 GiB at 10M loans) are garbage now;
	// give their pages back before the feature groups fill DuckDB's
	// memory again, or the process holds both (10.4 GiB at 10M loans).
	debug.FreeOSMemory()
	return nil
}

// shareCounts returns, per link (application in time order), the other
// borrowers who applied with its device and with its phone in the 30
// days before it and its borrower's applications in the 7 days before
// it: counts of acard_fraud.sql, from the graph's node numbers.
func shareCounts(l graph.Links) ([][]int32, error) {
	const day = int64(24 * time.Hour / time.Microsecond)
	out := make([][]int32, 3)
	for i, key := range [][]int32{l.Device, l.Phone} {
		out[i] = make([]int32, len(l.Time))
		if err := sharing.Others(l.Time, l.Borrower, key, 30*day, out[i]); err != nil {
			return nil, fmt.Errorf("features: sharing counts: %w", err)
		}
	}
	out[2] = make([]int32, len(l.Time))
	if err := sharing.Earlier(l.Time, l.Borrower, 7*day, out[2]); err != nil {
		return nil, fmt.Errorf("features: velocity counts: %w", err)
	}
	return out, nil
}

// storeInt32 creates table from Go columns of int32.
func (b *Builder) storeInt32(ctx context.Context, table string, names []string, cols ...[]int32) error {
	return b.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rec := int32Record(names, cols...)
		defer rec.Release()
		rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		view := table + "_arrow"
		release, err := ar.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("features: register %s: %w", table, err)
		}
		defer release()
		if _, err := dc.(driver.ExecerContext).ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * FROM %s", table, view), nil); err != nil {
			return fmt.Errorf("features: %s: %w", table, err)
		}
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, "DROP VIEW IF EXISTS "+view, nil)
		return err
	})
}

func readBatches(ctx context.Context, ar *duckdb.Arrow, q string, fn func(arrow.RecordBatch) error) error {
	rdr, err := ar.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rdr.Release()
	for rdr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(rdr.RecordBatch()); err != nil {
			return err
		}
	}
	return rdr.Err()
}

func int32Col(rec arrow.RecordBatch, i int) []int32 {
	switch c := rec.Column(i).(type) {
	case *array.Int32:
		return c.Int32Values()
	case *array.Int64:
		out := make([]int32, c.Len())
		for j, v := range c.Int64Values() {
			out[j] = int32(v)
		}
		return out
	}
	panic(fmt.Sprintf("features: column %s is %s, want an integer", rec.ColumnName(i), rec.Column(i).DataType()))
}

func int64Col(rec arrow.RecordBatch, i int) []int64 {
	t, _ := nullableInt64Col(rec, i)
	return t
}

func nullableInt64Col(rec arrow.RecordBatch, i int) ([]int64, []bool) {
	c, ok := rec.Column(i).(*array.Int64)
	if !ok {
		panic(fmt.Sprintf("features: column %s is %s, want int64", rec.ColumnName(i), rec.Column(i).DataType()))
	}
	vals := slices.Clone(c.Int64Values())
	valid := make([]bool, c.Len())
	for j := range valid {
		valid[j] = c.IsValid(j)
	}
	return vals, valid
}

func int32Record(names []string, cols ...[]int32) arrow.RecordBatch {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int32}
	}
	sc := arrow.NewSchema(fields, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	for i, c := range cols {
		bld.Field(i).(*array.Int32Builder).AppendValues(c, nil)
	}
	return bld.NewRecordBatch()
}
