package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
)

var (
	tokenKey = []byte("token-key-0123456789abcdef-0123456789")
	keyA     = []byte(strings.Repeat("a", 64))
	keyB     = []byte(strings.Repeat("b", 64))
)

// values is a small book of personal values, each under its token.
func values() map[string]string {
	m := map[string]string{}
	for i, v := range []string{"张三", "欧阳娜娜", "11010519491231002X", "13800138000", "", "O'Brien, \"Jr\"\n"} {
		m[pii.Token(tokenKey, fmt.Sprint(i, v))] = v
	}
	return m
}

func fill(t *testing.T, lake string, key []byte) map[string]string {
	t.Helper()
	v, err := Open(lake, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := values()
	for tok, val := range want {
		if err := v.Put(tok, val); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
	return want
}

func checkAll(t *testing.T, lake string, key []byte, want map[string]string) {
	t.Helper()
	v, err := Open(lake, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != len(want) {
		t.Errorf("vault holds %d values, want %d", v.Len(), len(want))
	}
	for tok, val := range want {
		got, err := v.Reveal(context.Background(), tok, "test")
		if err != nil || got != val {
			t.Errorf("Reveal(%s) = %q, %v; want %q", tok, got, err, val)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	lake := t.TempDir()
	want := fill(t, lake, keyA)
	b, err := os.ReadFile(Path(lake))
	if err != nil {
		t.Fatal(err)
	}
	for _, val := range want {
		if val != "" && bytes.Contains(b, []byte(val)) {
			t.Errorf("the vault file holds %q in clear", val)
		}
	}
	if st, _ := os.Stat(Path(lake)); st.Mode().Perm() != 0o600 {
		t.Errorf("vault mode %v", st.Mode().Perm())
	}
	checkAll(t, lake, keyA, want)
	if _, err := Open(lake, keyB, nil); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("open with another key: %v", err)
	}
	// Fresh nonces: the same value sealed twice differs.
	v, _ := Open(lake, keyA, nil)
	defer v.Close()
	v.Put("t1", "张三")
	v.Put("t2", "张三")
	s1, _, _ := v.lookup("t1")
	s2, _, _ := v.lookup("t2")
	if bytes.Equal(s1, s2) {
		t.Error("two seals of one value are equal (nonce reused)")
	}
	// An entry moved to another token does not authenticate.
	v.putSealed([]byte("t2"), s1)
	if _, err := v.Reveal(context.Background(), "t2", "test"); err == nil {
		t.Error("an entry moved to another token was revealed")
	}
}

func TestRevealAudit(t *testing.T) {
	lake := t.TempDir()
	want := fill(t, lake, keyA)
	var logs bytes.Buffer
	v, err := Open(lake, keyA, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tok := v.Tokens()[0]
	if _, err := v.Reveal(context.Background(), tok, ""); err == nil {
		t.Error("a reveal without a purpose")
	}
	if _, err := v.Reveal(context.Background(), tok, "bureau 2024-01"); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	if !strings.Contains(line, `"audit":"vault.reveal"`) || !strings.Contains(line, tok) || !strings.Contains(line, "bureau 2024-01") {
		t.Errorf("audit line %q", line)
	}
	if want[tok] != "" && strings.Contains(line, want[tok]) {
		t.Errorf("the audit line holds the value: %q", line)
	}
}

func TestRotate(t *testing.T) {
	lake := t.TempDir()
	want := fill(t, lake, keyA)
	n, err := Rotate(lake, keyA, keyB, nil)
	if err != nil || n != len(want) {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	checkAll(t, lake, keyB, want)
	if _, err := Open(lake, keyA, nil); err == nil {
		t.Error("the old key still opens the rotated vault")
	}
	if _, err := Rotate(lake, keyA, keyB, nil); err == nil {
		t.Error("rotating with the wrong old key")
	}
	if _, err := os.Stat(Path(lake) + ".new"); err == nil {
		t.Error("debris after rotation")
	}
}

// A crash at any step before the rename leaves the old vault whole and
// usable with the old key, and a later rotation succeeds.
func TestRotateCrash(t *testing.T) {
	for _, at := range []string{"written", "synced"} {
		t.Run(at, func(t *testing.T) {
			lake := t.TempDir()
			want := fill(t, lake, keyA)
			before, _ := os.ReadFile(Path(lake))
			crash := errors.New("injected crash")
			_, err := rotate(lake, keyA, keyB, nil, func(step string) error {
				if step == at {
					return crash
				}
				return nil
			})
			if !errors.Is(err, crash) {
				t.Fatalf("rotate: %v", err)
			}
			after, _ := os.ReadFile(Path(lake))
			if !bytes.Equal(before, after) {
				t.Error("the old vault changed")
			}
			checkAll(t, lake, keyA, want)
			if _, err := Rotate(lake, keyA, keyB, nil); err != nil {
				t.Fatal(err)
			}
			checkAll(t, lake, keyB, want)
		})
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(KeyEnv, "")
	t.Setenv("QIANDUN_KEY_DIR", dir)
	k, err := LoadKey(t.TempDir(), "", true, nil)
	if err != nil || len(k) < 32 {
		t.Fatalf("LoadKey = %d bytes, %v", len(k), err)
	}
	t.Setenv(KeyEnv, "short")
	if _, err := LoadKey(t.TempDir(), "", true, nil); err == nil {
		t.Error("a short $QIANDUN_VAULT_KEY")
	}
}

// jsonFile is the vault file of older releases.
type jsonFile struct {
	KeyFingerprint string            `json:"key_fingerprint"`
	Entries        map[string]string `json:"entries"` // token -> base64(nonce || ciphertext)
}

// TestReadJSON: the streaming reading of an older release's JSON vault
// gives what encoding/json gives, on the files that release wrote and on
// hand-made ones (escapes, whitespace, null or empty entries, non-ASCII,
// duplicates, other fields, malformed), and fails where it fails.
func TestReadJSON(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"empty", `{"key_fingerprint":"fp","entries":{}}`},
		{"two", `{"key_fingerprint":"fp","entries":{"a":"QUJD","b":"REVG"}}`},
		{"null entries", `{"key_fingerprint":"fp","entries":null}`},
		{"null fingerprint", `{"key_fingerprint":null,"entries":{}}`},
		{"escaped quote in a token", `{"key_fingerprint":"fp","entries":{"a\"b":"QUJD"}}`},
		{"unicode escape", `{"key_fingerprint":"fp","entries":{"a":"\u0041"}}`},
		{"non-ASCII", `{"key_fingerprint":"fp","entries":{"张":"QUJD"}}`},
		{"whitespace", `{"key_fingerprint": "fp", "entries": {"a": "QUJD"}}`},
		{"duplicate token", `{"key_fingerprint":"fp","entries":{"a":"QUJD","a":"REVG"}}`},
		{"other field", `{"version":[1,{"x":2}],"key_fingerprint":"fp","entries":{"a":"QUJD"}}`},
		{"names in upper case", `{"KEY_FINGERPRINT":"fp","Entries":{"a":"QUJD"}}`},
		{"fields swapped", `{"entries":{"a":"QUJD"},"key_fingerprint":"fp"}`},
		{"trailing comma", `{"key_fingerprint":"fp","entries":{"a":"QUJD",}}`},
		{"truncated", `{"key_fingerprint":"fp","entries":{"a":"QUJD"`},
		{"number value", `{"key_fingerprint":"fp","entries":{"a":1}}`},
		{"entries an array", `{"key_fingerprint":"fp","entries":["a"]}`},
		{"trailing data", `{"key_fingerprint":"fp","entries":{}} x`},
		{"empty file", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want jsonFile
			wantErr := json.Unmarshal([]byte(tc.doc), &want)
			got := jsonFile{Entries: map[string]string{}}
			err := readJSON(strings.NewReader(tc.doc), func(fp string) error { got.KeyFingerprint = fp; return nil },
				func(tok, val string) error { got.Entries[tok] = val; return nil })
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, encoding/json's %v", err, wantErr)
			}
			if want.Entries == nil {
				want.Entries = map[string]string{}
			}
			if err == nil && (got.KeyFingerprint != want.KeyFingerprint || !maps.Equal(got.Entries, want.Entries)) {
				t.Errorf("got %+v, encoding/json %+v", got, want)
			}
		})
	}
}
