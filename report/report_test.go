package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var fixedTime = time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)

// buildFixtureReports writes the fixture model, scores, lake and EWS list
// under dir and the two reports under dir/reports.
func buildFixtureReports(t *testing.T, dir string) (model, bands, portfolio string) {
	t.Helper()
	md := filepath.Join(dir, "models", "acard", "v1")
	writeModelFixture(t, md)
	writeScoresFixture(t, filepath.Join(dir, "out", "scores"))
	writeLakeFixture(t, filepath.Join(dir, "lake"), filepath.Join(dir, "out", "early_warning"))
	opt := Options{Version: "test", Generated: fixedTime}
	out := filepath.Join(dir, "reports")
	model, err := WriteModelReport(md, filepath.Join(dir, "out", "scores"), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	bd := filepath.Join(dir, "models", "bcard", "v2")
	writeBandModel(t, bd, map[string][]Obs{"train": sample(21, 2000, 0.1), "test": sample(22, 800, 0.1), "oot": sample(23, 700, 0.12)}, 20)
	bands, err = WriteModelReport(bd, filepath.Join(dir, "out", "scores"), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	portfolio, err = WritePortfolioReport(context.Background(), PortfolioInputs{Lake: filepath.Join(dir, "lake"), Scores: filepath.Join(dir, "out", "scores"), EWS: filepath.Join(dir, "out", "early_warning")}, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	return model, bands, portfolio
}

var (
	externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)|@import|url\((?:'|")?https?:|<script|<link`)
	svgCount    = regexp.MustCompile(`<figure class="chart"><svg`)
)

// TestReportsSelfContained checks the reports' content without a browser:
// no external references or scripts, the sections and numbers the risk
// team looks for, and deterministic output.
func TestReportsSelfContained(t *testing.T) {
	dir := t.TempDir()
	model, bands, portfolio := buildFixtureReports(t, dir)
	bb, err := os.ReadFile(bands)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"曲线按分数段绘制", "0.1312", "CSI", "offset"} {
		if !bytes.Contains(bb, []byte(want)) {
			t.Errorf("band-only model report lacks %q", want)
		}
	}
	if bytes.Contains(bb, []byte("chart not drawn")) {
		t.Errorf("band-only model report has a chart that failed: %s", between(bb, "chart not drawn", 200))
	}
	mb, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := os.ReadFile(portfolio)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(model) != "model-acard-v1.html" {
		t.Fatalf("model report named %s", model)
	}
	for name, b := range map[string][]byte{"model": mb, "portfolio": pb} {
		if m := externalRef.Find(b); m != nil {
			t.Errorf("%s report references something external or has a script: %q", name, m)
		}
		if !bytes.Contains(b, []byte(`charset="utf-8"`)) || !bytes.Contains(b, []byte("Noto Sans CJK SC")) {
			t.Errorf("%s report lacks the charset or the CJK font stack", name)
		}
		if bytes.Contains(b, []byte("chart not drawn")) {
			t.Errorf("%s report has a chart that failed: %s", name, between(b, "chart not drawn", 200))
		}
	}
	for _, want := range []string{
		"特征汇总 Characteristic summary", "inquiries_30d", "高中及以下 high school or less", "iv below 0.02",
		"p 值 p-value", "1.20e-300", "ROC", "KS", "增益表 Gains", "校准 Calibration", "PSI", "latest scoring (2024-06-30)", "CSI",
		"monitoring (manifest.json)</td><td class=\"n\">1500</td><td class=\"n\">0.0123", "<th>latest scoring</th>", "0.3456",
	} {
		if !bytes.Contains(mb, []byte(want)) {
			t.Errorf("model report lacks %q", want)
		}
	}
	// 3 characteristics x 2 charts, the IV chart, ROC, 3 KS, 2 score
	// distributions, calibration, PSI bands.
	if n := len(svgCount.FindAll(mb, -1)); n != 15 {
		t.Errorf("model report has %d charts, want 15", n)
	}
	for _, want := range []string{
		"账龄分析 Vintage curves", "迁徙率 Roll rates", "逾期趋势 Delinquency trend", "预期损失 Expected loss",
		"集中度 Concentration", "largest 10 borrowers", "累计借贷金额", "自成立以来撮合的借贷本金总额", "预警名单", "120 loans on the list", "批量评分 Latest scoring run", "按决策 by decision", "lost_contact_repair", "triggered rule (reasons)", "skip_trace",
	} {
		if !bytes.Contains(pb, []byte(want)) {
			t.Errorf("portfolio report lacks %q", want)
		}
	}
	if n := len(svgCount.FindAll(pb, -1)); n < 9 {
		t.Errorf("portfolio report has %d charts, want at least 9", n)
	}
	// Same inputs, same bytes.
	dir2 := t.TempDir()
	model2, _, portfolio2 := buildFixtureReports(t, dir2)
	mb2, _ := os.ReadFile(model2)
	pb2, _ := os.ReadFile(portfolio2)
	norm := func(b []byte, d string) []byte { return bytes.ReplaceAll(b, []byte(d), []byte("DIR")) }
	if !bytes.Equal(norm(mb, dir), norm(mb2, dir2)) || !bytes.Equal(norm(pb, dir), norm(pb2, dir2)) {
		a, b := norm(mb, dir), norm(mb2, dir2)
		if bytes.Equal(a, b) {
			a, b = norm(pb, dir), norm(pb2, dir2)
		}
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Logf("differs at %d: %q vs %q", i, between(a[max(0, i-200):], "", 300), between(b[max(0, i-200):], "", 300))
				break
			}
		}
		t.Error("reports differ between two builds from the same inputs")
	}
}

func between(b []byte, s string, n int) string {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		return ""
	}
	j := min(len(b), i+n)
	return string(b[i:j])
}

