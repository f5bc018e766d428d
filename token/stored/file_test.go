package stored

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func fileStore(t *testing.T) *File {
	t.Helper()
	return &File{Path: filepath.Join(t.TempDir(), "config", "dbtdbx", "tokens.json")}
}

func keyN(i int) Key { return Key{Host: fmt.Sprintf("https://h%d.example", i), ClientID: "c"} }

// leftovers lists files in the token file's directory other than the file
// itself and its lock.
func leftovers(t *testing.T, f *File) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(filepath.Dir(f.Path), "*"))
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, n := range names {
		if n != f.Path && n != f.Path+".lock" {
			left = append(left, filepath.Base(n))
		}
	}
	return left
}

func TestDefaultFilePath(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	got, err := DefaultFilePath(env("XDG_CONFIG_HOME", "/xdg", "HOME", "/home/u", "AppData", `C:\AppData`))
	if err != nil || got != filepath.Join("/xdg", "dbtdbx", "tokens.json") {
		t.Errorf("with XDG_CONFIG_HOME: %q, %v", got, err)
	}
	want := map[string]string{"windows": filepath.Join(`C:\AppData`, "dbtdbx", "tokens.json"), "darwin": "/home/u/Library/Application Support/dbtdbx/tokens.json"}[runtime.GOOS]
	if want == "" {
		want = "/home/u/.config/dbtdbx/tokens.json"
	}
	if got, err := DefaultFilePath(env("HOME", "/home/u", "AppData", `C:\AppData`)); err != nil || got != want {
		t.Errorf("without XDG_CONFIG_HOME: %q, %v; want %q", got, err, want)
	}
	if _, err := DefaultFilePath(env("XDG_CONFIG_HOME", "relative/dir", "HOME", "/home/u")); err == nil || !strings.Contains(err.Error(), "XDG_CONFIG_HOME") {
		t.Errorf("relative XDG_CONFIG_HOME: %v", err)
	}
	if _, err := DefaultFilePath(env()); err == nil {
		t.Error("no environment at all: want an error")
	}
}

