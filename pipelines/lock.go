package pipelines

import (
	"errors"
	"fmt"
	"path/filepath"

	"qiandun/internal/durable"
)

// lockState takes an exclusive, non-blocking lock on <state>/.lock so two
// runs never work on the same lake at once; the lock goes with the process,
// so a killed run leaves none behind. It returns the release function.
func lockState(state string) (func(), error) {
	release, err := durable.Lock(filepath.Join(state, ".lock"))
	if errors.Is(err, durable.ErrLocked) {
		return nil, fmt.Errorf("another qiandun run is running on this lake: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	return release, nil
}
