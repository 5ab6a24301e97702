package lake

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"qiandun/internal/durable"
)

// File describes one input or output of a stage.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes,omitempty"`
}

// Manifest records what a stage read and wrote. Every stage writes one to
// <lake>/_manifests/<stage>.json when it succeeds.
type Manifest struct {
	Stage    string             `json:"stage"`
	Version  string             `json:"version"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Config   map[string]any     `json:"config,omitempty"`
	Inputs   []File             `json:"inputs"`
	Outputs  []File             `json:"outputs"`
	Counts   map[string]int64   `json:"counts,omitempty"`
	Timings  map[string]float64 `json:"timings_seconds,omitempty"`
	Extra    map[string]any     `json:"extra,omitempty"`
}

// ManifestPath returns the path of stage's manifest.
func (l Lake) ManifestPath(stage string) string {
	return filepath.Join(l.Root, ManifestDir, stage+".json")
}

// WriteManifest writes m atomically as the manifest of m.Stage.
func (l Lake) WriteManifest(m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest %s: %w", m.Stage, err)
	}
	return durable.WriteFile(l.ManifestPath(m.Stage), append(b, '\n'), 0o644)
}

// ReadManifest reads stage's manifest. It returns an error wrapping
// os.ErrNotExist when the stage has never succeeded.
func (l Lake) ReadManifest(stage string) (*Manifest, error) {
	b, err := os.ReadFile(l.ManifestPath(stage))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", stage, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %s: %w", stage, l.ManifestPath(stage), err)
	}
	return &m, nil
}
