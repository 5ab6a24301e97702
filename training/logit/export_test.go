package logit

import "context"

// FitCold fits without the subsample warm start.
func FitCold(ctx context.Context, cols [][]float64, y []float64, o Options) (*Result, error) {
	return fit(ctx, cols, y, o, nil)
}
