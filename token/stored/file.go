package stored

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// FileVersion is the version of the token file format written by this build.
// A File reads this version and every earlier one.
//
// The file is one JSON object: {"version": 1, "entries": {"<Key.String()>":
// <the entry as Entry.Encode writes it>, ...}}.
const FileVersion = 1

// ErrNewerVersion is wrapped when stored data was written by a newer dbtdbx in
// a format this one cannot read. The data is left as it is, for the newer
// dbtdbx to read; it is not corrupt.
var ErrNewerVersion = errors.New("written by a newer dbtdbx")

// File is the Store that keeps every login in one JSON file, for machines
// without a keyring. The file and its directory are private to the user
// (0600 and 0700 on Unix; on Windows the profile's ACLs keep them so); File
// refuses to read them when they are open to others rather than quietly
// tightening them. Every write replaces the file
// atomically, so a crash at any moment leaves the old file or the new one,
// whole. A file that cannot be parsed is moved aside, the error says where,
// and the store starts empty. Writers in different processes take turns
// through a lock file next to it ("<Path>.lock").
type File struct {
	// Path is the token file; its directory is created (0700) when missing.
	// DefaultFilePath gives the usual place. Required.
	Path string
	// Warn receives a one-line message when Save or Delete finds the file
	// unusable and moves it aside before writing; nil discards it. Load
	// reports the same through its error.
	Warn func(msg string)
	// Now names moved-aside files; nil means time.Now.
	Now func() time.Time

	// rename puts the written temporary file in place; nil means os.Rename.
	// Tests make it fail as a crash would, between writing and renaming.
	rename func(oldpath, newpath string) error
}

// DefaultFilePath is where the File store keeps logins unless told
// otherwise: dbtdbx/tokens.json in the user's config directory, which is
// $XDG_CONFIG_HOME when it is set (on any OS), else what os.UserConfigDir
// would answer, read through getenv: $HOME/.config on Linux and other Unix,
// $HOME/Library/Application Support on macOS, %AppData% on Windows.
func DefaultFilePath(getenv func(string) string) (string, error) {
	dir, err := userConfigDir(getenv)
	if err != nil {
		return "", fmt.Errorf("cannot find a place for the token file: %w", err)
	}
	return filepath.Join(dir, "dbtdbx", "tokens.json"), nil
}

func userConfigDir(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("XDG_CONFIG_HOME=%q is not an absolute path: make it one or unset it", dir)
		}
		return dir, nil
	}
	if runtime.GOOS == "windows" {
		if dir := getenv("AppData"); dir != "" {
			return dir, nil
		}
		return "", errors.New("neither %AppData% nor XDG_CONFIG_HOME is set")
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("neither HOME nor XDG_CONFIG_HOME is set")
	}
	switch runtime.GOOS {
	case "darwin", "ios":
		return filepath.Join(home, "Library", "Application Support"), nil
	case "plan9":
		return filepath.Join(home, "lib"), nil
	default:
		return filepath.Join(home, ".config"), nil
	}
}

// Where says which file holds the entries.
func (f *File) Where() string { return "file " + f.Path }

// fileDoc is the file's JSON form. Entries stay raw so that entries this
// build cannot read (written by a newer one) survive a Save of another key.
type fileDoc struct {
	Version int                        `json:"version"`
	Entries map[string]json.RawMessage `json:"entries"`
}

// unusableFile is the error of read for a file whose bytes cannot be parsed.
type unusableFile struct{ why string }

func (u *unusableFile) Error() string { return u.why }

// checkPrivate refuses a file or directory that others may read or write.
func checkPrivate(path string, mode fs.FileMode, want fs.FileMode) error {
	if runtime.GOOS == "windows" || mode.Perm()&0o077 == 0 {
		return nil
	}
	what := "token file"
	if mode.IsDir() {
		what = "directory of the token file"
	}
	return fmt.Errorf("the %s %s has mode %04o: other users may read or change it, so dbtdbx will not use it. "+
		"If nobody else could have read it, make it private with: chmod %o %s (if someone could, log out, then log in again)",
		what, path, mode.Perm(), want, path)
}

