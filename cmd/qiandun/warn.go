package main

import (
	"context"
	"errors"
)

// TODO(scaffold): replaced by the issue that delivers this stage.
func runWarn(ctx context.Context, e *env, args []string) error {
	return errors.New("not built yet")
}
