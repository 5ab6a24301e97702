package vault

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"sort"
)

// The vault file (format version 1) is a table of records sorted by
// token, each token once, read through a sparse index of its blocks, so
// that opening it reads only the header and the index and a lookup is a
// binary search in memory and one short read. All integers are
// little-endian.
//
//	header   magic (8) | version u16 | fingerprint length u16 | key fingerprint |
//	         values u64 | index offset u64 | index length u64 | blocks u64 |
//	         CRC-32C of the header before it u32
//	records  sorted by token, unique: uvarint token length | token |
//	         uvarint sealed length | sealed (nonce || AES-GCM ciphertext),
//	         in blocks of at most blockRecords records or about blockBytes
//	index    one entry a block: uvarint length | the block's first token |
//	         uvarint offset | uvarint length | CRC-32C of the block u32
//	trailer  CRC-32C of the index u32 | magic (8)
//
// The same table, unsynced and unlinked, holds each run of Puts spilled
// to the lake's temporary area.
const (
	magic        = "QDVAULT\x00"
	version      = 1
	blockRecords = 128
	blockBytes   = 32 << 10
	trailerLen   = 4 + len(magic)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func headerLen(fp string) int64 { return int64(8 + 2 + 2 + len(fp) + 4*8 + 4) }

// tableWriter writes a table: records in token order, then finish.
type tableWriter struct {
	f       *os.File
	bw      *bufio.Writer
	fp      string
	off     int64 // the next record's offset
	n       int64
	idx     []byte // the encoded index
	blocks  int64
	last    []byte
	scratch []byte
	blk     struct {
		start int64
		n     int
		crc   uint32
		first []byte
	}
}

func newTableWriter(f *os.File, fp string) (*tableWriter, error) {
	w := &tableWriter{f: f, bw: bufio.NewWriterSize(f, 256<<10), fp: fp, off: headerLen(fp)}
	if len(fp) > 0xffff {
		return nil, errors.New("vault: key fingerprint too long")
	}
	if _, err := w.bw.Write(make([]byte, w.off)); err != nil { // the header, written by finish
		return nil, err
	}
	return w, nil
}

// add appends a record; tokens must come in increasing order.
func (w *tableWriter) add(tok, sealed []byte) error {
	if w.n > 0 && bytes.Compare(tok, w.last) <= 0 {
		return fmt.Errorf("vault: internal error: token %q after %q", tok, w.last)
	}
	if w.blk.n == 0 {
		w.blk.start, w.blk.crc, w.blk.first = w.off, 0, append(w.blk.first[:0], tok...)
	}
	r := appendRecord(w.scratch[:0], tok, sealed)
	w.scratch = r
	if _, err := w.bw.Write(r); err != nil {
		return err
	}
	w.blk.crc = crc32.Update(w.blk.crc, castagnoli, r)
	w.off += int64(len(r))
	w.blk.n++
	w.n++
	w.last = append(w.last[:0], tok...)
	if w.blk.n >= blockRecords || w.off-w.blk.start >= blockBytes {
		w.endBlock()
	}
	return nil
}

func (w *tableWriter) endBlock() {
	if w.blk.n == 0 {
		return
	}
	w.idx = binary.AppendUvarint(w.idx, uint64(len(w.blk.first)))
	w.idx = append(w.idx, w.blk.first...)
	w.idx = binary.AppendUvarint(w.idx, uint64(w.blk.start))
	w.idx = binary.AppendUvarint(w.idx, uint64(w.off-w.blk.start))
	w.idx = binary.LittleEndian.AppendUint32(w.idx, w.blk.crc)
	w.blocks++
	w.blk.n = 0
}

// finish writes the index, the trailer and the header (not synced).
func (w *tableWriter) finish() error {
	w.endBlock()
	idxOff := w.off
	tr := binary.LittleEndian.AppendUint32(nil, crc32.Checksum(w.idx, castagnoli))
	tr = append(tr, magic...)
	if _, err := w.bw.Write(w.idx); err != nil {
		return err
	}
	if _, err := w.bw.Write(tr); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	h := append([]byte(magic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(h[8:], version)
	binary.LittleEndian.PutUint16(h[10:], uint16(len(w.fp)))
	h = append(h, w.fp...)
	for _, x := range []int64{w.n, idxOff, int64(len(w.idx)), w.blocks} {
		h = binary.LittleEndian.AppendUint64(h, uint64(x))
	}
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
	_, err := w.f.WriteAt(h, 0)
	return err
}

func appendRecord(b, tok, sealed []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(tok)))
	b = append(b, tok...)
	b = binary.AppendUvarint(b, uint64(len(sealed)))
	return append(b, sealed...)
}

// nextRecord parses the record at the start of b: its token, its sealed
// value and its length; n is 0 when b does not start with a whole record.
func nextRecord(b []byte) (tok, sealed []byte, n int) {
	tl, k := binary.Uvarint(b)
	if k <= 0 || tl > uint64(len(b)-k) {
		return nil, nil, 0
	}
	tok, b, n = b[k:k+int(tl)], b[k+int(tl):], k+int(tl)
	sl, k := binary.Uvarint(b)
	if k <= 0 || sl > uint64(len(b)-k) {
		return nil, nil, 0
	}
	return tok, b[k : k+int(sl)], n + k + int(sl)
}

// table is an open table file: its header and block index in memory.
type table struct {
	f      *os.File
	name   string // for errors: the file's path
	fp     string
	n      int64
	recOff int64
	recEnd int64
	// the block index: block i starts with token first[firstAt[i]:firstAt[i+1]]
	first   []byte
	firstAt []uint32
	off     []int64
	size    []uint32
	crc     []uint32
	// the last block read by a lookup
	cached int
	blk    []byte
}

func (t *table) corrupt(format string, a ...any) error {
	return fmt.Errorf("vault %s is truncated or corrupt: %s", t.name, fmt.Sprintf(format, a...))
}

// openTable reads the header and the index of a table file; the table
// owns f from then on (also when it fails).
func openTable(f *os.File, name string) (*table, error) {
	t := &table{f: f, name: name, cached: -1}
	fail := func(err error) (*table, error) { f.Close(); return nil, err }
	st, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("vault %s: %w", name, err))
	}
	h := make([]byte, 12)
	if _, err := f.ReadAt(h, 0); err != nil || string(h[:8]) != magic {
		return fail(t.corrupt("no vault header"))
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v != version {
		return fail(fmt.Errorf("vault %s has format version %d; this build reads version %d", name, v, version))
	}
	fpLen := int(binary.LittleEndian.Uint16(h[10:]))
	h = make([]byte, 12+fpLen+4*8+4)
	if _, err := f.ReadAt(h, 0); err != nil {
		return fail(t.corrupt("short header"))
	}
	if binary.LittleEndian.Uint32(h[len(h)-4:]) != crc32.Checksum(h[:len(h)-4], castagnoli) {
		return fail(t.corrupt("header checksum"))
	}
	t.fp = string(h[12 : 12+fpLen])
	u := func(i int) int64 { return int64(binary.LittleEndian.Uint64(h[12+fpLen+8*i:])) }
	var idxLen, blocks int64
	t.n, t.recEnd, idxLen, blocks = u(0), u(1), u(2), u(3)
	t.recOff = int64(len(h))
	if t.recEnd < t.recOff || idxLen < 0 || t.recEnd+idxLen+int64(trailerLen) != st.Size() {
		return fail(t.corrupt("%d bytes, the header says %d", st.Size(), t.recEnd+idxLen+int64(trailerLen)))
	}
	idx := make([]byte, idxLen+int64(trailerLen))
	if _, err := f.ReadAt(idx, t.recEnd); err != nil {
		return fail(t.corrupt("index: %v", err))
	}
	idx, tr := idx[:idxLen], idx[idxLen:]
	if string(tr[4:]) != magic || binary.LittleEndian.Uint32(tr) != crc32.Checksum(idx, castagnoli) {
		return fail(t.corrupt("index checksum"))
	}
	if err := t.parseIndex(idx, blocks); err != nil {
		return fail(err)
	}
	return t, nil
}

