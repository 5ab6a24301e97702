package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"qiandun/data/schema"
)

// outFile is one file Generate writes, under a temporary name in its
// directory until it is complete.
type outFile struct {
	path, tmp string
	f         *os.File
	gz        *gzip.Writer // between bw and f when the book is gzipped, else nil
	bw        *bufio.Writer
}

// outFiles are the files of a book: the nine exports in schema order, then
// _truth/loans.csv (index nTables).
type outFiles []*outFile

// createOutFiles creates the book's files in dir under temporary names and
// writes their headers: with a byte-order mark or CRLF line ends where
// truth says the table has them. With gz the exports (not _truth) are
// gzipped at gzip.BestSpeed (<table>.csv.gz, about a fifth of the bytes:
// what makes a ten-million-loan book fit on a disk). On error it removes
// what it created.
func createOutFiles(dir string, truth *DirtyTruth, gz bool) (outFiles, error) {
	tables := schema.Tables()
	files := make(outFiles, nTables+1)
	for i := 0; i <= nTables; i++ {
		var path string
		var header []byte
		var tt *TableTruth
		if i < nTables {
			path = filepath.Join(dir, tables[i].Name+".csv")
			if gz {
				path += ".gz"
			}
			header = []byte(strings.Join(tables[i].Names(), ",") + "\n")
			tt = truth.Tables[tables[i].Name]
		} else {
			path = filepath.Join(dir, "_truth", "loans.csv")
			header = []byte("loan_id,borrower_id,true_pd,ever_90dpd_12m,fraud_ring_id\n")
		}
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
		if err != nil {
			files.abort()
			return nil, fmt.Errorf("gen: %w", err)
		}
		fl := &outFile{path: path, tmp: f.Name(), f: f, bw: bufio.NewWriterSize(f, 1<<20)}
		if gz && i < nTables {
			// No name or time in the header: the same book gives the same bytes.
			fl.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
			fl.bw = bufio.NewWriterSize(fl.gz, 1<<20)
		}
		files[i] = fl
		if tt != nil && tt.BOM {
			fl.bw.WriteString("\ufeff")
		}
		if tt != nil && tt.CRLF {
			header = bytes.ReplaceAll(header, []byte("\n"), []byte("\r\n"))
		}
		fl.bw.Write(header)
	}
	return files, nil
}

// writeChunk appends a chunk's rows to the files and adds its line and
// defect counts to truth.
func (files outFiles) writeChunk(out *chunkOut, truth *DirtyTruth) error {
	for i, t := range schema.Tables() {
		if _, err := files[i].bw.Write(out.tables[i].buf); err != nil {
			return fmt.Errorf("gen: write %s: %w", files[i].path, err)
		}
		tt := truth.Tables[t.Name]
		tt.DataLines += out.tables[i].lines
		for d, n := range out.counts[i] {
			if n == 0 {
				continue
			}
			if isNormalisation(d) {
				tt.Normalised[defectKey[d]] += n
			} else {
				tt.Quarantine[defectKey[d]] += n
			}
		}
	}
	if _, err := files[nTables].bw.Write(out.truth); err != nil {
		return fmt.Errorf("gen: write %s: %w", files[nTables].path, err)
	}
	return nil
}

// commit flushes and closes the files and renames each to its path; if a
// file cannot be written in full, it removes them all.
func (files outFiles) commit() error {
	for _, f := range files {
		if err := f.f.Chmod(0o644); err != nil {
			files.abort()
			return fmt.Errorf("gen: %w", err)
		}
		if err := f.bw.Flush(); err != nil {
			files.abort()
			return fmt.Errorf("gen: write %s: %w", f.path, err)
		}
		if f.gz != nil {
			if err := f.gz.Close(); err != nil {
				files.abort()
				return fmt.Errorf("gen: write %s: %w", f.path, err)
			}
		}
		if err := f.f.Close(); err != nil {
			files.abort()
			return fmt.Errorf("gen: write %s: %w", f.path, err)
		}
	}
	for _, f := range files {
		if err := os.Rename(f.tmp, f.path); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	return nil
}

// abort closes the files created so far and removes them.
func (files outFiles) abort() {
	for _, f := range files {
		if f != nil && f.f != nil {
			f.f.Close()
			os.Remove(f.tmp)
		}
	}
}
