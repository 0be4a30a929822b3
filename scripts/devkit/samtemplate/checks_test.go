package samtemplate

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A check inspects the template (and the code at root) and returns the
// problems it finds, one sentence each; none means the check passed.
type check func(t *Template, root string) []string

// localOnlyAPIVars are read by the api function only in local mode (no
// AWS_LAMBDA_RUNTIME_API): in Lambda the API Gateway serves HTTP and admin
// routes use AWS_IAM, so the template must not set them.
var localOnlyAPIVars = []string{"HOOKS_API_ADDR", "HOOKS_ADMIN_TOKEN"}

func checkParses(t *Template, _ string) []string {
	var p []string
	if t.FormatVersion != "2010-09-09" {
		p = append(p, fmt.Sprintf("AWSTemplateFormatVersion = %q, want 2010-09-09", t.FormatVersion))
	}
	if t.Transform != "AWS::Serverless-2016-10-31" {
		p = append(p, fmt.Sprintf("Transform = %q, want AWS::Serverless-2016-10-31", t.Transform))
	}
	if len(t.Functions()) == 0 {
		p = append(p, "no AWS::Serverless::Function")
	}
	return p
}

// checkCodeURIBuilds builds every function's CodeUri for linux/arm64 as
// scripts/build does.
func checkCodeURIBuilds(t *Template, root string) []string {
	var p []string
	for _, f := range t.Functions() {
		if f.CodeURI == "" || filepath.IsAbs(f.CodeURI) || strings.Contains(f.CodeURI, "..") {
			p = append(p, fmt.Sprintf("%s: CodeUri %q is not a folder of the repository", f.LogicalID, f.CodeURI))
			continue
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc,nethttpomithttp2", "-o", os.DevNull, "./"+filepath.ToSlash(filepath.Clean(f.CodeURI)))
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if out, err := cmd.CombinedOutput(); err != nil {
			p = append(p, fmt.Sprintf("%s: CodeUri %s does not build: %v\n%s", f.LogicalID, f.CodeURI, err, out))
		}
	}
	return p
}

// checkEnvironment compares the variables each function's code reads with
// the ones the template sets for it.
func checkEnvironment(t *Template, root string) []string {
	var p []string
	for _, f := range t.Functions() {
		read, err := readVars(root, filepath.Join(root, f.CodeURI))
		if err != nil {
			p = append(p, fmt.Sprintf("%s: %v", f.LogicalID, err))
			continue
		}
		set := map[string]bool{}
		for k := range f.Environment {
			set[k] = true
		}
		isAPI := hasEvent(f, "HttpApi")
		for _, v := range slices.Sorted(maps.Keys(read)) {
			if isAPI && slices.Contains(localOnlyAPIVars, v) {
				continue
			}
			if !set[v] {
				p = append(p, fmt.Sprintf("%s: code reads %s but the template does not set it", f.LogicalID, v))
			}
		}
		for _, v := range slices.Sorted(maps.Keys(set)) {
			if isAPI && slices.Contains(localOnlyAPIVars, v) {
				p = append(p, fmt.Sprintf("%s: sets %s, which only local mode reads (Lambda must not get it)", f.LogicalID, v))
				continue
			}
			if !read[v] {
				p = append(p, fmt.Sprintf("%s: sets %s but the code never reads it", f.LogicalID, v))
			}
		}
	}
	return p
}

func hasEvent(f Function, typ string) bool {
	for _, e := range f.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func checkReportBatchItemFailures(t *Template, _ string) []string {
	var p []string
	for _, f := range t.Functions() {
		for _, name := range slices.Sorted(maps.Keys(f.Events)) {
			e := f.Events[name]
			if e.Type != "SQS" {
				continue
			}
			if !slices.Contains(asSlice(e.Properties["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
				p = append(p, fmt.Sprintf("%s: SQS event %s lacks FunctionResponseTypes [ReportBatchItemFailures]", f.LogicalID, name))
			}
		}
	}
	return p
}

// checkQueues: every queue has a DLQ (or is one); a consumed queue's
// maxReceiveCount is at least 5 and its VisibilityTimeout at least 6 times
// the consuming function's timeout.
func checkQueues(t *Template, _ string) []string {
	var p []string
	isDLQ := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != "AWS::SQS::Queue" {
			continue
		}
		if target, _, ok := GetAtt(asMap(r.Properties["RedrivePolicy"])["deadLetterTargetArn"]); ok {
			isDLQ[target] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != "AWS::SQS::Queue" || isDLQ[id] {
			continue
		}
		rp := asMap(r.Properties["RedrivePolicy"])
		target, attr, ok := GetAtt(rp["deadLetterTargetArn"])
		if !ok || attr != "Arn" || t.Resources[target].Type != "AWS::SQS::Queue" {
			p = append(p, fmt.Sprintf("%s: no RedrivePolicy with deadLetterTargetArn !GetAtt <queue>.Arn", id))
			continue
		}
		if n := intOr(rp["maxReceiveCount"], 0); n < 5 {
			p = append(p, fmt.Sprintf("%s: maxReceiveCount %d, want at least 5", id, n))
		}
	}
	consumers := 0
	for _, f := range t.Functions() {
		for _, name := range slices.Sorted(maps.Keys(f.Events)) {
			e := f.Events[name]
			if e.Type != "SQS" {
				continue
			}
			consumers++
			q, attr, ok := GetAtt(e.Properties["Queue"])
			r, exists := t.Resources[q]
			if !ok || attr != "Arn" || !exists || r.Type != "AWS::SQS::Queue" {
				p = append(p, fmt.Sprintf("%s: SQS event %s: Queue is not !GetAtt <queue of this template>.Arn", f.LogicalID, name))
				continue
			}
			if isDLQ[q] {
				p = append(p, fmt.Sprintf("%s: SQS event %s consumes %s, a dead-letter queue", f.LogicalID, name, q))
			}
			vt := intOr(r.Properties["VisibilityTimeout"], 30) // SQS default
			if vt < 6*f.Timeout {
				p = append(p, fmt.Sprintf("%s: VisibilityTimeout %d of %s is less than 6 x its timeout %d", f.LogicalID, vt, q, f.Timeout))
			}
		}
	}
	if consumers == 0 {
		p = append(p, "no SQS event source")
	}
	return p
}

// checkAPITimeout: API Gateway gives up after 29 s (30 s for HTTP APIs, but
// the function must answer before that).
func checkAPITimeout(t *Template, _ string) []string {
	var p []string
	apis := 0
	for _, f := range t.Functions() {
		if !hasEvent(f, "HttpApi") && !hasEvent(f, "Api") {
			continue
		}
		apis++
		if f.Timeout > 29 {
			p = append(p, fmt.Sprintf("%s: Timeout %d, want at most 29 behind API Gateway", f.LogicalID, f.Timeout))
		}
	}
	if apis == 0 {
		p = append(p, "no function with an HttpApi event")
	}
	return p
}

func checkGlobals(t *Template, _ string) []string {
	var p []string
	g := asMap(t.Globals["Function"])
	want := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap"}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g[k] != want[k] {
			p = append(p, fmt.Sprintf("Globals.Function.%s = %v, want %v", k, g[k], want[k]))
		}
	}
	if a := asSlice(g["Architectures"]); len(a) != 1 || a[0] != "arm64" {
		p = append(p, fmt.Sprintf("Globals.Function.Architectures = %v, want [arm64]", g["Architectures"]))
	}
	if lf := asMap(g["LoggingConfig"])["LogFormat"]; lf != "JSON" {
		p = append(p, fmt.Sprintf("Globals.Function.LoggingConfig.LogFormat = %v, want JSON", lf))
	}
	// A function overriding a global must still end up with the same values.
	for _, f := range t.Functions() {
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || !slices.Equal(f.Architectures, []string{"arm64"}) ||
			f.LoggingConfig["LogFormat"] != "JSON" {
			p = append(p, fmt.Sprintf("%s: runs %s/%v handler %q log format %v, want provided.al2023/[arm64] bootstrap JSON",
				f.LogicalID, f.Runtime, f.Architectures, f.Handler, f.LoggingConfig["LogFormat"]))
		}
		if f.BuildMethod != "go1.x" {
			p = append(p, fmt.Sprintf("%s: Metadata.BuildMethod = %q, want go1.x", f.LogicalID, f.BuildMethod))
		}
	}
	return p
}

// statement is one IAM statement of a function's inline policies.
type statement struct {
	function  string
	effect    string
	actions   []string
	resources []any
}

// statements returns the inline statements of every function, and problems
// for policies that cannot be checked (SAM policy templates and managed
// policies grant more than they name).
func statements(t *Template) ([]statement, []string) {
	var out []statement
	var p []string
	for _, f := range t.Functions() {
		for _, pol := range f.Policies {
			doc := asMap(pol)
			sts, ok := doc["Statement"]
			if !ok {
				p = append(p, fmt.Sprintf("%s: policy %v is not an inline policy document (SAM policy templates and managed policies are broader than the code needs)", f.LogicalID, pol))
				continue
			}
			list := asSlice(sts)
			if list == nil {
				list = []any{sts}
			}
			for _, s := range list {
				sm := asMap(s)
				st := statement{function: f.LogicalID, effect: str(sm["Effect"])}
				for _, a := range toSlice(sm["Action"]) {
					st.actions = append(st.actions, str(a))
				}
				st.resources = toSlice(sm["Resource"])
				out = append(out, st)
			}
		}
	}
	return out, p
}

func toSlice(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// codeScans reports whether any non-test Go file under the given folders
// builds a DynamoDB Scan.
func codeScans(root string, dirs ...string) bool {
	found := false
	for _, d := range dirs {
		filepath.WalkDir(filepath.Join(root, d), func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err == nil && strings.Contains(string(b), "dynamodb.ScanInput") {
				found = true
			}
			return nil
		})
	}
	return found
}

// checkLeastPrivilege: no wildcard actions or resources, no DynamoDB Scan
// unless the code scans.
func checkLeastPrivilege(t *Template, root string) []string {
	sts, p := statements(t)
	for _, f := range t.Functions() {
		if len(f.Policies) == 0 {
			p = append(p, fmt.Sprintf("%s: no Policies", f.LogicalID))
		}
		if f.Role == "" {
			p = append(p, fmt.Sprintf("%s: no Role of its own (the role SAM makes carries AWS's managed execution policies, whose log and SQS rights are on every resource)", f.LogicalID))
		}
		for _, m := range f.ManagedPolicies {
			p = append(p, fmt.Sprintf("%s: managed policy %v on its role (broader than the code needs)", f.LogicalID, m))
		}
	}
	scans := codeScans(root, "functions", "shared/store")
	for _, s := range sts {
		if s.effect != "Allow" {
			continue
		}
		for _, a := range s.actions {
			if strings.Contains(a, "*") {
				p = append(p, fmt.Sprintf("%s: wildcard action %s", s.function, a))
			}
			if strings.EqualFold(a, "dynamodb:Scan") && !scans {
				p = append(p, fmt.Sprintf("%s: grants dynamodb:Scan but no code scans", s.function))
			}
		}
		for _, r := range s.resources {
			if r == "*" {
				p = append(p, fmt.Sprintf("%s: Resource \"*\" for %v", s.function, s.actions))
			}
		}
	}
	return p
}

// checkRoleReaches: a function's role lets Lambda read and delete the
// messages of each queue its SQS events consume, and lets the function
// write to its own log group, each on exactly those resources.
func checkRoleReaches(t *Template, _ string) []string {
	sts, p := statements(t)
	grants := func(fn, resource string, actions ...string) bool {
		for _, a := range actions {
			found := false
			for _, s := range sts {
				if s.function != fn || s.effect != "Allow" || !slices.Contains(s.actions, a) {
					continue
				}
				for _, r := range s.resources {
					if res, attr, ok := GetAtt(r); ok && res == resource && attr == "Arn" {
						found = true
					}
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	for _, f := range t.Functions() {
		for name, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			q, _, _ := GetAtt(e.Properties["Queue"])
			if !grants(f.LogicalID, q, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes") {
				p = append(p, fmt.Sprintf("%s: its role cannot receive and delete the messages of %s (event %s)", f.LogicalID, q, name))
			}
		}
		group, _ := asMap(f.LoggingConfig["LogGroup"])["Ref"].(string)
		if group == "" || !grants(f.LogicalID, group, "logs:CreateLogStream", "logs:PutLogEvents") {
			p = append(p, fmt.Sprintf("%s: its role cannot write to its log group %q", f.LogicalID, group))
		}
	}
	return p
}

// checkSES: SES rights are exactly ses:SendEmail on the sender identity,
// and every function given the sender (ALERT_FROM_ADDRESS) has that right.
func checkSES(t *Template, _ string) []string {
	sts, p := statements(t)
	grants := 0
	granted := map[string]bool{}
	for _, s := range sts {
		var ses []string
		for _, a := range s.actions {
			if strings.HasPrefix(strings.ToLower(a), "ses:") {
				ses = append(ses, a)
			}
		}
		if len(ses) == 0 {
			continue
		}
		grants++
		granted[s.function] = true
		if !slices.Equal(s.actions, []string{"ses:SendEmail"}) {
			p = append(p, fmt.Sprintf("%s: SES statement grants %v, want exactly [ses:SendEmail]", s.function, s.actions))
		}
		if len(s.resources) != 1 {
			p = append(p, fmt.Sprintf("%s: ses:SendEmail on %d resources, want the sender identity only", s.function, len(s.resources)))
			continue
		}
		arn, ok := Sub(s.resources[0])
		if !ok {
			arn, _ = s.resources[0].(string)
		}
		if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":ses:") || !strings.Contains(arn, ":identity/") || strings.HasSuffix(arn, "/*") {
			p = append(p, fmt.Sprintf("%s: ses:SendEmail on %v, want one identity ARN (arn:...:ses:...:identity/<sender>)", s.function, s.resources[0]))
		}
	}
	if grants == 0 {
		p = append(p, "no function may send email (ses:SendEmail)")
	}
	for _, f := range t.Functions() {
		if _, sends := f.Environment["ALERT_FROM_ADDRESS"]; sends && !granted[f.LogicalID] {
			p = append(p, fmt.Sprintf("%s: has ALERT_FROM_ADDRESS but may not send email (ses:SendEmail)", f.LogicalID))
		}
	}
	return p
}

// apiRoutes are the HTTP API routes the api function serves (path ->
// whether API Gateway must authorize them with AWS_IAM). The web app's
// routes have no IAM auth: the app checks its own session cookie.
var apiRoutes = map[string]bool{
	"/notifications/public/v1/api/hooks":               false,
	"/notifications/public/v1/api/hooks/{id}":          false,
	"/notifications/public/v1/api/hooks/{id}/{proxy+}": false,
	"/notifications/public/v1/api/freshness":           false,
	"/admin/v1/{proxy+}":                               true,
	"/healthz":                                         false,
	"/openapi.json":                                    false,
	"/app":                                             false,
	"/app/{proxy+}":                                    false,
	"/app/unsubscribe":                                 false,
}

// checkAPIRoutes: the api function's HttpApi events are exactly apiRoutes,
// each with its authorization.
func checkAPIRoutes(t *Template, _ string) []string {
	var p []string
	seen := map[string]bool{}
	for _, f := range t.Functions() {
		for name, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			path := str(e.Properties["Path"])
			wantIAM, known := apiRoutes[path]
			if !known {
				p = append(p, fmt.Sprintf("%s: event %s routes %s, which the api function does not serve", f.LogicalID, name, path))
				continue
			}
			seen[path] = true
			iam := asMap(e.Properties["Auth"])["Authorizer"] == "AWS_IAM"
			if iam != wantIAM {
				p = append(p, fmt.Sprintf("%s: event %s (%s) AWS_IAM authorization %v, want %v", f.LogicalID, name, path, iam, wantIAM))
			}
		}
	}
	for _, path := range slices.Sorted(maps.Keys(apiRoutes)) {
		if !seen[path] {
			p = append(p, fmt.Sprintf("no HttpApi event routes %s", path))
		}
	}
	return p
}

// checkOutputs: loaders and clients find the API URL and the notifications
// queue URL in the stack outputs.
func checkOutputs(t *Template, _ string) []string {
	var p []string
	api, ok := Sub(t.Outputs["ApiUrl"]["Value"])
	if !ok {
		p = append(p, "Outputs.ApiUrl: want a !Sub URL of the HTTP API")
	} else {
		found := false
		for id, r := range t.Resources {
			if r.Type == "AWS::Serverless::HttpApi" && strings.Contains(api, "${"+id+"}") && strings.HasPrefix(api, "https://") {
				found = true
			}
		}
		if !found {
			p = append(p, fmt.Sprintf("Outputs.ApiUrl = %q: not the https URL of an AWS::Serverless::HttpApi of the template", api))
		}
	}
	q, ok := Ref(t.Outputs["NotificationsQueueUrl"]["Value"])
	if !ok {
		p = append(p, "Outputs.NotificationsQueueUrl: want !Ref of the notifications queue")
	} else {
		name, _ := Resolve(t.Resources[q].Properties["QueueName"], map[string]string{"NameSuffix": ""})
		if t.Resources[q].Type != "AWS::SQS::Queue" || name != "post-load-notifications" {
			p = append(p, fmt.Sprintf("Outputs.NotificationsQueueUrl refers to %s (queue name %q), want the post-load-notifications queue", q, name))
		}
	}
	return p
}

// checkFreshnessSchedule: the function that runs the freshness check
// (the one given HOOKS_FRESHNESS_CHECK_EVERY) has exactly one Schedule
// event, at that period (rate(N minute[s]) or rate(N hour[s])), not
// retried (the next check carries on), and may send its event
// notifications to the queue HOOKS_RETRY_QUEUE_URL names.
func checkFreshnessSchedule(t *Template, _ string) []string {
	var p []string
	sts, _ := statements(t)
	checkers := 0
	for _, f := range t.Functions() {
		every, ok := f.Environment["HOOKS_FRESHNESS_CHECK_EVERY"].(string)
		if !ok {
			if hasEvent(f, "Schedule") {
				p = append(p, fmt.Sprintf("%s: a Schedule event but no HOOKS_FRESHNESS_CHECK_EVERY", f.LogicalID))
			}
			continue
		}
		checkers++
		d, err := time.ParseDuration(every)
		if err != nil {
			p = append(p, fmt.Sprintf("%s: HOOKS_FRESHNESS_CHECK_EVERY %q is not a duration", f.LogicalID, every))
		}
		var schedules []string
		for _, name := range slices.Sorted(maps.Keys(f.Events)) {
			if e := f.Events[name]; e.Type == "Schedule" {
				schedules = append(schedules, name)
				if got := scheduleRate(e.Properties["Schedule"]); got != d {
					p = append(p, fmt.Sprintf("%s: Schedule event %s runs every %v, HOOKS_FRESHNESS_CHECK_EVERY says %s", f.LogicalID, name, got, every))
				}
				if n := asMap(e.Properties["RetryPolicy"])["MaximumRetryAttempts"]; n != 0 {
					p = append(p, fmt.Sprintf("%s: Schedule event %s: RetryPolicy.MaximumRetryAttempts %v, want 0", f.LogicalID, name, n))
				}
			}
		}
		if len(schedules) != 1 {
			p = append(p, fmt.Sprintf("%s: %d Schedule events, want exactly one (the freshness check)", f.LogicalID, len(schedules)))
		}
		queue, ok := Ref(f.Environment["HOOKS_RETRY_QUEUE_URL"])
		if !ok {
			p = append(p, fmt.Sprintf("%s: HOOKS_RETRY_QUEUE_URL is not a Ref of the retry queue", f.LogicalID))
			continue
		}
		may := false
		for _, s := range sts {
			if s.function != f.LogicalID || !slices.Contains(s.actions, "sqs:SendMessage") {
				continue
			}
			for _, r := range s.resources {
				if q, attr, ok := GetAtt(r); ok && q == queue && attr == "Arn" {
					may = true
				}
			}
		}
		if !may {
			p = append(p, fmt.Sprintf("%s: may not sqs:SendMessage to %s (HOOKS_RETRY_QUEUE_URL)", f.LogicalID, queue))
		}
	}
	if checkers != 1 {
		p = append(p, fmt.Sprintf("%d functions run the freshness check (HOOKS_FRESHNESS_CHECK_EVERY), want 1", checkers))
	}
	return p
}

// scheduleRate reads an EventBridge rate expression; 0 when it is not one.
func scheduleRate(v any) time.Duration {
	s, _ := v.(string)
	inner, ok := strings.CutPrefix(s, "rate(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	fields := strings.Fields(inner)
	if !ok || !ok2 || len(fields) != 2 {
		return 0
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1 {
		return 0
	}
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour}[fields[1]]
	return time.Duration(n) * unit
}
