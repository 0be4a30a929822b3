package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// integrationAPI is the real handler over the real store on a fresh
// DynamoDB Local table, served over HTTP.
type integrationAPI struct {
	url    string
	client *http.Client
}

func newIntegrationAPI(t *testing.T) *integrationAPI {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	st := store.New(db, table, time.Now)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken), hooksConfig{}))
	t.Cleanup(srv.Close)
	return &integrationAPI{url: srv.URL, client: srv.Client()}
}

func (a *integrationAPI) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", bearer(token))
	}
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b) // exactly as sent: nothing after the closing brace
}

// mustDo expects wantStatus and decodes the body into v (when non-nil).
func (a *integrationAPI) mustDo(t *testing.T, method, path, token, body string, wantStatus int, v any) string {
	t.Helper()
	status, got := a.do(t, method, path, token, body)
	if status != wantStatus {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, status, got, wantStatus)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(got), v); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, got, err)
		}
	}
	return got
}

type apiHook struct {
	ID         int64                `json:"id"`
	ClientID   int64                `json:"client_id"`
	Type       string               `json:"type"`
	Version    int                  `json:"version"`
	DestID     int64                `json:"destination_id"`
	Config     struct{ URL string } `json:"config"`
	CreatedAt  string               `json:"created_at"`
	ModifiedAt string               `json:"modified_at"`
	DisabledAt *string              `json:"disabled_at"`
	Reason     *string              `json:"disabled_reason"`
	Filter     *filterJSON          `json:"filter"`
	Events     []string             `json:"events"`
	Secret     string               `json:"secret"`
}

// hookList reads a list response, which must be exactly
// {"post_load":[hook, ...]}.
type hookList []apiHook

