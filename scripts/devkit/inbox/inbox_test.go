package inbox_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
)

func address(name string) string {
	return name + "-" + strings.ToLower(rand.Text()[:12]) + "@example.com"
}

func TestReaderFindsMailByRecipient(t *testing.T) {
	t.Parallel()
	client, base := devstack.SESv2(t)
	ctx := context.Background()
	to, cc, other := address("inbox-to"), address("inbox-cc"), address("inbox-other")
	before, err := inbox.New(base).List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	send := func(subject string, dest *sestypes.Destination) {
		t.Helper()
		_, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("alerts@example.com"),
			Destination:      dest,
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String(subject)},
				Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("text of " + subject)}},
			}},
		})
		if err != nil {
			t.Fatalf("SendEmail %s: %v", subject, err)
		}
	}
	send("first", &sestypes.Destination{ToAddresses: []string{to}, CcAddresses: []string{cc}})
	send("second", &sestypes.Destination{ToAddresses: []string{other}})

	r := inbox.New(base + "/")
	got, err := r.To(ctx, strings.ToUpper(cc))
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	if len(got) != 1 || got[0].Subject != "first" || got[0].Body.Text != "text of first" || got[0].From != "alerts@example.com" {
		t.Fatalf("To(%s) = %+v, want the one mail \"first\" from alerts@example.com", cc, got)
	}
	if rc := got[0].Recipients(); len(rc) != 2 || rc[0] != to || rc[1] != cc {
		t.Errorf("Recipients = %q, want [%s %s]", rc, to, cc)
	}
	all, err := r.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	old := inbox.IDs(before)
	var fresh []string
	for _, m := range all {
		if !old[m.MessageID] && (m.SentTo(to) || m.SentTo(other)) {
			fresh = append(fresh, m.Subject)
		}
	}
	if len(fresh) != 2 {
		t.Errorf("new mail to this test's addresses: %q, want first and second", fresh)
	}
	if _, err := inbox.New("http://127.0.0.1:1").List(ctx); err == nil {
		t.Errorf("List of a port nothing listens on: no error")
	}
}
