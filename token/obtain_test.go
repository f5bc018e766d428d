package token

import (
	"context"
	"errors"
	"testing"
	"time"
)

// obtainingSource is a Source for a service principal whose Obtain counts
// its calls and fails with fail when set.
func obtainingSource(st Store, fail error) (*Source, *int) {
	calls := 0
	s := source(st)
	s.Warn = func(string) {}
	s.Obtain = func(_ context.Context, stored *Entry) (*Entry, error) {
		calls++
		if fail != nil {
			return nil, fail
		}
		e := entry(time.Hour, time.Hour)
		e.AccessToken, e.RefreshToken = "at-minted", ""
		return e, nil
	}
	return s, &calls
}

func TestSourceObtainsWhenNothingStoredAndCaches(t *testing.T) {
	st := &memStore{}
	s, calls := obtainingSource(st, nil)
	got, err := s.Token(context.Background(), false)
	if err != nil || got.AccessToken != "at-minted" || *calls != 1 || st.saves != 1 {
		t.Fatalf("first call: %v, %v; %d obtains, %d saves", got, err, *calls, st.saves)
	}
	if got, err = s.Token(context.Background(), false); err != nil || got.AccessToken != "at-minted" || *calls != 1 {
		t.Fatalf("a valid cached token was obtained again: %v, %v, %d obtains", got, err, *calls)
	}
	if _, err = s.Token(context.Background(), true); err != nil || *calls != 2 {
		t.Fatalf("a forced call did not obtain a new token: %v, %d obtains", err, *calls)
	}
}

func TestSourceObtainsWhenDue(t *testing.T) {
	st := &memStore{e: entry(time.Hour, time.Minute)}
	s, calls := obtainingSource(st, nil)
	if got, err := s.Token(context.Background(), false); err != nil || got.AccessToken != "at-minted" || *calls != 1 {
		t.Fatalf("due token: %v, %v, %d obtains", got, err, *calls)
	}
}

func TestSourceObtainFailureKeepsAUsableToken(t *testing.T) {
	boom := errors.New("token endpoint down")
	st := &memStore{e: entry(time.Hour, 2*time.Minute)}
	s, _ := obtainingSource(st, boom)
	if got, err := s.Token(context.Background(), false); err != nil || got.AccessToken != "at-old" {
		t.Fatalf("with 2m left and the server down: %v, %v; want the current token and a warning", got, err)
	}
	st = &memStore{e: entry(time.Hour, 20*time.Second)}
	s, _ = obtainingSource(st, boom)
	if _, err := s.Token(context.Background(), false); !errors.Is(err, boom) {
		t.Fatalf("with 20s left and the server down: %v, want the failure", err)
	}
	if st.e == nil || st.e.AccessToken != "at-old" || st.saves != 0 {
		t.Errorf("a failed obtain changed the store")
	}
}
