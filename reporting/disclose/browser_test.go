package disclose

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

// checkScript, injected into a copy of a page, records script errors and
// counts the resources the page fetched once it has loaded.
const checkScript = `<script>
window.__errs = [];
window.addEventListener('error', function (e) { window.__errs.push('error: ' + (e.message || 'resource')); }, true);
window.addEventListener('load', function () {
  var d = document.createElement('pre');
  d.id = 'qiandun-check';
  d.textContent = 'resources=' + performance.getEntriesByType('resource').length + ' errors=' + window.__errs.length +
    ' tables=' + document.querySelectorAll('table').length + ' width=' + document.body.scrollWidth + ' ' + window.__errs.join(' | ');
  document.body.appendChild(d);
});
</script>`

var checkLine = regexp.MustCompile(`resources=(\d+) errors=(\d+) tables=(\d+) width=(\d+)([^<]*)`)

// chromium returns the browser, or "" when the test may skip (it may not
// under CI or QIANDUN_BROWSER_TEST=1: `make browser-deps` installs it).
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

var (
	href     = regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	external = regexp.MustCompile(`(?i)(https?:|//|url\(|@import|<script|<link|<img|<iframe)`)
)

// TestSite checks the published site without a browser — every link of
// every page resolves to a published file, and no page refers to anything
// outside (no URL, script, style sheet, image or font) — and then opens
// the index, a month and a project page in headless Chromium: no script
// error, no resource fetched, the tables laid out, the masked identity
// shown, and a screenshot of the project page drawn.
func TestSite(t *testing.T) {
	f := handLake(t)
	out := t.TempDir()
	for _, m := range []string{"2024-05", "2024-06"} {
		run(t, opts(t, f.lake, out, m, nil))
	}
	site := siteFiles(t, out)
	pages := 0
	for rel, s := range site {
		if !strings.HasSuffix(rel, ".html") {
			continue
		}
		pages++
		if m := external.FindString(s); m != "" {
			t.Errorf("%s refers outside the site: %q", rel, m)
		}
		for _, l := range href.FindAllStringSubmatch(s, -1) {
			target := filepath.Clean(filepath.Join(filepath.Dir(rel), l[1]))
			if _, ok := site[target]; !ok {
				t.Errorf("%s links %q: no such file", rel, l[1])
			}
		}
	}
	if pages != 6 { // the index, 2 month pages, 3 project pages
		t.Errorf("%d pages", pages)
	}
	bin := chromium(t)
	if bin == "" {
		t.Skip("chromium not installed; `make test` installs it and sets QIANDUN_BROWSER_TEST=1")
	}
	for _, c := range []struct {
		page   string
		tables int
		text   string
		shot   bool // a screenshot too (each Chromium start is seconds on a loaded machine)
	}{
		{"index.html", 1, "2024-06", false},
		{"2024-06/index.html", 2, "李*", false},
		{"2024-06/projects/L02.html", 1, "622*********7002", true},
	} {
		t.Run(c.page, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			page := filepath.Join(out, filepath.FromSlash(c.page))
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			cp := filepath.Join(filepath.Dir(page), ".check-"+filepath.Base(page))
			if err := os.WriteFile(cp, bytes.Replace(b, []byte("</body>"), []byte(checkScript+"</body>"), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(cp)
			dom, stderr, err := browser(ctx, bin, "--virtual-time-budget=5000", "--dump-dom", "file://"+cp)
			if err != nil {
				t.Fatalf("chromium --dump-dom: %v\n%s", err, stderr)
			}
			m := checkLine.FindSubmatch(dom)
			if m == nil {
				t.Fatalf("check script did not run; DOM: %.2000s\nstderr: %.2000s", dom, stderr)
			}
			res, _ := strconv.Atoi(string(m[1]))
			errs, _ := strconv.Atoi(string(m[2]))
			tables, _ := strconv.Atoi(string(m[3]))
			if res != 0 || errs != 0 || tables != c.tables {
				t.Errorf("resources %d, errors %d (%s), tables %d (want 0, 0, %d)", res, errs, m[5], tables, c.tables)
			}
			if !bytes.Contains(dom, []byte(c.text)) {
				t.Errorf("page does not show %q", c.text)
			}
			if !c.shot {
				return
			}
			png := filepath.Join(t.TempDir(), "page.png")
			if _, stderr, err = browser(ctx, bin, "--window-size=1280,1600", "--screenshot="+png, "file://"+page); err != nil {
				t.Fatalf("chromium --screenshot: %v\n%.2000s", err, stderr)
			}
			if info, err := os.Stat(png); err != nil || info.Size() < 10_000 {
				t.Fatalf("screenshot %s missing or nearly empty (%v)", png, err)
			}
			if d := os.Getenv("QIANDUN_SCREENSHOTS"); d != "" {
				b, _ := os.ReadFile(png)
				os.WriteFile(filepath.Join(d, "disclose-"+strings.NewReplacer("/", "-").Replace(c.page)+".png"), b, 0o644)
			}
		})
	}
}
