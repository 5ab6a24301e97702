package stages

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"qiandun/data/vault"
	"qiandun/internal/audit"
)

// TestVaultRevealsAudited checks the reveals of bureau and repair: the
// clear values come back, the lake's audit log gets one reveal line per
// token with the stage and purpose (never the value), and the terminal
// one line per batch, not one per value.
func TestVaultRevealsAudited(t *testing.T) {
	lake := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	v, err := vault.Open(lake, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tok-a": "13800000001", "tok-b": "13800000002", "tok-c": "张三"}
	for tok, val := range want {
		if err := v.Put(tok, val); err != nil {
			t.Fatal(err)
		}
	}
	var logged bytes.Buffer
	r := vaultReveals{v: v, lake: lake, stage: "repair", purpose: "repair 2023-12-31", log: slog.New(slog.NewTextHandler(&logged, nil))}
	got, err := r.Reveal(context.Background(), []string{"tok-a", "tok-b", "tok-c"})
	if err != nil {
		t.Fatal(err)
	}
	for tok, val := range want {
		if got[tok] != val {
			t.Errorf("%s: revealed %q, want %q", tok, got[tok], val)
		}
	}
	lines, err := audit.ReadReveals(lake)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d reveal lines in the audit log, want 3", len(lines))
	}
	for _, l := range lines {
		if l.Stage != "repair" || l.Purpose != "repair 2023-12-31" || want[l.Token] == "" {
			t.Errorf("reveal line of stage %q, purpose %q, token %q", l.Stage, l.Purpose, l.Token)
		}
	}
	b, err := os.ReadFile(audit.Path(lake))
	if err != nil {
		t.Fatal(err)
	}
	for _, val := range want {
		if strings.Contains(string(b), val) || strings.Contains(logged.String(), val) {
			t.Errorf("a clear value %q is in the audit log or the terminal", val)
		}
	}
	if n := strings.Count(logged.String(), "\n"); n != 1 {
		t.Errorf("%d terminal lines for one batch of reveals, want 1:\n%s", n, logged.String())
	}
	if _, err := r.Reveal(context.Background(), []string{"tok-missing"}); err == nil {
		t.Error("a token the vault does not hold was revealed")
	}
}
