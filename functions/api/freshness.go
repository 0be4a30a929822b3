package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// freshnessStore is the store calls of the freshness rules.
type freshnessStore interface {
	FreshnessRules(ctx context.Context, clientID int64) ([]hook.FreshnessRule, error)
	PutFreshnessRules(ctx context.Context, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error)
}

// handleGetFreshness serves GET .../freshness: 200 with the account's rules
// as stored (an empty array when it has none). Allowed on any plan.
func handleGetFreshness(log *slog.Logger, s interface {
	memberAuth
	freshnessStore
}) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		rules, err := s.FreshnessRules(r.Context(), p.ClientID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newFreshnessJSON(rules))
		return nil
	})
}

// handlePutFreshness serves PUT .../freshness: a body of one array of at
// most hook.MaxFreshnessRules rules, each exactly
// {"integration_name":"...","table":"...","max_interval":"2h"}, replacing
// the account's rules; 200 with the rules as stored. A body that is not
// that is 400 InvalidBody with a message naming the problem. Putting rules
// needs the plan's feature; putting [] (removing them all) does not.
func handlePutFreshness(log *slog.Logger, s interface {
	memberAuth
	freshnessStore
}, minInterval time.Duration) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		data, err := readBody(w, r)
		if err != nil {
			return err
		}
		rules, err := decodeFreshness(data, minInterval)
		if err != nil {
			return err
		}
		out, err := putFreshness(r.Context(), s, p, rules)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newFreshnessJSON(out))
		return nil
	})
}

// putFreshness is how a member replaces the freshness rules, through the
// JSON API or the web page alike: rules already checked (decodeFreshness,
// or hook.CheckFreshnessRules).
func putFreshness(ctx context.Context, s freshnessStore, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error) {
	return s.PutFreshnessRules(ctx, p, rules)
}

// Messages of an invalid freshness body besides hook.CheckFreshnessRules'.
const (
	msgFreshnessNotArray = "Body must be a JSON array of rules"
	msgFreshnessKeys     = "must be an object with exactly integration_name, table and max_interval"
)

func freshnessInvalid(msg string) error {
	return &hook.ValidationError{Field: "rules", Message: msg}
}

// decodeFreshness reads a PUT body into checked rules, or returns a
// *hook.ValidationError naming the first problem.
func decodeFreshness(data []byte, minInterval time.Duration) ([]hook.FreshnessRule, error) {
	elems, err := strictjson.ParseBodyArray(data)
	if err != nil {
		return nil, freshnessInvalid(msgFreshnessNotArray)
	}
	if len(elems) > hook.MaxFreshnessRules {
		return nil, freshnessInvalid(fmt.Sprintf("At most %d rules are allowed", hook.MaxFreshnessRules))
	}
	rules := make([]hook.FreshnessRule, len(elems))
	for i, raw := range elems {
		o, err := strictjson.BodyElement(raw, i)
		if err != nil || o.Exactly("integration_name", "table", "max_interval") != nil {
			return nil, freshnessInvalid(fmt.Sprintf("Rule %d %s", i+1, msgFreshnessKeys))
		}
		for _, f := range []struct {
			key string
			dst *string
		}{{"integration_name", &rules[i].IntegrationName}, {"table", &rules[i].Table}, {"max_interval", &rules[i].MaxInterval}} {
			v, err := o.String(f.key)
			if err != nil {
				return nil, freshnessInvalid(fmt.Sprintf("Rule %d: %s must be a string", i+1, f.key))
			}
			*f.dst = v
		}
	}
	if err := hook.CheckFreshnessRules(rules, minInterval); err != nil {
		return nil, err
	}
	return rules, nil
}

// freshnessRuleJSON is one rule as the API shows it.
type freshnessRuleJSON struct {
	IntegrationName string `json:"integration_name"`
	Table           string `json:"table"`
	MaxInterval     string `json:"max_interval"`
	CreatedAt       string `json:"created_at"`
}

func newFreshnessJSON(rules []hook.FreshnessRule) []freshnessRuleJSON {
	out := make([]freshnessRuleJSON, 0, len(rules))
	for _, r := range rules {
		out = append(out, freshnessRuleJSON{IntegrationName: r.IntegrationName, Table: r.Table, MaxInterval: r.MaxInterval, CreatedAt: formatTime(r.CreatedAt)})
	}
	return out
}
