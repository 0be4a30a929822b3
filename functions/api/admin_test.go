package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/apigw"
)

const accountA = `{"client_id":116078,"plan":"advanced","alert_emails":[],"destinations":[{"id":12345,"type":"s3"}],"api_access":true,"auto_disable":true,"hook_count":0,` +
	`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z"}`

func TestAdminAccounts(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)

	status, body := api.do(t, "POST", "/admin/v1/accounts", admin,
		`{"client_id":42,"plan":"premium","alert_emails":["ops@example.com","Dev.Team+hooks@sub.example.org"]}`)
	checkResponse(t, status, body, http.StatusCreated, `{"client_id":42,"plan":"premium",`+
		`"alert_emails":["ops@example.com","Dev.Team+hooks@sub.example.org"],"destinations":[],"api_access":true,"auto_disable":true,"hook_count":0,`+
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z"}`)

	status, body = api.do(t, "POST", "/admin/v1/accounts", admin, `{"client_id":42,"plan":"premium"}`)
	checkResponse(t, status, body, http.StatusConflict, bodyConflict)

	status, body = api.do(t, "POST", "/admin/v1/accounts", admin, `{"client_id":43,"plan":"standard"}`)
	checkResponse(t, status, body, http.StatusCreated, `{"client_id":43,"plan":"standard","alert_emails":[],"destinations":[],"api_access":true,"auto_disable":true,"hook_count":0,`+
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z"}`)

	status, body = api.do(t, "GET", "/admin/v1/accounts/116078", admin, "")
	checkResponse(t, status, body, http.StatusOK, accountA)

	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"alert_emails":["a@example.com"]}`)
	checkResponse(t, status, body, http.StatusOK, patched(strings.Replace(accountA, `[]`, `["a@example.com"]`, 1), 0))

	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"plan":"enterprise","alert_emails":[]}`)
	checkResponse(t, status, body, http.StatusOK, patched(strings.Replace(accountA, "advanced", "enterprise", 1), 0))

	for _, id := range []string{"999", "0", "-1", "01", "+5", "abc", "1.5", "9223372036854775808"} {
		status, body = api.do(t, "GET", "/admin/v1/accounts/"+id, admin, "")
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		status, body = api.do(t, "PATCH", "/admin/v1/accounts/"+id, admin, `{"plan":"advanced"}`)
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		status, body = api.do(t, "POST", "/admin/v1/accounts/"+id+"/members", admin, `{"email":"a@example.com"}`)
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	}
}

// patched is an account body as the PATCH response shows it: with
// hooks_disabled last.
func patched(account string, disabled int) string {
	return strings.TrimSuffix(account, "}") + fmt.Sprintf(`,"hooks_disabled":%d}`, disabled)
}

