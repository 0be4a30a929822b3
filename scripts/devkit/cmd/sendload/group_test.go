package main

import "testing"

// TestMessageGroupIsTheClientID: sendload sets MessageGroupId as loaders
// should, to the message's client_id, and none on a body without one.
func TestMessageGroupIsTheClientID(t *testing.T) {
	for body, want := range map[string]string{
		`{"client_id":116078,"load_id":"x"}`: "116078",
		`{"load_id":"x"}`:                    "",
		`{"client_id":-1}`:                   "",
		`not json`:                           "",
	} {
		if got := messageGroup(body); got != want {
			t.Errorf("messageGroup(%s) = %q, want %q", body, got, want)
		}
	}
}
