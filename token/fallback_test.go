package token

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// failingStore fails every call with err.
type failingStore struct{ err error }

func (f failingStore) Load(Key) (*Entry, error) { return nil, f.err }
func (f failingStore) Save(*Entry) error        { return f.err }
func (f failingStore) Delete(Key) error         { return f.err }
func (f failingStore) Where() string            { return "failing" }

func TestFallbackOnlyWhenThereIsNoKeyring(t *testing.T) {
	noKeyring := keyringError{fmt.Errorf("%w: no bus", ErrNoKeyring)}
	file := &memStore{}
	var causes []error
	f := &Fallback{Primary: failingStore{noKeyring}, Secondary: file, OnFallback: func(err error) { causes = append(causes, err) }}
	if f.Where() != "failing" {
		t.Errorf("Where before any call = %q, want the primary's", f.Where())
	}
	e := entry(time.Hour, time.Hour)
	if err := f.Save(e); err != nil || file.saves != 1 {
		t.Fatalf("Save without a keyring: %v, %d saves in the file", err, file.saves)
	}
	if got, err := f.Load(e.Key()); err != nil || got.AccessToken != e.AccessToken || f.Where() != "memory" {
		t.Fatalf("Load after the fallback: %v, %v, where %q", got, err, f.Where())
	}
	if len(causes) != 1 || !errors.Is(causes[0], ErrNoKeyring) {
		t.Errorf("OnFallback calls: %v, want one with the cause", causes)
	}

	for _, cause := range []error{
		keyringError{fmt.Errorf("%w: locked", ErrKeyringTimeout)},
		keyringError{errors.New("failed to unlock correct collection")},
	} {
		file := &memStore{}
		f := &Fallback{Primary: failingStore{cause}, Secondary: file, OnFallback: func(err error) { t.Errorf("fell back on %v", err) }}
		if err := f.Save(e); !errors.Is(err, ErrKeyring) || file.saves != 0 {
			t.Errorf("Save with a keyring that fails (%v): %v, %d saves in the file; want the error and no fallback", cause, err, file.saves)
		}
	}
}

func TestNoneKeepsNothing(t *testing.T) {
	var s None
	if err := s.Save(entry(time.Hour, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(Key{Host: "https://h.example", ClientID: "c"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load = %v, want ErrNotFound", err)
	}
}
