package funclen_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"qiandun/internal/funclen"
)

// allowed are functions over the limit in other lanes' paths, to be split
// there; the list only shrinks. Keys are "<dir>.<Recv.>Name".
var allowed = map[string]bool{}

// long lists the module's non-test functions over the limit as
// "<dir>.<name>: N lines (file:line)".
func long(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		dir := filepath.ToSlash(rel)
		if dir == "." {
			dir = ""
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := lines(fset, fn)
			if n <= funclen.MaxLines {
				continue
			}
			key := dir + "." + funcName(fn)
			pos := fset.Position(fn.Pos())
			out[key] = fmt.Sprintf("%s: %d lines (%s:%d)", key, n, filepath.ToSlash(filepath.Join(rel, name)), pos.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lines is fn's length in lines less the lines of its table code: each
// outermost composite literal of more than TableLines lines.
func lines(fset *token.FileSet, fn *ast.FuncDecl) int {
	span := func(n ast.Node) int { return fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1 }
	n := span(fn)
	ast.Inspect(fn.Body, func(x ast.Node) bool {
		if cl, ok := x.(*ast.CompositeLit); ok {
			if s := span(cl); s > funclen.TableLines {
				n -= s
			}
			return false // the outermost literal only
		}
		return true
	})
	return n
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestFunctionLength fails on any function of the module longer than
// MaxLines outside generated and table code, unless allowed; it also
// fails on an allowance no longer needed, so the list only shrinks.
func TestFunctionLength(t *testing.T) {
	got := long(t, filepath.Join("..", ".."))
	var bad []string
	for key, msg := range got {
		if !allowed[key] {
			bad = append(bad, msg)
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("function over %d lines: %s", funclen.MaxLines, b)
	}
	for key := range allowed {
		if _, ok := got[key]; !ok {
			t.Errorf("%s is allowed to be long but is not (or is gone): remove it from allowed", key)
		}
	}
}

// TestLinesCountsTableCode checks the counter on a function whose length
// is all code and one that is mostly a table.
func TestLinesCountsTableCode(t *testing.T) {
	var code, table strings.Builder
	code.WriteString("package p\nfunc f() {\n")
	table.WriteString("package p\nfunc g() {\n\tx := []int{\n")
	for i := range 200 {
		fmt.Fprintf(&code, "\t_ = %d\n", i)
		fmt.Fprintf(&table, "\t\t%d,\n", i)
	}
	code.WriteString("}\n")
	table.WriteString("\t}\n\t_ = x\n}\n")
	dir := t.TempDir()
	for name, src := range map[string]string{"code.go": code.String(), "table.go": table.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := long(t, dir)
	if _, ok := got[".f"]; !ok || len(got) != 1 {
		t.Errorf("long = %v, want f (202 lines of code) only, not g (a 202-line table)", got)
	}
}
