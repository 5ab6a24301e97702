package lake

import (
	"os"

	"qiandun/internal/durable"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, syncs it and renames it into place, so a reader sees either the
// old file or the complete new one (durable.WriteFile).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return durable.WriteFile(path, data, perm)
}

// ReplaceDir publishes the fully written directory src at dst. An existing
// dst is moved aside first and removed only after src is in place, so a
// crash leaves either the old or the new directory, never a mix. Files in
// src are synced before the rename (durable.ReplaceDir).
func ReplaceDir(src, dst string) error { return durable.ReplaceDir(src, dst) }

// RecoverDir finishes or rolls back an interrupted ReplaceDir of dst: if
// dst is missing but dst.old exists, the previous version is restored.
func RecoverDir(dst string) error { return durable.RecoverDir(dst) }

// FileSHA256 returns the hex SHA-256 of a file's bytes.
func FileSHA256(path string) (string, error) { return durable.SHA256(path) }
