package publish

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// directBlock is the alignment of direct I/O: buffer address, length and
// file offset (4096 covers every Linux block device).
const directBlock = 4096

// directBuffer is the size of a direct write.
const directBuffer = 4 << 20

// directFile writes a file through the kernel's direct I/O (O_DIRECT on
// Linux): the bytes go from an aligned buffer to the disk without being
// copied into the page cache, which for the hundreds of megabytes of a
// score file saves a tenth of the CPU and leaves nothing for the final
// fsync to flush. Where the file system refuses direct I/O (tmpfs, say),
// or for the unaligned tail of the file, it writes as usual.
type directFile struct {
	f      *os.File
	buf    []byte // directBuffer bytes, aligned to directBlock
	n      int    // bytes in buf
	direct bool
}

func createDirect(path string) (*directFile, error) {
	d := &directFile{}
	if oDirect != 0 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oDirect, 0o644)
		if err == nil {
			d.f, d.direct = f, true
		}
	}
	if d.f == nil {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, err
		}
		d.f = f
	}
	raw := make([]byte, directBuffer+directBlock)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(raw))) & (directBlock - 1))
	d.buf = raw[skip : skip+directBuffer]
	return d, nil
}

func (d *directFile) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := copy(d.buf[d.n:], p)
		d.n += k
		p = p[k:]
		if d.n == len(d.buf) {
			if err := d.flush(); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// flush writes the buffer: whole blocks directly, a partial one (the end
// of the file) after leaving direct I/O.
func (d *directFile) flush() error {
	if d.n == 0 {
		return nil
	}
	if d.direct && d.n%directBlock != 0 {
		if err := d.buffered(); err != nil {
			return err
		}
	}
	_, err := d.f.Write(d.buf[:d.n])
	if err != nil && d.direct && errors.Is(err, syscall.EINVAL) {
		// Opened, but the file system will not write directly.
		if err = d.buffered(); err == nil {
			_, err = d.f.Write(d.buf[:d.n])
		}
	}
	d.n = 0
	return err
}

func (d *directFile) buffered() error {
	d.direct = false
	return clearDirect(d.f)
}

func (d *directFile) Sync() error { return d.f.Sync() }

func (d *directFile) Close() error {
	err := d.flush()
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}
