package stored

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Settings are the choices dbtdbx remembers, in settings.json beside the
// token file.
type Settings struct {
	Version int `json:"version"`
	// Storage is "file" once dbtdbx found no keyring on this machine.
	Storage string    `json:"storage,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Reason  string    `json:"reason,omitempty"`
}

// SettingsPath is the settings file beside the token file tokenFile.
func SettingsPath(tokenFile string) string {
	return filepath.Join(filepath.Dir(tokenFile), "settings.json")
}

// ReadSettings reads path; the error wraps ErrNotRegular when a FIFO
// or the like stands there, which it refuses without opening.
func ReadSettings(path string) (Settings, error) {
	var s Settings
	b, err := ReadRegular(path, "settings file")
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(b, &s)
	return s, err
}

// WriteSettings writes s atomically, in a directory only the user can read.
func WriteSettings(path string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".settings-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