func (t *table) parseIndex(idx []byte, blocks int64) error {
	if blocks < 0 || blocks > int64(len(idx)) {
		return t.corrupt("%d blocks", blocks)
	}
	t.firstAt = make([]uint32, 1, blocks+1)
	t.off, t.size, t.crc = make([]int64, 0, blocks), make([]uint32, 0, blocks), make([]uint32, 0, blocks)
	end := t.recOff
	for len(idx) > 0 {
		tl, k := binary.Uvarint(idx)
		if k <= 0 || tl > uint64(len(idx)-k) {
			return t.corrupt("index entry %d", len(t.off))
		}
		tok := idx[k : k+int(tl)]
		idx = idx[k+int(tl):]
		off, k1 := binary.Uvarint(idx)
		if k1 <= 0 {
			return t.corrupt("index entry %d", len(t.off))
		}
		size, k2 := binary.Uvarint(idx[k1:])
		if k2 <= 0 || len(idx) < k1+k2+4 || int64(off) != end || size == 0 || size > uint64(t.recEnd-end) || size > 1<<31 {
			return t.corrupt("index entry %d", len(t.off))
		}
		if i := len(t.off); i > 0 && bytes.Compare(tok, t.firstTok(i-1)) <= 0 {
			return t.corrupt("index entry %d out of order", i)
		}
		t.first = append(t.first, tok...)
		t.firstAt = append(t.firstAt, uint32(len(t.first)))
		t.off, t.size = append(t.off, int64(off)), append(t.size, uint32(size))
		t.crc = append(t.crc, binary.LittleEndian.Uint32(idx[k1+k2:]))
		idx = idx[k1+k2+4:]
		end += int64(size)
	}
	if int64(len(t.off)) != blocks || end != t.recEnd || (blocks == 0) != (t.n == 0) || t.n < blocks {
		return t.corrupt("the index does not cover the records")
	}
	return nil
}

