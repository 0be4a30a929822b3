package delivery

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEventMessageRoundTrip(t *testing.T) {
	m := EventMessage{Kind: KindEvent, ClientID: 116078, Event: "load_overdue", EventID: "freshness-overdue-1-0123456789abcdef",
		Body: []byte(`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"<shop>","table":"orders","max_interval":"2h","last_loaded_at":null}`)}
	raw := m.Encode()
	want := `{"kind":"event","client_id":116078,"event":"load_overdue","event_id":"freshness-overdue-1-0123456789abcdef","body":{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"<shop>","table":"orders","max_interval":"2h","last_loaded_at":null}}`
	if string(raw) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", raw, want)
	}
	got, err := DecodeEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, m); diff != "" {
		t.Errorf("decoded (-got +want):\n%s", diff)
	}
	for _, bad := range []string{
		`{"kind":"retry","client_id":1,"event":"load_overdue","event_id":"x","body":{}}`,
		`{"kind":"event","client_id":1,"event":"load_overdue","event_id":"x","body":"{}"}`,
		`{"kind":"event","client_id":1,"event":"load_overdue","event_id":"x"}`,
		`{"kind":"event","client_id":1,"event":"load_overdue","event_id":"x","body":{},"extra":1}`,
	} {
		if _, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent(%s) = nil error, want one", bad)
		}
	}
}