func TestAdminMembers(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)

	status, body := api.do(t, "POST", "/admin/v1/accounts/116078/members", admin, `{"email":"ana@example.com"}`)
	if status != http.StatusCreated {
		t.Fatalf("create member: got %d %s", status, body)
	}
	var m struct {
		MemberID string `json:"member_id"`
		Email    string `json:"email"`
		Token    string `json:"token"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.MemberID == "" || m.Email != "ana@example.com" || !strings.HasPrefix(m.Token, "plh_") {
		t.Fatalf("create member body %s: %+v, %v", body, m, err)
	}

	status, body = api.do(t, "POST", hooksPath, bearer(m.Token), createBody)
	if status != http.StatusOK || !strings.Contains(body, `"client_id":116078,`) {
		t.Errorf("new member creates a hook: got %d %s", status, body)
	}
	if h, _ := api.store.hook(clientA, 1); len(h.Audit) != 1 || h.Audit[0].By != m.MemberID {
		t.Errorf("audit = %+v, want created by %s", h.Audit, m.MemberID)
	}

	status, body = api.do(t, "DELETE", "/admin/v1/accounts/200/members/"+m.MemberID, admin, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound) // another account's member
	status, body = api.do(t, "DELETE", "/admin/v1/accounts/116078/members/"+m.MemberID, admin, "")
	checkResponse(t, status, body, http.StatusOK, `{"member_id":"`+m.MemberID+`"}`)
	status, body = api.do(t, "GET", hooksPath, bearer(m.Token), "")
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	status, body = api.do(t, "DELETE", "/admin/v1/accounts/116078/members/"+m.MemberID, admin, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	status, body = api.do(t, "DELETE", "/admin/v1/accounts/116078/members/"+strings.Repeat("a", 129), admin, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)

	status, body = api.do(t, "POST", "/admin/v1/accounts/999/members", admin, `{"email":"ana@example.com"}`)
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
}

func invalidBody(message string) string {
	return `{"data":{"message":"` + message + `"},"error":"InvalidBody"}`
}

func TestAdminValidation(t *testing.T) {
	const (
		msgBody    = "Body must be one JSON object, without repeated keys or trailing data"
		msgID      = "client_id must be a positive integer"
		msgPlan    = "plan must be one of: advanced, basic, enterprise, free, free_trial, premium, standard, starter, unlimited, unlimited_plus"
		msgEmails  = "alert_emails must be an array of email addresses"
		msgEmail   = "email must be a valid email address without a display name"
		msgUnknown = "Body has an unknown field; allowed fields: "
	)
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf(`"u%d@example.com"`, i)
	}
	tests := []struct {
		name, method, path, body, wantMessage string
	}{
		{"create: not json", "POST", "/admin/v1/accounts", `{`, msgBody},
		{"create: empty", "POST", "/admin/v1/accounts", ``, msgBody},
		{"create: duplicate key", "POST", "/admin/v1/accounts", `{"client_id":1,"client_id":2,"plan":"advanced"}`, msgBody},
		{"create: trailing", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced"} 1`, msgBody},
		{"create: unknown key", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","hook_count":3}`, msgUnknown + "client_id, plan, alert_emails, destinations, api_access, auto_disable"},
		{"create: key case", "POST", "/admin/v1/accounts", `{"Client_ID":1,"plan":"advanced"}`, msgUnknown + "client_id, plan, alert_emails, destinations, api_access, auto_disable"},
		{"create: missing client_id", "POST", "/admin/v1/accounts", `{"plan":"advanced"}`, msgID},
		{"create: zero client_id", "POST", "/admin/v1/accounts", `{"client_id":0,"plan":"advanced"}`, msgID},
		{"create: negative client_id", "POST", "/admin/v1/accounts", `{"client_id":-4,"plan":"advanced"}`, msgID},
		{"create: fractional client_id", "POST", "/admin/v1/accounts", `{"client_id":1.5,"plan":"advanced"}`, msgID},
		{"create: exponent client_id", "POST", "/admin/v1/accounts", `{"client_id":1e3,"plan":"advanced"}`, msgID},
		{"create: string client_id", "POST", "/admin/v1/accounts", `{"client_id":"1","plan":"advanced"}`, msgID},
		{"create: huge client_id", "POST", "/admin/v1/accounts", `{"client_id":9223372036854775808,"plan":"advanced"}`, msgID},
		{"create: missing plan", "POST", "/admin/v1/accounts", `{"client_id":1}`, "plan is required"},
		{"create: empty plan", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":""}`, msgPlan},
		{"create: plan with spaces", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced plan"}`, msgPlan},
		{"create: plan upper case", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"Advanced"}`, msgPlan},
		{"create: plan null", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":null}`, msgPlan},
		{"create: emails not array", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":"a@example.com"}`, msgEmails},
		{"create: emails with number", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":[1]}`, msgEmails},
		{"create: emails null", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":null}`, msgEmails},
		{"create: 11 emails", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":[` + strings.Join(eleven, ",") + `]}`, "alert_emails may hold at most 10 addresses"},
		{"create: display name", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["Ops <ops@example.com>"]}`, "alert_emails[0] is not a valid email address without a display name"},
		{"create: angle brackets", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["ok@example.com","<ops@example.com>"]}`, "alert_emails[1] is not a valid email address without a display name"},
		{"create: no at", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["ops.example.com"]}`, "alert_emails[0] is not a valid email address without a display name"},
		{"create: dotless domain", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["ops@localhost"]}`, "alert_emails[0] is not a valid email address without a display name"},
		{"create: two addresses in one", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["a@example.com, b@example.com"]}`, "alert_emails[0] is not a valid email address without a display name"},
		{"create: repeated email", "POST", "/admin/v1/accounts", `{"client_id":1,"plan":"advanced","alert_emails":["a@example.com","A@example.com"]}`, "alert_emails[1] repeats an earlier address"},
		{"patch: empty object", "PATCH", "/admin/v1/accounts/116078", `{}`, "Body must contain plan, alert_emails, destinations, api_access or auto_disable"},
		{"patch: unknown key", "PATCH", "/admin/v1/accounts/116078", `{"client_id":5}`, msgUnknown + "plan, alert_emails, destinations, api_access, auto_disable"},
		{"patch: bad plan", "PATCH", "/admin/v1/accounts/116078", `{"plan":7}`, msgPlan},
		{"patch: bad email", "PATCH", "/admin/v1/accounts/116078", `{"alert_emails":["nope"]}`, "alert_emails[0] is not a valid email address without a display name"},
		{"patch: duplicate key", "PATCH", "/admin/v1/accounts/116078", `{"plan":"advanced","plan":"standard"}`, msgBody},
		{"member: missing email", "POST", "/admin/v1/accounts/116078/members", `{}`, msgEmail},
		{"member: bad email", "POST", "/admin/v1/accounts/116078/members", `{"email":"Ana <ana@example.com>"}`, msgEmail},
		{"member: email number", "POST", "/admin/v1/accounts/116078/members", `{"email":5}`, msgEmail},
		{"member: unknown key", "POST", "/admin/v1/accounts/116078/members", `{"email":"ana@example.com","role":"admin"}`, msgUnknown + "email"},
		{"member: not json", "POST", "/admin/v1/accounts/116078/members", `email=ana@example.com`, msgBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			status, body := api.do(t, tt.method, tt.path, bearer(adminToken), tt.body)
			checkResponse(t, status, body, http.StatusBadRequest, invalidBody(tt.wantMessage))
			if api.store.Calls("") != 0 {
				t.Errorf("store called %d times for an invalid body", api.store.Calls(""))
			}
		})
	}
}

// adminRequests is one request per admin route, each valid.
var adminRequests = []struct{ method, path, body string }{
	{"POST", "/admin/v1/accounts", `{"client_id":7,"plan":"advanced"}`},
	{"GET", "/admin/v1/accounts/116078", ""},
	{"PATCH", "/admin/v1/accounts/116078", `{"plan":"premium"}`},
	{"POST", "/admin/v1/accounts/116078/members", `{"email":"ana@example.com"}`},
	{"DELETE", "/admin/v1/accounts/116078/members/membera", ""},
}

func TestAdminAuthLocal(t *testing.T) {
	refused := []string{"", bearer(""), bearer("wrong"), bearer(adminToken + "x"), bearer(adminToken[:len(adminToken)-1]),
		"Basic " + adminToken, adminToken, bearer(tokenA)}
	for _, req := range adminRequests {
		for _, auth := range refused {
			t.Run(fmt.Sprintf("%s %s %q", req.method, req.path, auth), func(t *testing.T) {
				api := newTestAPI(t)
				status, body := api.do(t, req.method, req.path, auth, req.body)
				checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
				if api.store.Calls("") != 0 {
					t.Errorf("store called %d times", api.store.Calls(""))
				}
			})
		}
		t.Run(req.method+" "+req.path+" accepted", func(t *testing.T) {
			status, body := newTestAPI(t).do(t, req.method, req.path, "bearer "+adminToken, req.body)
			if status != http.StatusOK && status != http.StatusCreated {
				t.Errorf("got %d %s, want success", status, body)
			}
		})
		t.Run(req.method+" "+req.path+" refused without a configured token", func(t *testing.T) {
			api := newTestAPIWith(t, tokenAdmin(""))
			for _, auth := range []string{"", bearer(""), "Bearer", bearer(adminToken)} {
				status, body := api.do(t, req.method, req.path, auth, req.body)
				checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
			}
		})
	}
}

// TestAdminAuthLambda drives admin routes through the API Gateway adapter
// in Lambda mode: only IAM authorization in the request context counts.
func TestAdminAuthLambda(t *testing.T) {
	tests := []struct {
		name       string
		authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		authHeader string
		wantOK     bool
	}{
		{"IAM context", iamAuthorizer, "", true},
		{"no authorizer, even with the local admin token", nil, bearer(adminToken), false},
		{"no authorizer", nil, "", false},
		{"JWT authorizer is not IAM", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "x"}}}, "", false},
		{"empty IAM block", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{}}, "", false},
	}
	for _, req := range adminRequests {
		for _, tt := range tests {
			t.Run(req.method+" "+req.path+" "+tt.name, func(t *testing.T) {
				api := newTestAPIWith(t, iamAdmin)
				ev := lambdaEvent(req.method, req.path, req.body, tt.authorizer)
				if tt.authHeader != "" {
					ev.Headers["authorization"] = tt.authHeader
				}
				res, err := apigw.Wrap(api.handler)(context.Background(), ev)
				if err != nil {
					t.Fatal(err)
				}
				body := strings.TrimSuffix(res.Body, "\n")
				if tt.wantOK {
					if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
						t.Errorf("got %d %s, want success", res.StatusCode, body)
					}
					return
				}
				checkResponse(t, res.StatusCode, body, http.StatusUnauthorized, bodyUnauthorized)
				if api.store.Calls("") != 0 {
					t.Errorf("store called %d times", api.store.Calls(""))
				}
			})
		}
	}
}
