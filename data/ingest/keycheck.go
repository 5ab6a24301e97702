package ingest

import (
	"fmt"
	"log/slog"

	"qiandun/data/lake"
	"qiandun/internal/keyfile"
)

// keyFingerprintField is the ingest manifest's config field naming the
// token key its tables were made with (keyfile.Fingerprint, never the key).
const keyFingerprintField = "key_fingerprint"

// checkKeyFingerprint refuses a token key other than the one the lake's
// tables were made with: the same person would get two tokens, and the
// fraud features that link borrowers by token (shared phone, device, IP;
// rings) would silently stop linking old and new rows. A lake ingested
// before fingerprints were recorded is accepted, with a warning, and gets
// this key's fingerprint.
func checkKeyFingerprint(prev *lake.Manifest, fp, lakeDir string, log *slog.Logger) error {
	if len(prev.Inputs) == 0 {
		return nil
	}
	was, _ := prev.Config[keyFingerprintField].(string)
	switch {
	case was == "":
		log.Warn("the lake's manifest records no PII token key fingerprint (ingested before they were recorded); recording this key's", "lake", lakeDir, "fingerprint", fp)
	case was != fp:
		return fmt.Errorf("ingest: lake %s was tokenised with another PII token key (fingerprint %s; this key's is %s): the same person would get two tokens and fraud linking would silently break; use the lake's key (--pii-key-file or $%s), or ingest into a new lake",
			lakeDir, was, fp, KeyEnv)
	}
	return nil
}

// keyFingerprint is the fingerprint of o's token key.
func (o Options) keyFingerprint() string { return keyfile.Fingerprint(o.Key) }
