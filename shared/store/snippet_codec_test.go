package store

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Whatever a receiver answers, and whatever snippet it is compressed
// against, a snippet reads back as it was kept: as text or compressed, the
// dictionary found by its checksum among the record's other snippets.
func FuzzSnippetCodec(f *testing.F) {
	page := strings.Repeat("<p>The server is temporarily unable to service your request.</p>", 20)
	f.Add("", "Bad gateway")
	f.Add(page, page)
	f.Add(page, "<html>"+page[:500]+"request 42"+page[500:])
	f.Add("{\"error\":\"down\"}", "{\"error\":\"down again\"}")
	f.Fuzz(func(t *testing.T, dict, s string) {
		dict = delivery.TruncateUTF8(strings.ToValidUTF8(dict, "\uFFFD"), delivery.SnippetBytes)
		s = delivery.TruncateUTF8(strings.ToValidUTF8(s, "\uFFFD"), delivery.SnippetBytes)
		if s == "" {
			return
		}
		m := map[string]types.AttributeValue{"t": attrN(1), "o": attrS(delivery.OutcomeHTTPStatus), "ms": attrN(1)}
		encodeSnippet(m, s, dict)
		if _, z := m[snipZ]; z == (m[snipText] != nil) {
			t.Fatalf("kept as %v: want exactly one of text and compressed", m)
		}
		a, p, err := decodeEntryAttempt(&types.AttributeValueMemberM{Value: m})
		if err != nil {
			t.Fatal(err)
		}
		r := loadRecord{entries: map[int64]entry{
			1: {rec: delivery.Record{Attempts: []delivery.Attempt{{Snippet: dict}}}},
			2: {rec: delivery.Record{Attempts: []delivery.Attempt{a}}},
		}}
		if p != nil {
			p.hookID, p.attempt = 2, 0
			rebuildSnippets(&r, []*packedSnippet{p})
		}
		if got := r.entries[2].rec.Attempts[0].Snippet; got != s {
			t.Fatalf("read back %q, want %q", got, s)
		}
	})
}
