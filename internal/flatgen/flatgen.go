// Package flatgen writes the synthetic flat modelling table that the
// training speed floor is measured on (model_baselines.json, "speed"): 20
// characteristics — 18 numeric with non-linear and non-monotone effects on
// the log odds, four of them 5% missing, and two Chinese categoricals — and
// a binary target `bad` with a bad rate near 0.14. The same rows and seed
// give the same bytes.
package flatgen

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// header is the table's column names, target last.
var header = []string{
	"x01", "x02", "x03", "x04", "x05", "x06", "x07", "x08", "x09", "x10",
	"x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "city", "channel", "bad",
}

var (
	cities   = []string{"北京", "上海", "广州", "深圳", "成都", "武汉", "西安", "郑州", "长沙", "昆明", "兰州", "乌鲁木齐"}
	cityEff  = []float64{-0.3, -0.3, -0.1, -0.2, 0, 0.1, 0.15, 0.2, 0.1, 0.3, 0.45, 0.5}
	channels = []string{"应用商店", "信息流广告", "合作方", "线下"}
	chanEff  = []float64{0, 0.35, 0.2, -0.25}
)

// Write writes rows data rows (and a header) of the table as CSV to w.
func Write(w io.Writer, rows int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, h := range header {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(h)
	}
	bw.WriteByte('\n')
	var x [18]float64
	var buf []byte
	for range rows {
		for j := range x {
			x[j] = r.NormFloat64()
		}
		// Effects on the log odds: linear, threshold, U-shaped (peak and
		// valley), saturating and noise-only characteristics.
		z := -2.35 +
			0.45*x[0] - 0.35*x[1] + 0.25*x[2] +
			0.4*math.Tanh(2*x[3]) +
			0.3*(x[4]*x[4]-1) - 0.25*(x[5]*x[5]-1) +
			0.5*step(x[6], 1) - 0.4*step(x[7], -0.5) +
			0.2*math.Abs(x[8]) + 0.15*x[9] - 0.1*x[10] +
			0.3*math.Sin(1.5*x[11]) + 0.12*x[12]
		ci, ch := r.IntN(len(cities)), r.IntN(len(channels))
		z += cityEff[ci] + chanEff[ch]
		bad := 0
		if r.Float64() < 1/(1+math.Exp(-z)) {
			bad = 1
		}
		buf = buf[:0]
		for j, v := range x {
			if j > 0 {
				buf = append(buf, ',')
			}
			// Four characteristics are 5% missing; in two of them
			// (x15, x17, noise otherwise) missing is riskier.
			if j == 4 || j == 9 || j == 14 || j == 16 {
				p := 0.05
				if j >= 14 {
					p = map[bool]float64{true: 0.1, false: 0.042}[bad == 1]
				}
				if r.Float64() < p {
					continue
				}
			}
			// Scales like a real table's: amounts, counts, ratios.
			switch {
			case j%3 == 0:
				buf = strconv.AppendFloat(buf, math.Round(5000*math.Exp(0.6*v))/100, 'f', -1, 64)
			case j%3 == 1:
				buf = strconv.AppendInt(buf, int64(math.Max(0, math.Round(3+2*v))), 10)
			default:
				buf = strconv.AppendFloat(buf, math.Round(1e4*v)/1e4, 'f', -1, 64)
			}
		}
		buf = append(buf, ',')
		buf = append(buf, cities[ci]...)
		buf = append(buf, ',')
		buf = append(buf, channels[ch]...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(bad), 10)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func step(v, at float64) float64 {
	if v > at {
		return 1
	}
	return 0
}
