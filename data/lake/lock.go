package lake

import (
	"errors"
	"fmt"
	"path/filepath"

	"qiandun/internal/durable"
)

// Lock takes an exclusive, non-blocking lock named name on the lake
// (<lake>/_manifests/.<name>.lock), so two processes never run the same
// stage on one lake at once. The lock goes with the process: a killed
// stage leaves none behind. It returns the release function, or an error
// naming the process that holds the lock.
func (l Lake) Lock(name string) (func(), error) {
	release, err := durable.Lock(filepath.Join(l.Root, ManifestDir, "."+name+".lock"))
	if errors.Is(err, durable.ErrLocked) {
		return nil, fmt.Errorf("another qiandun %s is running on lake %s: %w", name, l.Root, err)
	}
	return release, err
}
