package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/gen"
	"qiandun/data/schema"
)

// BenchmarkParse times blockWorker.parse, the per-record hot path of
// reading (cut, decode, split, validate, tokenise, append to Arrow), on
// blocks of up to 1 MiB of a generated book's lines: loans and repayments
// as written (UTF-8, read as it is), the loans with every field quoted,
// and the loans in GBK declared auto (each line decoded on its own). It
// reports the process's CPU time per block beside the wall time.
func BenchmarkParse(b *testing.B) {
	raw := b.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Dirty = 3000, 0.002
	if _, err := gen.Generate(context.Background(), cfg, raw, nil); err != nil {
		b.Fatal(err)
	}
	read := func(table string) (header, body []byte) {
		data, err := os.ReadFile(filepath.Join(raw, table+".csv"))
		if err != nil {
			b.Fatal(err)
		}
		header, body, _ = bytes.Cut(data, []byte{'\n'})
		if len(body) > 1<<20 {
			body = body[:bytes.LastIndexByte(body[:1<<20], '\n')+1]
		}
		return header, body
	}
	quote := func(body []byte) []byte {
		var out []byte
		for _, line := range bytes.SplitAfter(body, []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			fields := bytes.Split(bytes.TrimSuffix(line, []byte{'\n'}), []byte{','})
			for i, f := range fields {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, '"')
				out = append(out, f...)
				out = append(out, '"')
			}
			out = append(out, '\n')
		}
		return out
	}
	lh, lb := read("loans")
	rh, rb := read("repayments")
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(lb)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, table, enc string
		header, body     []byte
	}{
		{"loans", "loans", EncAuto, lh, lb},
		{"repayments", "repayments", EncAuto, rh, rb},
		{"loans-quoted", "loans", EncAuto, lh, quote(lb)},
		{"loans-gbk", "loans", EncAuto, lh, gbk},
	} {
		b.Run(c.name, func(b *testing.B) {
			t, _ := schema.Lookup(c.table)
			sch, err := lakeSchema(t)
			if err != nil {
				b.Fatal(err)
			}
			cols, err := parseHeader(c.header, ',')
			if err != nil {
				b.Fatal(err)
			}
			pos := make([]int, len(t.Columns))
			for i, col := range t.Columns {
				for j, name := range cols {
					if name == col.Name {
						pos[i] = j
					}
				}
			}
			w := &blockWorker{t: t, src: Source{Rel: c.table + ".csv", Format: CSV}, delim: ',', pos: pos,
				columns: cols, enc: c.enc, maxLine: DefaultMaxLine}
			p := newRowParser(t, sch, []byte("bench-key-0123456789abcdef"), memory.DefaultAllocator)
			d := newDecoder(c.enc)
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				res := w.parse(p, d, &block{data: c.body, line: 2})
				if res.rec == nil || res.read == 0 {
					b.Fatalf("%s: no rows", c.name)
				}
				res.rec.Release()
			}
			// CPU time (user+system) is the fairer figure on a shared machine.
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
