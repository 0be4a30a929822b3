package main

import (
	"errors"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := map[string]struct {
		argv    []string
		want    args
		wantErr bool
	}{
		"positional only": {argv: []string{"api", "e.json"}, want: args{function: "api", eventFile: "e.json"}},
		"env vars after":  {argv: []string{"api", "e.json", "--env-vars", "env.json"}, want: args{"api", "e.json", "env.json"}},
		"env vars before": {argv: []string{"-n", "env.json", "api", "e.json"}, want: args{"api", "e.json", "env.json"}},
		"env vars =":      {argv: []string{"api", "--env-vars=env.json", "e.json"}, want: args{"api", "e.json", "env.json"}},
		"missing event":   {argv: []string{"api"}, wantErr: true},
		"extra argument":  {argv: []string{"api", "e.json", "more"}, wantErr: true},
		"dangling flag":   {argv: []string{"api", "e.json", "--env-vars"}, wantErr: true},
		"unknown flag":    {argv: []string{"api", "e.json", "--debug"}, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseArgs(tt.argv)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Errorf("parseArgs error %v, want usage", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseArgs = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