// checkScript is injected into a copy of a report for the browser test:
// it records script errors and failed resource loads, and on load writes
// into the DOM how many charts there are, how many are drawn (an <svg>
// with drawn content and a non-empty box), and how many resources were
// fetched (a self-contained page fetches none).
const checkHead = `<script>
window.__errs = [];
window.addEventListener('error', function (e) { window.__errs.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || 'resource')); }, true);
(function () { var ce = console.error; console.error = function () { window.__errs.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
</script>`

const checkTail = `<script>
window.addEventListener('load', function () {
  var figs = document.querySelectorAll('figure.chart'), drawn = 0;
  figs.forEach(function (f) {
    var s = f.querySelector('svg');
    if (!s) return;
    var b = s.getBoundingClientRect();
    var marks = s.querySelectorAll('path, text, line, circle, polygon, rect').length;
    if (b.width > 50 && b.height > 50 && marks > 5) drawn++;
  });
  var res = performance.getEntriesByType('resource').length;
  var d = document.createElement('pre');
  d.id = 'qiandun-check';
  d.textContent = 'charts=' + figs.length + ' drawn=' + drawn + ' resources=' + res + ' errors=' + window.__errs.length + ' ' + window.__errs.join(' | ');
  document.body.appendChild(d);
});
</script>`

var checkLine = regexp.MustCompile(`charts=(\d+) drawn=(\d+) resources=(\d+) errors=(\d+)([^<]*)`)

// chromium returns the browser binary, or "" when the test may skip.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("QIANDUN_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("QIANDUN_BROWSER_TEST") == "1" {
		t.Fatal("chromium not found: run `make browser-deps` (report/browser-deps.sh installs Debian's chromium and fonts-noto-cjk)")
	}
	return ""
}

