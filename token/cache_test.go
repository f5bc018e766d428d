package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// memCache is a Cache in memory that keeps what it is given, as a real
// cache would: a copy without the refresh token.
type memCache struct {
	m     map[Key]*Entry
	drops int
}

func newMemCache() *memCache { return &memCache{m: map[Key]*Entry{}} }

func (c *memCache) Get(key Key) (*Entry, bool) {
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	cp := *e
	return &cp, true
}
func (c *memCache) Put(e *Entry) error {
	cp := *e
	cp.RefreshToken, cp.TokenURL = "", "" // as every Cache keeps it
	c.m[e.Key()] = &cp
	return nil
}
func (c *memCache) Drop(key Key) error { delete(c.m, key); c.drops++; return nil }
func (c *memCache) Where() string      { return "memory" }

// countingStore counts loads, and fails saves when failSave is set.
type countingStore struct {
	memStore
	loads    int
	failSave error
}

func (s *countingStore) Load(k Key) (*Entry, error) { s.loads++; return s.memStore.Load(k) }
func (s *countingStore) Save(e *Entry) error {
	if s.failSave != nil {
		return s.failSave
	}
	return s.memStore.Save(e)
}

func TestCachedWritesThroughWithoutRefreshToken(t *testing.T) {
	st, c := &countingStore{}, newMemCache()
	cs := &Cached{Store: st, Cache: c}
	e := entry(time.Hour, 50*time.Minute)
	if err := cs.Save(e); err != nil {
		t.Fatal(err)
	}
	got, ok := cs.Peek(e.Key())
	if !ok || got.AccessToken != e.AccessToken || !got.Expiry.Equal(e.Expiry) || got.RefreshToken != "" || got.TokenURL != "" {
		t.Fatalf("Peek after Save = %+v, %v; want the access token and expiry, no refresh token or token URL", got, ok)
	}
	if st.e == nil || st.e.RefreshToken != "rt-old" {
		t.Fatalf("the store lost the refresh token: %+v", st.e)
	}
	if err := cs.Delete(e.Key()); err != nil {
		t.Fatal(err)
	}
	if _, ok := cs.Peek(e.Key()); ok || st.e != nil {
		t.Fatal("Delete left the cached copy or the stored entry")
	}
}

func TestCachedFailedSaveLeavesNoStaleCopy(t *testing.T) {
	st, c := &countingStore{}, newMemCache()
	cs := &Cached{Store: st, Cache: c}
	old := entry(time.Hour, 50*time.Minute)
	if err := cs.Save(old); err != nil {
		t.Fatal(err)
	}
	st.failSave = errors.New("keyring locked")
	next := entry(time.Hour, 59*time.Minute)
	next.AccessToken = "at-new"
	if err := cs.Save(next); err == nil {
		t.Fatal("Save succeeded with a failing store")
	}
	if got, ok := cs.Peek(old.Key()); ok {
		t.Fatalf("after a failed save the cache still hands out %q", got.AccessToken)
	}
}

// cachedLogin is a store with a cache in front, holding e saved through
// both, as a login leaves them; tokenURL, when set, is e's token endpoint.
func cachedLogin(t *testing.T, e *Entry, tokenURL string) (*countingStore, *Cached) {
	t.Helper()
	st := &countingStore{}
	cs := &Cached{Store: st, Cache: newMemCache()}
	if tokenURL != "" {
		e.TokenURL = tokenURL
	}
	if err := cs.Save(e); err != nil {
		t.Fatal(err)
	}
	return st, cs
}

func TestSourceHandsOutCachedTokenWithoutReadingTheStore(t *testing.T) {
	srv, n := tokenServer(t, 200, `{}`)
	e := entry(time.Hour, 50*time.Minute)
	st, cs := cachedLogin(t, e, srv.URL)
	got, err := source(cs).Token(context.Background(), false)
	if err != nil || got.AccessToken != "at-old" || st.loads != 0 || n.Load() != 0 {
		t.Fatalf("got %v, %v; %d loads, %d calls; want the cached token, no load, no call", got, err, st.loads, n.Load())
	}
}

