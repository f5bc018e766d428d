package stored

import (
	"testing"
)

// FuzzDecode feeds the stored-entry decoder arbitrary bytes: it never
// panics, and what it accepts is a complete entry that encodes and decodes
// to itself.
func FuzzDecode(f *testing.F) {
	good, _ := entry(3600e9, 1800e9).Encode()
	for _, seed := range [][]byte{
		good,
		[]byte(`{"version":1,"host":"https://h","client_id":"c","access_token":"a"}`),
		[]byte(`{"version":99,"host":"https://h","client_id":"c","access_token":"a"}`),
		[]byte(`{"version":1}`), []byte(`{"version":"1"}`), []byte(`[]`), []byte(`null`), []byte(``),
		[]byte(`{"version":1,"host":"https://h","client_id":"c","refresh_token":"r","expiry":"not a time"}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if e.Host == "" || e.ClientID == "" || e.AccessToken == "" && e.RefreshToken == "" || e.Version < 1 || e.Version > EntryVersion {
			t.Fatalf("accepted an incomplete entry: %+v", e)
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("an accepted entry does not decode after encoding: %v", err)
		}
	})
}