func (t *table) firstTok(i int) []byte { return t.first[t.firstAt[i]:t.firstAt[i+1]] }

// readBlocks reads blocks [i, j) into buf, checking each one's checksum.
func (t *table) readBlocks(buf []byte, i, j int) ([]byte, error) {
	n := int(t.off[j-1] + int64(t.size[j-1]) - t.off[i])
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := t.f.ReadAt(buf, t.off[i]); err != nil {
		return nil, t.corrupt("block at %d: %v", t.off[i], err)
	}
	for k, p := i, 0; k < j; k++ {
		b := buf[p : p+int(t.size[k])]
		if crc32.Checksum(b, castagnoli) != t.crc[k] {
			return nil, t.corrupt("block at %d: checksum", t.off[k])
		}
		p += len(b)
	}
	return buf, nil
}

// lookup returns tok's sealed value (a copy) and whether t holds it.
func (t *table) lookup(tok []byte) ([]byte, bool, error) {
	i := sort.Search(len(t.off), func(i int) bool { return bytes.Compare(t.firstTok(i), tok) > 0 }) - 1
	if i < 0 {
		return nil, false, nil
	}
	if t.cached != i {
		b, err := t.readBlocks(t.blk, i, i+1)
		if err != nil {
			t.cached = -1
			return nil, false, err
		}
		t.blk, t.cached = b, i
	}
	for b := t.blk; len(b) > 0; {
		k, s, n := nextRecord(b)
		if n == 0 {
			return nil, false, t.corrupt("record in the block at %d", t.off[i])
		}
		switch c := bytes.Compare(k, tok); {
		case c == 0:
			return bytes.Clone(s), true, nil
		case c > 0:
			return nil, false, nil
		}
		b = b[n:]
	}
	return nil, false, nil
}

func (t *table) close() error {
	if t == nil {
		return nil
	}
	return t.f.Close()
}

// cursor iterates over a source's records in token order; tok and sealed
// are the current record's, valid until the next call of next.
type cursor interface {
	next() (ok bool, err error)
	cur() (tok, sealed []byte)
}

// tableCursor reads a table sequentially, several blocks a read.
type tableCursor struct {
	t      *table
	bi     int // the next block to read
	buf    []byte
	rest   []byte
	tok, s []byte
	last   []byte
}

func (c *tableCursor) next() (bool, error) {
	for len(c.rest) == 0 {
		if c.bi >= len(c.t.off) {
			return false, nil
		}
		j, size := c.bi, 0
		for j < len(c.t.off) && (j == c.bi || size+int(c.t.size[j]) <= 64<<10) {
			size += int(c.t.size[j])
			j++
		}
		b, err := c.t.readBlocks(c.buf, c.bi, j)
		if err != nil {
			return false, err
		}
		c.buf, c.rest, c.bi = b, b, j
	}
	tok, s, n := nextRecord(c.rest)
	if n == 0 || (c.tok != nil && bytes.Compare(tok, c.last) <= 0) {
		return false, c.t.corrupt("records out of order or cut")
	}
	c.tok, c.s, c.rest = tok, s, c.rest[n:]
	c.last = append(c.last[:0], tok...)
	return true, nil
}

func (c *tableCursor) cur() ([]byte, []byte) { return c.tok, c.s }

// pending holds Puts not yet spilled: records in one arena (no pointers
// for the collector to trace), in Put order until sorted.
type pending struct {
	arena  []byte
	recs   []ref // each record's, in Put order until sorted
	sorted bool  // recs sorted by token, each token once (its newest)
}

// ref is a record of the arena: its offset, and its token's first 8
// bytes as a number (zero-padded), which orders most pairs of tokens
// without reading them.
type ref struct {
	key uint64
	off uint32
}

func refOf(tok []byte, off int) ref {
	var k [8]byte
	copy(k[:], tok)
	return ref{binary.BigEndian.Uint64(k[:]), uint32(off)}
}

func (p *pending) size() int { return len(p.arena) + 16*len(p.recs) }