func TestSourceRefreshesPastADueCachedToken(t *testing.T) {
	srv, n := tokenServer(t, 200, `{"access_token":"at-new","token_type":"Bearer","refresh_token":"rt-new","expires_in":3600,"scope":"all-apis offline_access"}`)
	e := entry(time.Hour, time.Minute)
	st, cs := cachedLogin(t, e, srv.URL)
	got, err := source(cs).Token(context.Background(), false)
	if err != nil || got.AccessToken != "at-new" || n.Load() != 1 || st.loads == 0 {
		t.Fatalf("got %v, %v; %d calls, %d loads; want one refresh through the store", got, err, n.Load(), st.loads)
	}
	if p, ok := cs.Peek(e.Key()); !ok || p.AccessToken != "at-new" || p.RefreshToken != "" {
		t.Fatalf("the cache after the refresh holds %+v, %v; want the new access token alone", p, ok)
	}
	if st.e.RefreshToken != "rt-new" {
		t.Fatalf("the store holds refresh token %q, want rt-new", st.e.RefreshToken)
	}
}

func TestSourceSkipsACachedTokenWithoutTheScopes(t *testing.T) {
	e := entry(time.Hour, 50*time.Minute)
	st, cs := cachedLogin(t, e, "")
	src := source(cs)
	src.Scopes = []string{"sql"}
	if _, err := src.Token(context.Background(), false); !errors.Is(err, ErrLoginRequired) || st.loads == 0 {
		t.Fatalf("a cached token without the scope: %v after %d loads; want login required, decided from the store", err, st.loads)
	}
}

func TestSourceForcedRefreshIgnoresTheCache(t *testing.T) {
	srv, n := tokenServer(t, 200, `{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"scope":"all-apis offline_access"}`)
	e := entry(time.Hour, 50*time.Minute)
	st, cs := cachedLogin(t, e, srv.URL)
	got, err := source(cs).Token(context.Background(), true)
	if err != nil || got.AccessToken != "at-new" || n.Load() != 1 || st.e.RefreshToken != "rt-old" {
		t.Fatalf("forced: %v, %v, %d calls, stored refresh token %q", got, err, n.Load(), st.e.RefreshToken)
	}
}

func TestFallbackPeeksUntilItFellBack(t *testing.T) {
	c := newMemCache()
	e := entry(time.Hour, 50*time.Minute)
	_ = c.Put(e)
	f := &Fallback{Primary: &Cached{Store: failingStore{ErrNoKeyring}, Cache: c}, Secondary: &memStore{}}
	if _, ok := f.Peek(e.Key()); !ok {
		t.Fatal("Fallback does not peek into its primary's cache")
	}
	_, _ = f.Load(e.Key())
	if _, ok := f.Peek(e.Key()); ok {
		t.Fatal("Fallback peeks into the primary's cache after falling back")
	}
}

// A process with the cache off neither reads nor fills it, but its writes
// drop the copy that processes with the cache on read.
func TestCacheOffStillDropsTheCopy(t *testing.T) {
	st, c := &countingStore{}, newMemCache()
	on := &Cached{Store: st, Cache: c}
	off := &Cached{Store: st, Cache: dropOnly{c}}
	e := entry(time.Hour, 50*time.Minute)
	if err := on.Save(e); err != nil {
		t.Fatal(err)
	}
	if _, ok := off.Peek(e.Key()); ok {
		t.Error("with the cache off, Peek read it")
	}
	next := entry(time.Hour, 59*time.Minute)
	next.AccessToken = "at-new"
	if err := off.Save(next); err != nil {
		t.Fatal(err)
	}
	if got, ok := on.Peek(e.Key()); ok {
		t.Fatalf("after a save with the cache off, the cache still hands out %q", got.AccessToken)
	}
	_ = on.Save(e)
	if err := off.Delete(e.Key()); err != nil {
		t.Fatal(err)
	}
	if _, ok := on.Peek(e.Key()); ok {
		t.Fatal("after a delete with the cache off, the cache still hands out the token")
	}
}

// failingCache fails to drop, as a kernel that refuses keyctl does.
type failingCache struct{ memCache }

func (*failingCache) Drop(Key) error { return errors.New("operation not permitted") }

func TestCachedWarnsWhenACopyCannotBeDropped(t *testing.T) {
	var warned []string
	cs := &Cached{Store: &countingStore{}, Cache: &failingCache{*newMemCache()}, Warn: func(m string) { warned = append(warned, m) }}
	e := entry(time.Hour, 50*time.Minute)
	if err := cs.Delete(e.Key()); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "DBTDBX_KEYRING_CACHE=off") || !strings.Contains(warned[0], e.Host) {
		t.Fatalf("warnings %q; want one naming the host and the way out", warned)
	}
}