// ErrNotRegular is wrapped when a FIFO, a device, a directory or anything
// else but a regular file (or a symbolic link to one) stands where dbtdbx
// keeps a file of its own. dbtdbx never waits on it: a plain open of a FIFO
// would wait for the other end forever.
var ErrNotRegular = errors.New("not a regular file")

// checkRegular returns an error wrapping ErrNotRegular, which names path
// as what ("lock file") and says to move it away, unless path is a regular
// file or a symbolic link to one; errors of os.Stat, fs.ErrNotExist among
// them, come as they are. It does not open path.
func checkRegular(path, what string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return notRegular(path, what)
	}
	return nil
}

func notRegular(path, what string) error {
	return fmt.Errorf("the %s %s is %w: move it away", what, path, ErrNotRegular)
}

// ReadRegular is os.ReadFile for a file of dbtdbx's own: anything but a
// regular file is refused with an error wrapping ErrNotRegular, without
// waiting.
func ReadRegular(path, what string) ([]byte, error) {
	fh, _, err := openRegular(path, what)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(fh)
}

// openRegular opens path for reading and returns what the open file says of
// itself, refusing anything but a regular file as ReadRegular says.
// O_NONBLOCK makes the open of a FIFO return at once rather than wait for a
// writer; the file's own mode then refuses it. A regular file ignores the
// flag, and so does Windows.
func openRegular(path, what string) (*os.File, fs.FileInfo, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := fh.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(path, what)
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, st, nil
}

// read returns the entries in the file, none when it or its directory does
// not exist, an *unusableFile error when its bytes cannot be parsed.
func (f *File) read() (map[string]json.RawMessage, error) {
	if f.Path == "" {
		return nil, errors.New("token file: no path set")
	}
	st, err := os.Stat(filepath.Dir(f.Path))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	if err := checkPrivate(filepath.Dir(f.Path), st.Mode(), 0o700); err != nil {
		return nil, err
	}
	fh, st, err := openRegular(f.Path, "token file")
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if errors.Is(err, ErrNotRegular) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	defer fh.Close()
	if err := checkPrivate(f.Path, st.Mode(), 0o600); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	return f.parse(data)
}

func (f *File) parse(data []byte) (map[string]json.RawMessage, error) {
	// The version first, on its own: a newer file may look like anything else.
	var v struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, &unusableFile{describeJSONError(err)}
	}
	var version int
	if v.Version == nil || json.Unmarshal(v.Version, &version) != nil || version < 1 {
		return nil, &unusableFile{"no format version"}
	}
	if version > FileVersion {
		return nil, fmt.Errorf("the token file %s was %w (format %d, this one reads up to %d): upgrade dbtdbx",
			f.Path, ErrNewerVersion, version, FileVersion)
	}
	var doc fileDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &unusableFile{describeJSONError(err)}
	}
	if doc.Entries == nil {
		doc.Entries = map[string]json.RawMessage{}
	}
	return doc.Entries, nil
}

// describeJSONError says what is wrong without quoting the bytes, which may
// hold a token.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("unexpected JSON type at %q", te.Field)
	default:
		return "not a dbtdbx token file"
	}
}

func (f *File) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// moveAside renames an unusable file out of the way. It returns whether the
// file moved and, either way, the error that reports it. The caller holds
// the lock.
func (f *File) moveAside(u *unusableFile) (moved bool, report error) {
	stamp := f.now().UTC().Format("20060102T150405Z")
	aside := f.Path + ".corrupt-" + stamp
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.corrupt-%s-%d", f.Path, stamp, i)
	}
	if err := os.Rename(f.Path, aside); err != nil {
		return false, fmt.Errorf("%w: the token file %s is unusable (%s) and could not be moved aside (%v): remove it and log in again",
			ErrCorrupt, f.Path, u.why, err)
	}
	_ = syncDir(filepath.Dir(f.Path))
	return true, fmt.Errorf("%w: the token file %s was unusable (%s); moved it to %s. Log in again",
		ErrCorrupt, f.Path, u.why, aside)
}

// fileLockWait bounds the wait for another process's read-modify-write of
// the file, which takes milliseconds unless that process is stuck.
const fileLockWait = 30 * time.Second