func browser(ctx context.Context, bin string, args ...string) ([]byte, []byte, error) {
	tmp, err := os.MkdirTemp("", "qiandun-chromium-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + tmp, "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// consoleError matches Chromium's log lines for page console errors and
// uncaught exceptions.
var consoleError = regexp.MustCompile(`(?m)^.*(CONSOLE.*(Uncaught|Error|error)|Failed to load resource).*$`)

// TestReportsInBrowser opens each report in headless Chromium: no
// console errors, no resource fetched, every chart drawn, and a screenshot
// saved (under the test's temp dir, or QIANDUN_SCREENSHOTS when set).
func TestReportsInBrowser(t *testing.T) {
	bin := chromium(t)
	if bin == "" {
		t.Skip("chromium not installed; `make test` installs it and sets QIANDUN_BROWSER_TEST=1")
	}
	dir := t.TempDir()
	model, bands, portfolio := buildFixtureReports(t, dir)
	shots := os.Getenv("QIANDUN_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(dir, "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := []string{model, bands, portfolio}
	// QIANDUN_CHECK_REPORTS=<dir> also checks the reports of a real run,
	// e.g. demo/reports after make pipelines.
	if d := os.Getenv("QIANDUN_CHECK_REPORTS"); d != "" {
		extra, _ := filepath.Glob(filepath.Join(d, "*.html"))
		if len(extra) == 0 {
			t.Fatalf("QIANDUN_CHECK_REPORTS=%s: no reports there", d)
		}
		for _, e := range extra {
			cp := filepath.Join(dir, "reports", "demo-"+filepath.Base(e))
			b, err := os.ReadFile(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cp, b, 0o644); err != nil {
				t.Fatal(err)
			}
			pages = append(pages, cp)
		}
	}
	for _, page := range pages {
		name := strings.TrimSuffix(filepath.Base(page), ".html")
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			wantCharts := len(svgCount.FindAll(b, -1))
			checked := strings.Replace(string(b), "<head>", "<head>"+checkHead, 1)
			checked = strings.Replace(checked, "</body>", checkTail+"</body>", 1)
			cp := filepath.Join(filepath.Dir(page), "."+name+".check.html")
			if err := os.WriteFile(cp, []byte(checked), 0o644); err != nil {
				t.Fatal(err)
			}
			dom, stderr, err := browser(ctx, bin, "--virtual-time-budget=10000", "--dump-dom", "file://"+cp)
			if err != nil {
				t.Fatalf("chromium --dump-dom: %v\n%s", err, tail(stderr))
			}
			m := checkLine.FindSubmatch(dom)
			if m == nil {
				t.Fatalf("check script did not run; DOM tail: %s\nstderr: %s", tail(dom), tail(stderr))
			}
			charts, _ := strconv.Atoi(string(m[1]))
			drawn, _ := strconv.Atoi(string(m[2]))
			res, _ := strconv.Atoi(string(m[3]))
			errs, _ := strconv.Atoi(string(m[4]))
			if charts != wantCharts || drawn != charts {
				t.Errorf("%d of %d charts drawn (%d in the file)", drawn, charts, wantCharts)
			}
			if res != 0 {
				t.Errorf("page fetched %d resources; a report must be self-contained", res)
			}
			if errs != 0 {
				t.Errorf("%d script/console errors: %s", errs, m[5])
			}
			if l := consoleError.FindAll(stderr, -1); len(l) > 0 {
				t.Errorf("chromium logged console errors:\n%s", bytes.Join(l, []byte("\n")))
			}
			png := filepath.Join(shots, name+".png")
			_, stderr, err = browser(ctx, bin, "--window-size=1280,2400", "--screenshot="+png, "file://"+page)
			if err != nil {
				t.Fatalf("chromium --screenshot: %v\n%s", err, tail(stderr))
			}
			info, err := os.Stat(png)
			if err != nil || info.Size() < 20_000 {
				t.Fatalf("screenshot %s missing or nearly empty (%v)", png, err)
			}
			t.Logf("%s: %d charts drawn; screenshot %s", name, drawn, png)
		})
	}
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
