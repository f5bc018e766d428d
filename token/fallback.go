package token

import "errors"

// Fallback is the Store of a machine that may have no keyring: it uses
// Primary (the OS keyring) and, the first time Primary fails with
// ErrNoKeyring, switches to Secondary for good and calls OnFallback. Any
// other failure of Primary (locked, timed out) is returned as it is: a
// keyring that exists but fails is never silently replaced. Not safe for
// concurrent use.
type Fallback struct {
	Primary   Store
	Secondary Store
	// OnFallback, when set, is told once why Secondary is used from now on.
	OnFallback func(cause error)

	fellBack bool
}

func (f *Fallback) current() Store {
	if f.fellBack {
		return f.Secondary
	}
	return f.Primary
}

// do runs op on the current store, and once more on Secondary when Primary
// turns out not to exist.
func (f *Fallback) do(op func(Store) error) error {
	err := op(f.current())
	if f.fellBack || !errors.Is(err, ErrNoKeyring) {
		return err
	}
	f.fellBack = true
	if f.OnFallback != nil {
		f.OnFallback(err)
	}
	return op(f.Secondary)
}

// Load implements Store.
func (f *Fallback) Load(key Key) (e *Entry, err error) {
	err = f.do(func(s Store) error { e, err = s.Load(key); return err })
	return e, err
}

// Save implements Store.
func (f *Fallback) Save(e *Entry) error { return f.do(func(s Store) error { return s.Save(e) }) }

// Delete implements Store.
func (f *Fallback) Delete(key Key) error { return f.do(func(s Store) error { return s.Delete(key) }) }

// Peek implements Peeker when Primary does, until Primary turned out not
// to exist.
func (f *Fallback) Peek(key Key) (*Entry, bool) {
	if p, ok := f.Primary.(Peeker); ok && !f.fellBack {
		return p.Peek(key)
	}
	return nil, false
}

// Where says where entries are kept now: Primary's place until it turned
// out not to exist, Secondary's after.
func (f *Fallback) Where() string { return f.current().Where() }

// None is the Store that keeps nothing: Load finds nothing, Save and Delete
// do nothing. For tokens that are cheap to get again (a service principal's)
// or that live elsewhere (a personal access token).
type None struct{}

// Load implements Store: there is never an entry.
func (None) Load(Key) (*Entry, error) { return nil, ErrNotFound }

// Save implements Store: the entry is dropped.
func (None) Save(*Entry) error { return nil }

// Delete implements Store.
func (None) Delete(Key) error { return nil }

// Where implements Store.
func (None) Where() string { return "nowhere (storage none: nothing is kept)" }

var (
	_ Store  = (*Fallback)(nil)
	_ Peeker = (*Fallback)(nil)
	_ Store  = None{}
)