func TestFileSaveLoadDeleteKeepsOtherKeys(t *testing.T) {
	f := fileStore(t)
	if _, err := f.Load(keyN(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load from nothing: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(f.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created the directory: %v", err)
	}
	a, b := bigEntry(t, keyN(1), 1000), bigEntry(t, keyN(2), 5000)
	for _, e := range []*Entry{a, b} {
		if err := f.Save(e); err != nil {
			t.Fatal(err)
		}
	}
	a2 := bigEntry(t, keyN(1), 100)
	if err := f.Save(a2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  Key
		want *Entry
	}{{keyN(1), a2}, {keyN(2), b}} {
		if got, err := f.Load(c.key); err != nil || !sameEntry(got, c.want) {
			t.Errorf("Load(%s): %v", c.key, err)
		}
	}
	// The format: a version and the entries by key, each in Entry's form.
	raw, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int                        `json:"version"`
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Version != FileVersion || len(doc.Entries) != 2 {
		t.Fatalf("file holds %s (%v)", raw, err)
	}
	if e, err := Decode(doc.Entries[keyN(2).String()]); err != nil || !sameEntry(e, b) {
		t.Errorf("entry %s in the file: %v", keyN(2), err)
	}
	if err := f.Delete(keyN(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(keyN(1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete: %v", err)
	}
	if got, err := f.Load(keyN(2)); err != nil || !sameEntry(got, b) {
		t.Errorf("the other key after Delete: %v", err)
	}
	if err := f.Delete(keyN(1)); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
	if f.Where() != "file "+f.Path {
		t.Errorf("Where() = %q", f.Where())
	}
}

func TestFileUnusableIsMovedAside(t *testing.T) {
	secret := "eyJhbGciOiJSUzI1NiJ9.secret-token"
	cases := map[string]string{
		"empty":         "",
		"truncated":     `{"version":1,"entries":{"c@https://h1.example":{"access_token":"` + secret,
		"not json":      secret,
		"no version":    `{"entries":{}}`,
		"version words": `{"version":"one","entries":{}}`,
		"a list":        `["` + secret + `"]`,
		"wrong entries": `{"version":1,"entries":["` + secret + `"]}`,
		"binary":        "\x00\xff\xfe" + secret,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			f := fileStore(t)
			f.Now = func() time.Time { return t0 }
			if err := f.Save(bigEntry(t, keyN(1), 100)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.Path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			aside := f.Path + ".corrupt-20261204T120000Z"
			_, err := f.Load(keyN(1))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), f.Path) || !strings.Contains(err.Error(), aside) {
				t.Fatalf("Load = %v, want ErrCorrupt naming %s and %s", err, f.Path, aside)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the file's content: %v", err)
			}
			if got, err := os.ReadFile(aside); err != nil || string(got) != content {
				t.Errorf("moved-aside file: %q, %v", got, err)
			}
			// From then on the store is empty, and works.
			if _, err := f.Load(keyN(1)); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load after moving aside: %v", err)
			}
			e := bigEntry(t, keyN(2), 100)
			if err := f.Save(e); err != nil {
				t.Fatal(err)
			}
			if got, err := f.Load(keyN(2)); err != nil || !sameEntry(got, e) {
				t.Errorf("Load after Save: %v", err)
			}
		})
	}
}

func TestFileSaveOverUnusableFileWarnsAndWrites(t *testing.T) {
	f := fileStore(t)
	if err := f.Save(bigEntry(t, keyN(1), 100)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	f.Warn = func(m string) { warnings = append(warnings, m) }
	e := bigEntry(t, keyN(2), 100)
	if err := f.Save(e); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], ".corrupt-") {
		t.Errorf("warnings %q, want one naming the moved-aside file", warnings)
	}
	if got, err := f.Load(keyN(2)); err != nil || !sameEntry(got, e) {
		t.Errorf("Load: %v", err)
	}
	// Two corruptions in the same second keep both files.
	f.Now = func() time.Time { return t0 }
	for range 2 {
		if err := os.WriteFile(f.Path, []byte("{garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Load(keyN(2)); !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	}
	if left := leftovers(t, f); len(left) != 3 {
		t.Errorf("want three moved-aside files, got %v", left)
	}
}

func TestFileNewerVersionIsLeftAlone(t *testing.T) {
	f := fileStore(t)
	if err := f.Save(bigEntry(t, keyN(1), 100)); err != nil {
		t.Fatal(err)
	}
	newer := []byte(`{"version":2,"logins":[{"anything":"else"}]}`)
	if err := os.WriteFile(f.Path, newer, 0o600); err != nil {
		t.Fatal(err)
	}
	_, loadErr := f.Load(keyN(1))
	saveErr := f.Save(bigEntry(t, keyN(1), 100))
	delErr := f.Delete(keyN(1))
	for _, err := range []error{loadErr, saveErr, delErr} {
		if !errors.Is(err, ErrNewerVersion) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "upgrade dbtdbx") || !strings.Contains(err.Error(), f.Path) {
			t.Errorf("got %v, want ErrNewerVersion naming the file and telling to upgrade", err)
		}
	}
	if got, _ := os.ReadFile(f.Path); !bytes.Equal(got, newer) {
		t.Errorf("the newer file changed: %s", got)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
}

func TestFileUnusableEntryLeavesTheOthers(t *testing.T) {
	f := fileStore(t)
	good := bigEntry(t, keyN(1), 100)
	if err := f.Save(good); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(bigEntry(t, keyN(2), 100)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(f.Path)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	entries := doc["entries"].(map[string]any)
	entries[keyN(2).String()] = map[string]any{"version": 1, "host": "h"}
	entries[keyN(3).String()] = map[string]any{"version": 9, "host": "h", "client_id": "c", "access_token": "from the future"}
	raw, _ = json.Marshal(doc)
	if err := os.WriteFile(f.Path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(keyN(2)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of the broken entry: %v", err)
	}
	if got, err := f.Load(keyN(1)); err != nil || !sameEntry(got, good) {
		t.Errorf("Load of the good entry: %v", err)
	}
	fixed := bigEntry(t, keyN(2), 100)
	if err := f.Save(fixed); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Load(keyN(2)); err != nil || !sameEntry(got, fixed) {
		t.Errorf("Load after Save: %v", err)
	}
	// An entry this build cannot read is kept as it was through the Save.
	raw, _ = os.ReadFile(f.Path)
	if !strings.Contains(string(raw), "from the future") {
		t.Errorf("a newer entry was dropped: %s", raw)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
}

// A write that fails at the rename, as a crash just before it would, leaves
// the old file whole and no temporary file.
func TestFileFailedRenameKeepsTheOldFile(t *testing.T) {
	f := fileStore(t)
	old := bigEntry(t, keyN(1), 3000)
	if err := f.Save(old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.Path)
	injected := errors.New("injected rename failure")
	var renamed []string
	f.rename = func(from, to string) error {
		renamed = append(renamed, from)
		// The new content is complete in the temporary file at this point.
		if b, err := os.ReadFile(from); err != nil || !json.Valid(b) {
			t.Errorf("temporary file before rename: %v", err)
		}
		return injected
	}
	if err := f.Save(bigEntry(t, keyN(1), 3000)); !errors.Is(err, injected) {
		t.Fatalf("Save = %v, want the rename failure", err)
	}
	if err := f.Delete(keyN(1)); !errors.Is(err, injected) {
		t.Fatalf("Delete = %v, want the rename failure", err)
	}
	if len(renamed) != 2 || filepath.Dir(renamed[0]) != filepath.Dir(f.Path) {
		t.Errorf("renamed %v, want temporary files next to the token file", renamed)
	}
	if after, _ := os.ReadFile(f.Path); !bytes.Equal(after, before) {
		t.Error("the token file changed")
	}
	if got, err := (&File{Path: f.Path}).Load(keyN(1)); err != nil || !sameEntry(got, old) {
		t.Errorf("Load after failed writes: %v, want the old entry", err)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
	// A rename that happens but reports an error leaves the new file whole.
	next := bigEntry(t, keyN(1), 3000)
	f.rename = func(from, to string) error {
		if err := os.Rename(from, to); err != nil {
			return err
		}
		return injected
	}
	if err := f.Save(next); !errors.Is(err, injected) {
		t.Fatalf("Save = %v", err)
	}
	if got, err := (&File{Path: f.Path}).Load(keyN(1)); err != nil || !sameEntry(got, next) {
		t.Errorf("Load: %v, want the new entry", err)
	}
}

// A temporary file left by a writer that died is ignored by readers and
// removed by the next writer.
func TestFileTemporaryFileOfADeadWriter(t *testing.T) {
	f := fileStore(t)
	e := bigEntry(t, keyN(1), 100)
	if err := f.Save(e); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(filepath.Dir(f.Path), "tokens.json.tmp-12345")
	if err := os.WriteFile(dead, []byte(`{"version":1,"entries":{"half`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Load(keyN(1)); err != nil || !sameEntry(got, e) {
		t.Fatalf("Load: %v", err)
	}
	if err := f.Save(bigEntry(t, keyN(2), 100)); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
}

// Processes saving different keys at the same time keep every key.
func TestFileConcurrentWritersKeepEveryKey(t *testing.T) {
	f := fileStore(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const procs, each = 6, 5
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := range procs {
		c := exec.Command(self)
		c.Env = childEnv(nil, envChild+"=file-save", "DBTDBX_TEST_FILE="+f.Path, fmt.Sprintf("DBTDBX_TEST_KEYS=%d:%d", p*each, each))
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, c), append(outs, &out)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	var missing []int
	for i := range procs * each {
		if _, err := f.Load(keyN(i)); err != nil {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		t.Errorf("keys lost: %v", missing)
	}
	if left := leftovers(t, f); len(left) > 0 {
		t.Errorf("left in the directory: %v", left)
	}
}

// fileSaveChild saves keys first..first+n-1 into the file DBTDBX_TEST_FILE.
func fileSaveChild() error {
	var first, n int
	if _, err := fmt.Sscanf(os.Getenv("DBTDBX_TEST_KEYS"), "%d:%d", &first, &n); err != nil {
		return err
	}
	f := &File{Path: os.Getenv("DBTDBX_TEST_FILE")}
	for i := first; i < first+n; i++ {
		k := keyN(i)
		e := &Entry{Version: EntryVersion, Host: k.Host, ClientID: k.ClientID, AccessToken: "at", Scopes: []string{"all-apis"}}
		if err := f.Save(e); err != nil {
			return err
		}
	}
	return nil
}

// A directory where the token file or its lock should be is refused with an
// error that names it and says what to do, and is left as it is.
func TestFileDirectoryInPlaceOfAFileIsRefused(t *testing.T) {
	for _, c := range []struct{ name, suffix, what string }{
		{"token file", "", "the token file "},
		{"lock file", ".lock", "the lock file "},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := fileStore(t)
			path := f.Path + c.suffix
			if err := os.MkdirAll(path, 0o700); err != nil {
				t.Fatal(err)
			}
			want := c.what + path + " is not a regular file: move it away"
			ops := map[string]func() error{
				"Save":   func() error { return f.Save(bigEntry(t, keyN(1), 100)) },
				"Delete": func() error { return f.Delete(keyN(1)) },
			}
			if c.suffix == "" {
				ops["Load"] = func() error { _, err := f.Load(keyN(1)); return err }
			}
			for name, op := range ops {
				if err := op(); !errors.Is(err, ErrNotRegular) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v, want an error saying %q", name, err, want)
				}
			}
			if st, err := os.Stat(path); err != nil || !st.IsDir() {
				t.Errorf("the directory was not left alone: %v", err)
			}
		})
	}
}
