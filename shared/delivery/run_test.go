package delivery

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/notify"
)

func TestRunEventID(t *testing.T) {
	k := RunKey{ClientID: 116078, IntegrationName: "shopify", RunID: "r1"}
	id := k.EventID()
	if !regexp.MustCompile(`^run-[0-9a-f]{32}$`).MatchString(id) || id != k.EventID() {
		t.Fatalf("EventID = %q, want run- and 32 hex digits, the same every time", id)
	}
	for _, other := range []RunKey{
		{ClientID: 116079, IntegrationName: "shopify", RunID: "r1"},
		{ClientID: 116078, IntegrationName: "shopif", RunID: "yr1"},
		{ClientID: 116078, IntegrationName: "shopify", RunID: "r2"},
	} {
		if other.EventID() == id {
			t.Errorf("%+v has the event id of %+v", other, k)
		}
	}
}

func TestRunTablesWithin(t *testing.T) {
	ts := func(names ...string) []notify.RunTable {
		var out []notify.RunTable
		for _, n := range names {
			out = append(out, notify.RunTable{DestinationTableName: n})
		}
		return out
	}
	long := strings.Repeat("x", 100)
	for _, tt := range []struct {
		name   string
		budget int64
		first  bool
		want   int
	}{
		{"all fit", 1000, false, 3},
		{"two fit", 2 * (100 + RunTableOverhead), false, 2},
		{"none fit", 10, false, 0},
		{"the first table of a run always", 10, true, 1},
	} {
		got, size := RunTablesWithin(ts(long, long, long), tt.budget, tt.first)
		if len(got) != tt.want || size != int64(tt.want)*(100+RunTableOverhead) {
			t.Errorf("%s: %d tables of %d bytes, want %d", tt.name, len(got), size, tt.want)
		}
	}
}

func TestRunTimerMessage(t *testing.T) {
	m := RunTimerMessage{Kind: KindRunTimer, ClientID: 1, IntegrationName: "a<b", RunID: "r1", DueAt: time.Date(2026, 7, 15, 15, 0, 0, 0, time.UTC)}
	raw := m.Encode()
	if want := `{"kind":"run_timer","client_id":1,"integration_name":"a<b","run_id":"r1","due_at":"2026-07-15T15:00:00Z"}`; string(raw) != want {
		t.Fatalf("Encode = %s, want %s", raw, want)
	}
	if !IsRunTimer(raw) || IsEvent(raw) || IsProbe(raw) {
		t.Error("a run timer is not told from the retry queue's other messages")
	}
	back, err := DecodeRunTimer(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, m); diff != "" {
		t.Errorf("DecodeRunTimer(Encode) (-got +want):\n%s", diff)
	}
	if _, err := DecodeRunTimer([]byte(strings.Replace(string(raw), `"r1"`, `"`+strings.Repeat("é", 300)+`"`, 1))); err == nil {
		t.Error("a run id past 512 bytes accepted")
	}
}
