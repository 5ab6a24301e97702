package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readJSON streams a vault file in the JSON form of older releases,
// {"key_fingerprint":"..","entries":{"token":"base64",...}}, without
// holding it: the fingerprint goes to fp, each entry to entry, in file
// order. It reads what encoding/json would decode into a struct of those
// two fields: names matched without case, other fields skipped, null
// entries empty, of a token given twice the last value (the newest Put
// wins), anything else an error.
func readJSON(r io.Reader, fp func(string) error, entry func(tok, val string) error) error {
	d := json.NewDecoder(r)
	if err := delim(d, '{'); err != nil {
		return err
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		switch {
		case strings.EqualFold(key, "key_fingerprint"):
			var s *string
			if err := d.Decode(&s); err != nil {
				return err
			}
			if s != nil {
				if err := fp(*s); err != nil {
					return err
				}
			}
		case strings.EqualFold(key, "entries"):
			if err := jsonEntries(d, entry); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return err
			}
		}
	}
	if err := delim(d, '}'); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the vault's JSON object")
	}
	return nil
}

func jsonEntries(d *json.Decoder, entry func(tok, val string) error) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil // null
	}
	if t != json.Delim('{') {
		return fmt.Errorf("entries: want an object, got %v", t)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		tok, ok := k.(string)
		if !ok {
			return fmt.Errorf("entries: a key %v", k)
		}
		var val string
		if err := d.Decode(&val); err != nil {
			return err
		}
		if err := entry(tok, val); err != nil {
			return err
		}
	}
	return delim(d, '}')
}

func delim(d *json.Decoder, want json.Delim) error {
	t, err := d.Token()
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if t != want {
		return fmt.Errorf("want %v, got %v", want, t)
	}
	return nil
}