// lock takes the lock file next to the token file, which every writer holds
// while it reads, changes and replaces the file. The operating system drops
// it when its process dies.
func (f *File) lock() (unlock func(), err error) {
	l, err := Acquire(context.Background(), f.Path+".lock", fileLockWait, "a dbtdbx writing "+f.Path)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the token file %s: %w", f.Path, err)
	}
	return l.Release, nil
}

// Load implements Store. An unusable file is moved aside and reported by an
// error wrapping ErrCorrupt that names both paths; later calls find the store
// empty.
func (f *File) Load(key Key) (*Entry, error) {
	entries, err := f.read()
	var u *unusableFile
	if errors.As(err, &u) {
		// Look again under the lock: a writer may have just replaced it.
		unlock, lerr := f.lock()
		if lerr != nil {
			return nil, lerr
		}
		entries, err = f.read()
		if errors.As(err, &u) {
			_, err = f.moveAside(u)
		}
		unlock()
	}
	if err != nil {
		return nil, err
	}
	return f.lookup(entries, key)
}

// Peek is Load that never writes: an unusable file is reported, not moved
// aside. It is for a reader that hands any error to one that can repair.
func (f *File) Peek(key Key) (*Entry, error) {
	entries, err := f.read()
	if err != nil {
		return nil, err
	}
	return f.lookup(entries, key)
}

// lookup finds and decodes key's entry among entries read from the file.
func (f *File) lookup(entries map[string]json.RawMessage, key Key) (*Entry, error) {
	raw, ok := entries[key.String()]
	if !ok {
		return nil, ErrNotFound
	}
	e, err := Decode(raw)
	if err == nil && e.Key() != key {
		err = fmt.Errorf("%w: it belongs to %s", ErrCorrupt, e.Key())
	}
	if err != nil {
		return nil, fmt.Errorf("token file %s, entry %q: %w", f.Path, key, err)
	}
	return e, nil
}

// Save implements Store. Other entries in the file are kept as they are.
func (f *File) Save(e *Entry) error {
	b, err := e.Encode()
	if err != nil {
		return err
	}
	return f.update(func(entries map[string]json.RawMessage) bool {
		entries[e.Key().String()] = b
		return true
	})
}

// Delete implements Store. Other entries in the file are kept as they are.
func (f *File) Delete(key Key) error {
	return f.update(func(entries map[string]json.RawMessage) bool {
		if _, ok := entries[key.String()]; !ok {
			return false
		}
		delete(entries, key.String())
		return true
	})
}

// update reads the file, lets change edit its entries and writes them back
// if change says so, all under the lock.
func (f *File) update(change func(map[string]json.RawMessage) bool) error {
	if f.Path == "" {
		return errors.New("token file: no path set")
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of the token file: %w", err)
	}
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f.removeTemps()
	entries, err := f.read()
	var u *unusableFile
	if errors.As(err, &u) {
		// Write over it only once it is safe elsewhere.
		moved, report := f.moveAside(u)
		if !moved {
			return report
		}
		if f.Warn != nil {
			f.Warn(report.Error())
		}
		entries, err = map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return err
	}
	if !change(entries) {
		return nil
	}
	return f.write(entries)
}

func (f *File) tempPattern() string { return filepath.Base(f.Path) + ".tmp-*" }

// removeTemps deletes temporary files left by a writer that stopped before
// renaming. Every writer holds the lock, so while we hold it no temporary
// file is in use.
func (f *File) removeTemps() {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Path), f.tempPattern()))
	for _, p := range left {
		_ = os.Remove(p)
	}
}

// write replaces the file with entries: a temporary file in the same
// directory, written and synced, renamed over the file, and the directory
// synced so that the rename survives a power cut.
func (f *File) write(entries map[string]json.RawMessage) (err error) {
	data, err := json.MarshalIndent(fileDoc{Version: FileVersion, Entries: entries}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, f.tempPattern()) // mode 0600
	if err != nil {
		return fmt.Errorf("cannot write the token file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			err = fmt.Errorf("cannot write the token file %s: %w", f.Path, err)
		}
	}()
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	rename := f.rename
	if rename == nil {
		rename = os.Rename
	}
	if err := rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory and
// needs not.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

var _ Store = (*File)(nil)