func (p *pending) rec(i int) (tok, sealed []byte) {
	tok, sealed, _ = nextRecord(p.arena[p.recs[i].off:])
	return tok, sealed
}

// grow makes room for n more bytes, growing the arena at most to limit
// (or to what is needed).
func (p *pending) grow(n, limit int) {
	need := len(p.arena) + n
	if need > cap(p.arena) {
		c := max(2*cap(p.arena), 64<<10)
		c = max(min(c, limit), need)
		p.arena = append(make([]byte, 0, c), p.arena...)
	}
}

// add appends a record.
func (p *pending) add(tok, sealed []byte, limit int) {
	p.grow(binary.MaxVarintLen64*2+len(tok)+len(sealed), limit)
	p.recs = append(p.recs, refOf(tok, len(p.arena)))
	p.arena = appendRecord(p.arena, tok, sealed)
	p.sorted = false
}

// addSealed appends the record of value sealed under tok, sealed in
// place in the arena (no garbage for the collector).
func (p *pending) addSealed(aead cipher.AEAD, tok, value []byte, limit int) error {
	ns := aead.NonceSize()
	sl := ns + len(value) + aead.Overhead()
	p.grow(binary.MaxVarintLen64*2+len(tok)+sl, limit)
	a := binary.AppendUvarint(p.arena, uint64(len(tok)))
	a = append(a, tok...)
	a = binary.AppendUvarint(a, uint64(sl))
	nonce := a[len(a) : len(a)+ns]
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("vault: nonce: %w", err)
	}
	p.recs = append(p.recs, refOf(tok, len(p.arena)))
	p.arena = aead.Seal(a[:len(a)+ns], nonce, value, tok)
	p.sorted = false
	return nil
}

// sort sorts the records by token and keeps of each token its newest.
func (p *pending) sort() {
	if p.sorted {
		return
	}
	tokAt := func(o uint32) []byte { t, _, _ := nextRecord(p.arena[o:]); return t }
	slices.SortFunc(p.recs, func(a, b ref) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		if c := bytes.Compare(tokAt(a.off), tokAt(b.off)); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off) // Put order: the newest last
	})
	out := p.recs[:0]
	for i, r := range p.recs {
		if i+1 < len(p.recs) && r.key == p.recs[i+1].key && bytes.Equal(tokAt(r.off), tokAt(p.recs[i+1].off)) {
			continue
		}
		out = append(out, r)
	}
	p.recs, p.sorted = out, true
}

func (p *pending) lookup(tok []byte) ([]byte, bool) {
	p.sort()
	i, ok := sort.Find(len(p.recs), func(i int) int { t, _ := p.rec(i); return bytes.Compare(tok, t) })
	if !ok {
		return nil, false
	}
	_, s := p.rec(i)
	return bytes.Clone(s), true
}

type pendingCursor struct {
	p      *pending
	i      int
	tok, s []byte
}

func (c *pendingCursor) next() (bool, error) {
	if c.i >= len(c.p.recs) {
		return false, nil
	}
	c.tok, c.s = c.p.rec(c.i)
	c.i++
	return true, nil
}

func (c *pendingCursor) cur() ([]byte, []byte) { return c.tok, c.s }

// mergeHeap orders cursors by their current token, the newest source
// first among equal tokens.
type mergeHeap []mergeItem

type mergeItem struct {
	c    cursor
	rank int // higher is newer
}

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, _ := h[i].c.cur()
	b, _ := h[j].c.cur()
	if c := bytes.Compare(a, b); c != 0 {
		return c < 0
	}
	return h[i].rank > h[j].rank
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge calls emit with each token of srcs (oldest first) in order, once,
// with the sealed value of the newest source that holds it; rank is that
// source's position in srcs.
func merge(srcs []cursor, emit func(tok, sealed []byte, rank int) error) error {
	h := make(mergeHeap, 0, len(srcs))
	for r, c := range srcs {
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, mergeItem{c, r})
		}
	}
	heap.Init(&h)
	var last []byte
	for h.Len() > 0 {
		top := h[0]
		tok, s := top.c.cur()
		if last == nil || !bytes.Equal(tok, last) {
			if err := emit(tok, s, top.rank); err != nil {
				return err
			}
			last = append(last[:0], tok...)
			if last == nil {
				last = []byte{}
			}
		}
		ok, err := top.c.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// writeTableFile writes a table to f by fill and finishes it.
func writeTableFile(f *os.File, fp string, fill func(add func(tok, sealed []byte) error) error) (int64, error) {
	w, err := newTableWriter(f, fp)
	if err != nil {
		return 0, err
	}
	if err := fill(w.add); err != nil {
		return 0, err
	}
	if err := w.finish(); err != nil {
		return 0, err
	}
	return w.n, nil
}
