package lake

import (
	"strings"
	"testing"
)

func TestLockExclusive(t *testing.T) {
	l := New(t.TempDir())
	release, err := l.Lock("ingest")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock("ingest"); err == nil || !strings.Contains(err.Error(), "another qiandun ingest") {
		t.Fatalf("second lock: %v, want refusal", err)
	}
	other, err := l.Lock("perf") // another stage's lock is independent
	if err != nil {
		t.Fatal(err)
	}
	other()
	release()
	again, err := l.Lock("ingest")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}