func (l *hookList) UnmarshalJSON(b []byte) error {
	var v struct {
		PostLoad *[]apiHook `json:"post_load"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if v.PostLoad == nil {
		return errors.New(`no "post_load" array`)
	}
	*l = *v.PostLoad
	return nil
}

// newMember creates an account with plan and returns a member's token.
func (a *integrationAPI) newMember(t *testing.T, clientID int64, plan string) string {
	t.Helper()
	a.mustDo(t, "POST", "/admin/v1/accounts", adminToken,
		fmt.Sprintf(`{"client_id":%d,"plan":%q,"alert_emails":["ops@example.com"],"destinations":[{"id":12345,"type":"s3"}]}`, clientID, plan), http.StatusCreated, nil)
	var m struct{ Token string }
	a.mustDo(t, "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", clientID), adminToken, `{"email":"ana@example.com"}`, http.StatusCreated, &m)
	return m.Token
}

func hookBody(url string) string {
	return `{"type":"post_load","destination_id":12345,"config":{"url":"` + url + `"}}`
}

func TestIntegrationHooksFlow(t *testing.T) {
	api := newIntegrationAPI(t)
	api.mustDo(t, "GET", "/healthz", "", "", http.StatusOK, nil)

	status, body := api.do(t, "POST", "/admin/v1/accounts", "", `{"client_id":116078,"plan":"advanced"}`)
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)

	var account map[string]any
	api.mustDo(t, "POST", "/admin/v1/accounts", adminToken,
		`{"client_id":116078,"plan":"advanced","alert_emails":["ops@example.com"],"destinations":[{"id":12345,"type":"s3"},{"id":9,"type":"snowflake"}]}`, http.StatusCreated, &account)
	if account["client_id"] != float64(116078) || account["plan"] != "advanced" || account["hook_count"] != float64(0) {
		t.Errorf("account = %v", account)
	}
	status, body = api.do(t, "POST", "/admin/v1/accounts", adminToken, `{"client_id":116078,"plan":"advanced"}`)
	checkResponse(t, status, body, http.StatusConflict, bodyConflict)
	status, body = api.do(t, "GET", "/admin/v1/accounts/999999", adminToken, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)

	var member struct {
		MemberID string `json:"member_id"`
		Token    string `json:"token"`
	}
	api.mustDo(t, "POST", "/admin/v1/accounts/116078/members", adminToken, `{"email":"ana@example.com"}`, http.StatusCreated, &member)
	tokA := member.Token
	tokB := api.newMember(t, 200, "premium")

	status, body = api.do(t, "GET", hooksPath, "", "")
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	status, body = api.do(t, "GET", hooksPath, "plh_not-a-real-token", "")
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)

	// Create, list.
	var created apiHook
	api.mustDo(t, "POST", hooksPath, tokA, hookBody(urlA), http.StatusOK, &created)
	if created.ID <= 0 || created.ClientID != 116078 || created.Type != "post_load" || created.Version != 1 ||
		created.DestID != 12345 || created.Config.URL != urlA || created.DisabledAt != nil || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Errorf("created = %+v", created)
	}
	if _, err := time.Parse(time.RFC3339, created.CreatedAt); err != nil || !strings.HasSuffix(created.CreatedAt, "Z") || len(created.CreatedAt) != 20 {
		t.Errorf("created_at %q is not RFC 3339 UTC to the second", created.CreatedAt)
	}
	var list hookList
	api.mustDo(t, "GET", hooksPath, tokA, "", http.StatusOK, &list)
	if len(list) != 1 || list[0].ID != created.ID || list[0].Secret != "" {
		t.Errorf("list = %+v, want the created hook without its secret", list)
	}
	idPath := fmt.Sprintf("%s/%d", hooksPath, created.ID)

	// Duplicates are per account.
	status, body = api.do(t, "POST", hooksPath, tokA, hookBody(urlA))
	checkResponse(t, status, body, http.StatusBadRequest, bodyDuplicateURI)
	var createdB apiHook
	api.mustDo(t, "POST", hooksPath, tokB, hookBody(urlA), http.StatusOK, &createdB)
	if createdB.ClientID != 200 {
		t.Errorf("B's hook client_id = %d", createdB.ClientID)
	}

	// Tenant isolation with the real store. Ids are per account, so A gets
	// a second hook whose id B does not have: B can neither see nor touch it.
	var second apiHook
	api.mustDo(t, "POST", hooksPath, tokA, hookBody("https://hooks.example.com/second"), http.StatusOK, &second)
	api.mustDo(t, "GET", hooksPath, tokB, "", http.StatusOK, &list)
	if len(list) != 1 || list[0].ClientID != 200 || list[0].ID == second.ID {
		t.Fatalf("B's list = %+v, want only B's hook, with an id other than %d", list, second.ID)
	}
	secondPath := fmt.Sprintf("%s/%d", hooksPath, second.ID)
	status, body = api.do(t, "PUT", secondPath, tokB, `{"enable":false}`)
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	status, body = api.do(t, "DELETE", secondPath, tokB, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	api.mustDo(t, "GET", hooksPath, tokA, "", http.StatusOK, &list)
	if len(list) != 2 || list[1].ID != second.ID || list[1].DisabledAt != nil {
		t.Errorf("A's hooks after B's attempts = %+v, want both, enabled", list)
	}
	api.mustDo(t, "DELETE", secondPath, tokA, "", http.StatusOK, nil)

	// Disable, enable, invalid bodies.
	var h apiHook
	api.mustDo(t, "PUT", idPath, tokA, `{"enable":false}`, http.StatusOK, &h)
	if h.DisabledAt == nil {
		t.Error("disable: disabled_at is null")
	}
	api.mustDo(t, "PUT", idPath, tokA, `{"enable":true}`, http.StatusOK, &h)
	if h.DisabledAt != nil {
		t.Errorf("enable: disabled_at = %q", *h.DisabledAt)
	}
	status, body = api.do(t, "PUT", idPath, tokA, `{"enable":true,"enable":true}`)
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidPutBody)
	status, body = api.do(t, "POST", hooksPath, tokA, `{"type":"post_load","destination_id":12345,"config":{"URL":"https://x.example.com/"}}`)
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidPostBody)
	status, body = api.do(t, "POST", hooksPath, tokA, hookBody("https://127.0.0.1/x"))
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidURI)

	// Destinations: another destination of the account is fine, one it
	// does not have is not, and one with hooks cannot be removed.
	status, body = api.do(t, "POST", hooksPath, tokA, `{"type":"post_load","destination_id":77,"config":{"url":"https://d.example.com/"}}`)
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidDestination)
	var onNine apiHook
	api.mustDo(t, "POST", hooksPath, tokA, `{"type":"post_load","destination_id":9,"config":{"url":"https://d.example.com/"}}`, http.StatusOK, &onNine)
	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", adminToken, `{"destinations":[{"id":12345,"type":"s3"}]}`)
	checkResponse(t, status, body, http.StatusConflict, `{"error":{"message":"Destination 9 still has 1 hook(s); delete them before removing it."}}`)
	status, body = api.do(t, "GET", "/admin/v1/accounts/116078/hooks", adminToken, "")
	_, asMember := api.do(t, "GET", hooksPath, tokA, "")
	checkResponse(t, status, body, http.StatusOK, asMember)
	status, body = api.do(t, "DELETE", fmt.Sprintf("%s/%d", hooksPath, onNine.ID), tokA, "")
	checkResponse(t, status, body, http.StatusOK, "null")
	api.mustDo(t, "PATCH", "/admin/v1/accounts/116078", adminToken, `{"destinations":[{"id":12345,"type":"s3"}]}`, http.StatusOK, nil)

	// Delete.
	status, body = api.do(t, "DELETE", idPath, tokA, "")
	checkResponse(t, status, body, http.StatusOK, "null")
	status, body = api.do(t, "DELETE", idPath, tokA, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	api.mustDo(t, "GET", hooksPath, tokA, "", http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("list after delete = %+v", list)
	}
	// The URL is free again after delete.
	api.mustDo(t, "POST", hooksPath, tokA, hookBody(urlA), http.StatusOK, &h)

	// Removing the member revokes its token at once.
	api.mustDo(t, "DELETE", "/admin/v1/accounts/116078/members/"+member.MemberID, adminToken, "", http.StatusOK, nil)
	status, body = api.do(t, "GET", hooksPath, tokA, "")
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
}

func TestIntegrationConcurrentCreatesMakeExactlyTen(t *testing.T) {
	api := newIntegrationAPI(t)
	tok := api.newMember(t, 300, "enterprise")

	const n = 50
	type result struct {
		status int
		body   string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			status, body := api.do(t, "POST", hooksPath, tok, hookBody(fmt.Sprintf("https://hooks.example.com/c/%d", i)))
			results[i] = result{status, body}
		})
	}
	close(start)
	wg.Wait()

	created := 0
	for i, r := range results {
		switch {
		case r.status == http.StatusOK:
			created++
		case r.status == http.StatusBadRequest && r.body == bodyLimit:
		default:
			t.Errorf("request %d: got %d %s, want 200 or the limit error", i, r.status, r.body)
		}
	}
	if created != 10 {
		t.Errorf("%d creates succeeded, want exactly 10", created)
	}
	var list hookList
	api.mustDo(t, "GET", hooksPath, tok, "", http.StatusOK, &list)
	if len(list) != 10 {
		t.Errorf("list has %d hooks, want 10", len(list))
	}
	for i := 1; i < len(list); i++ {
		if list[i-1].ID >= list[i].ID {
			t.Errorf("list not by id: %d before %d", list[i-1].ID, list[i].ID)
		}
	}
	var account struct {
		HookCount int `json:"hook_count"`
	}
	api.mustDo(t, "GET", "/admin/v1/accounts/300", adminToken, "", http.StatusOK, &account)
	if account.HookCount != 10 {
		t.Errorf("hook_count = %d, want 10", account.HookCount)
	}
	status, body := api.do(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/one-more"))
	checkResponse(t, status, body, http.StatusBadRequest, bodyLimit)
	// Deleting one makes room for exactly one more.
	api.mustDo(t, "DELETE", fmt.Sprintf("%s/%d", hooksPath, list[0].ID), tok, "", http.StatusOK, nil)
	api.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/one-more"), http.StatusOK, nil)
	status, body = api.do(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/two-more"))
	checkResponse(t, status, body, http.StatusBadRequest, bodyLimit)
}

func TestIntegrationDowngradeUpgrade(t *testing.T) {
	api := newIntegrationAPI(t)
	tok := api.newMember(t, 400, "advanced")
	var h1, h2, h3 apiHook
	api.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/1"), http.StatusOK, &h1)
	api.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/2"), http.StatusOK, &h2)
	api.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/3"), http.StatusOK, &h3)
	api.mustDo(t, "PUT", fmt.Sprintf("%s/%d", hooksPath, h3.ID), tok, `{"enable":false}`, http.StatusOK, &h3)

	var account struct {
		Plan          string `json:"plan"`
		HooksDisabled *int   `json:"hooks_disabled"`
	}
	status, body := api.do(t, "PATCH", "/admin/v1/accounts/400", adminToken, `{"plan":"standrd"}`)
	checkResponse(t, status, body, http.StatusBadRequest, invalidBody("plan must be one of: "+strings.Join(hook.KnownPlans(), ", ")))
	api.mustDo(t, "PATCH", "/admin/v1/accounts/400", adminToken, `{"plan":"standard"}`, http.StatusOK, &account)
	if account.Plan != "standard" || account.HooksDisabled == nil || *account.HooksDisabled != 2 {
		t.Errorf("downgrade answered plan %q, hooks_disabled %v; want standard, 2 (h3 was disabled already)", account.Plan, account.HooksDisabled)
	}

	// Every hook is disabled at once; h3 keeps its earlier disabled_at.
	var list hookList
	api.mustDo(t, "GET", hooksPath, tok, "", http.StatusOK, &list)
	if len(list) != 3 {
		t.Fatalf("list = %+v", list)
	}
	for _, h := range list {
		if h.DisabledAt == nil {
			t.Errorf("hook %d still enabled after downgrade", h.ID)
		}
		if h.ID == h3.ID && *h.DisabledAt != *h3.DisabledAt {
			t.Errorf("hook %d disabled_at changed from %s to %s", h.ID, *h3.DisabledAt, *h.DisabledAt)
		}
	}

	status, body = api.do(t, "PUT", fmt.Sprintf("%s/%d", hooksPath, h1.ID), tok, `{"enable":true}`)
	checkResponse(t, status, body, http.StatusBadRequest, bodyNoAccess)
	status, body = api.do(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/4"))
	checkResponse(t, status, body, http.StatusBadRequest, bodyNoAccess)
	// Cleaning up stays allowed.
	api.mustDo(t, "PUT", fmt.Sprintf("%s/%d", hooksPath, h2.ID), tok, `{"enable":false}`, http.StatusOK, nil)
	api.mustDo(t, "DELETE", fmt.Sprintf("%s/%d", hooksPath, h2.ID), tok, "", http.StatusOK, nil)

	// Upgrade: hooks stay disabled until a member re-enables them.
	api.mustDo(t, "PATCH", "/admin/v1/accounts/400", adminToken, `{"plan":"premium"}`, http.StatusOK, nil)
	api.mustDo(t, "GET", hooksPath, tok, "", http.StatusOK, &list)
	if len(list) != 2 {
		t.Fatalf("list after upgrade = %+v", list)
	}
	for _, h := range list {
		if h.DisabledAt == nil {
			t.Errorf("hook %d re-enabled by the upgrade", h.ID)
		}
	}
	var h apiHook
	api.mustDo(t, "PUT", fmt.Sprintf("%s/%d", hooksPath, h1.ID), tok, `{"enable":true}`, http.StatusOK, &h)
	if h.DisabledAt != nil {
		t.Errorf("re-enable after upgrade: disabled_at = %s", *h.DisabledAt)
	}
	api.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/4"), http.StatusOK, nil)
}
