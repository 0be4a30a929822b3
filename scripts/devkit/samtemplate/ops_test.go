package samtemplate

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// The operations checks: operators are alerted (alarms to the topic of
// AlarmTopicArn, or to one the stack makes), see the service on one
// dashboard, keep logs for a bounded time, and no SQS event source can take
// the account's whole Lambda concurrency.

const (
	alarmType      = "AWS::CloudWatch::Alarm"
	logGroupType   = "AWS::Logs::LogGroup"
	queueType      = "AWS::SQS::Queue"
	topicParameter = "AlarmTopicArn"
)

// retentionDays are the values CloudWatch Logs accepts for RetentionInDays
// (never-expire is leaving it out, which the checks refuse).
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// serviceNamespace is the CloudWatch namespace of the service's own
// metrics (the dispatcher's metricsNamespace).
const serviceNamespace = "PostLoadHooks"

// dlqs returns the logical ids of the queues some queue dead-letters to.
func dlqs(t *Template) []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != queueType {
			continue
		}
		if target, _, ok := GetAtt(asMap(r.Properties["RedrivePolicy"])["deadLetterTargetArn"]); ok && !slices.Contains(out, target) {
			out = append(out, target)
		}
	}
	slices.Sort(out)
	return out
}

// notificationsQueue is the queue loaders write to: the one the output
// NotificationsQueueUrl names.
func notificationsQueue(t *Template) (string, bool) {
	q, ok := Ref(t.Outputs["NotificationsQueueUrl"]["Value"])
	return q, ok && t.Resources[q].Type == queueType
}

// ofType returns the logical ids of the resources of type typ, sorted.
func ofType(t *Template, typ string) []string {
	var out []string
	for id, r := range t.Resources {
		if r.Type == typ {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// alarmTarget returns the value every alarm action must be: the topic of
// the parameter, or the stack's own topic when the parameter is empty
// ({"Fn::If": [cond, {"Ref": topic}, {"Ref": AlarmTopicArn}]}), and the
// problems that keep it from being one.
func alarmTarget(t *Template) (any, []string) {
	var p []string
	param, ok := t.Parameters[topicParameter]
	if !ok {
		return nil, []string{"no parameter " + topicParameter}
	}
	if d, ok := param["Default"]; !ok || d != "" {
		p = append(p, fmt.Sprintf("parameter %s: Default %v, want \"\" (deployable without a topic)", topicParameter, param["Default"]))
	}
	var cond string
	for _, name := range slices.Sorted(maps.Keys(t.Conditions)) {
		eq := asSlice(asMap(t.Conditions[name])["Fn::Equals"])
		if len(eq) != 2 {
			continue
		}
		for i := range 2 {
			if r, ok := Ref(eq[i]); ok && r == topicParameter && eq[1-i] == "" {
				cond = name
			}
		}
	}
	if cond == "" {
		return nil, append(p, fmt.Sprintf("no condition !Equals [!Ref %s, \"\"]", topicParameter))
	}
	var topics []string
	for _, id := range ofType(t, "AWS::SNS::Topic") {
		if t.Resources[id].Condition == cond {
			topics = append(topics, id)
		} else {
			p = append(p, fmt.Sprintf("%s: SNS topic made whether or not %s is given (want Condition %s)", id, topicParameter, cond))
		}
	}
	if len(topics) != 1 {
		return nil, append(p, fmt.Sprintf("%d SNS topics under condition %s, want 1", len(topics), cond))
	}
	return map[string]any{"Fn::If": []any{cond, map[string]any{"Ref": topics[0]}, map[string]any{"Ref": topicParameter}}}, p
}

// checkAlarmTopic: every alarm notifies the alarm topic, going off and
// coming back to OK.
func checkAlarmTopic(t *Template, _ string) []string {
	target, p := alarmTarget(t)
	if target == nil {
		return p
	}
	alarms := ofType(t, alarmType)
	if len(alarms) == 0 {
		p = append(p, "no alarm")
	}
	for _, id := range alarms {
		props := t.Resources[id].Properties
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if a := asSlice(props[k]); len(a) != 1 || !reflect.DeepEqual(a[0], target) {
				p = append(p, fmt.Sprintf("%s: %s %v, want [%v]", id, k, props[k], target))
			}
		}
	}
	return p
}

// alarmWant is an alarm the checks require.
type alarmWant struct {
	what         string
	namespace    string
	metric       string
	dimension    string // its one dimension's name
	value        any    // and value
	statistic    string
	fires, quiet float64 // a value that must set it off, and one that must not
}

// fires reports whether an alarm's comparison is breached by value v.
func fires(props map[string]any, v float64) bool {
	th, ok := number(props["Threshold"])
	if !ok {
		return false
	}
	switch props["ComparisonOperator"] {
	case "GreaterThanThreshold":
		return v > th
	case "GreaterThanOrEqualToThreshold":
		return v >= th
	case "LessThanThreshold":
		return v < th
	case "LessThanOrEqualToThreshold":
		return v <= th
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// matches reports whether alarm props is w, and why not.
func (w alarmWant) matches(props map[string]any) (bool, string) {
	if props["Namespace"] != w.namespace || props["MetricName"] != w.metric {
		return false, ""
	}
	dims := asSlice(props["Dimensions"])
	if len(dims) != 1 || asMap(dims[0])["Name"] != w.dimension || !reflect.DeepEqual(asMap(dims[0])["Value"], w.value) {
		return false, ""
	}
	switch {
	case props["Statistic"] != w.statistic:
		return true, fmt.Sprintf("Statistic %v, want %s", props["Statistic"], w.statistic)
	case intOr(props["EvaluationPeriods"], 0) != 1 || (props["DatapointsToAlarm"] != nil && intOr(props["DatapointsToAlarm"], 0) != 1):
		return true, "want one evaluation period of one data point (alarm at once)"
	case intOr(props["Period"], 0) <= 0 || intOr(props["Period"], 0) > 300:
		return true, fmt.Sprintf("Period %v, want at most 300 s", props["Period"])
	case !fires(props, w.fires) || fires(props, w.quiet):
		return true, fmt.Sprintf("%v %v: want it set off at %v and quiet at %v", props["ComparisonOperator"], props["Threshold"], w.fires, w.quiet)
	}
	return true, ""
}

// wantedAlarms: a message in any DLQ; the notifications queue's oldest
// message past 5 minutes; any error or throttle of any function.
func wantedAlarms(t *Template) ([]alarmWant, []string) {
	var want []alarmWant
	var p []string
	for _, q := range dlqs(t) {
		want = append(want, alarmWant{what: "a message in " + q, namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible",
			dimension: "QueueName", value: map[string]any{"Fn::GetAtt": []any{q, "QueueName"}}, statistic: "Maximum", fires: 1, quiet: 0})
	}
	if q, ok := notificationsQueue(t); ok {
		want = append(want, alarmWant{what: "a message older than 5 minutes in " + q, namespace: "AWS/SQS", metric: "ApproximateAgeOfOldestMessage",
			dimension: "QueueName", value: map[string]any{"Fn::GetAtt": []any{q, "QueueName"}}, statistic: "Maximum", fires: 301, quiet: 299})
	} else {
		p = append(p, "Outputs.NotificationsQueueUrl names no queue: cannot tell the notifications queue")
	}
	for _, f := range t.Functions() {
		for _, m := range []string{"Errors", "Throttles"} {
			want = append(want, alarmWant{what: m + " of " + f.LogicalID, namespace: "AWS/Lambda", metric: m,
				dimension: "FunctionName", value: map[string]any{"Ref": f.LogicalID}, statistic: "Sum", fires: 1, quiet: 0})
		}
	}
	return want, p
}

// checkAlarms: each wanted alarm exists once and goes off when it should.
func checkAlarms(t *Template, _ string) []string {
	want, p := wantedAlarms(t)
	alarms := ofType(t, alarmType)
	for _, w := range want {
		found := 0
		for _, id := range alarms {
			ok, why := w.matches(t.Resources[id].Properties)
			if !ok {
				continue
			}
			found++
			if why != "" {
				p = append(p, fmt.Sprintf("%s (alarm on %s): %s", id, w.what, why))
			}
		}
		if found != 1 {
			p = append(p, fmt.Sprintf("%d alarms on %s, want 1", found, w.what))
		}
	}
	return p
}

// checkLogRetention: every function logs to a log group of the template,
// its own, and every log group of the template expires its events.
func checkLogRetention(t *Template, _ string) []string {
	var p []string
	owner := map[string]string{}
	for _, f := range t.Functions() {
		g, ok := Ref(f.LoggingConfig["LogGroup"])
		if !ok || t.Resources[g].Type != logGroupType {
			p = append(p, fmt.Sprintf("%s: LoggingConfig.LogGroup %v, want !Ref <log group of this template> (Lambda's own group never expires)", f.LogicalID, f.LoggingConfig["LogGroup"]))
			continue
		}
		if o, dup := owner[g]; dup {
			p = append(p, fmt.Sprintf("%s and %s log to the same group %s", o, f.LogicalID, g))
		}
		owner[g] = f.LogicalID
	}
	groups := ofType(t, logGroupType)
	if len(groups) == 0 {
		p = append(p, "no log group")
	}
	for _, id := range groups {
		d := t.Resources[id].Properties["RetentionInDays"]
		if n := intOr(d, 0); !slices.Contains(retentionDays, n) {
			p = append(p, fmt.Sprintf("%s: RetentionInDays %v, want one of %v", id, d, retentionDays))
		}
	}
	return p
}

// checkMaximumConcurrency: every SQS event source has a
// ScalingConfig.MaximumConcurrency (2 to 1000, Lambda's bounds).
func checkMaximumConcurrency(t *Template, _ string) []string {
	var p []string
	for _, f := range t.Functions() {
		for _, name := range slices.Sorted(maps.Keys(f.Events)) {
			e := f.Events[name]
			if e.Type != "SQS" {
				continue
			}
			v := asMap(e.Properties["ScalingConfig"])["MaximumConcurrency"]
			if n := intOr(v, 0); n < 2 || n > 1000 {
				p = append(p, fmt.Sprintf("%s: SQS event %s: ScalingConfig.MaximumConcurrency %v, want 2 to 1000", f.LogicalID, name, v))
			}
		}
	}
	return p
}

// stringLiterals returns the string constants in the non-test Go files of
// dir (the texts of a function's log lines, keys and metric names).
func stringLiterals(dir string) (map[string]bool, error) {
	out := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if b, ok := n.(*ast.BasicLit); ok && b.Kind == token.STRING {
				if s, err := strconv.Unquote(b.Value); err == nil {
					out[s] = true
				}
			}
			return true
		})
	}
	return out, nil
}

// dashboardMetric is one metric line of a dashboard widget: namespace,
// metric name, then dimension name/value pairs (options dropped).
type dashboardMetric []string

func (m dashboardMetric) is(namespace, name string, dims ...string) bool {
	return len(m) == 2+len(dims) && m[0] == namespace && m[1] == name && slices.Equal(m[2:], dims)
}

var subVariable = regexp.MustCompile(`\$\{([^}!]+)\}`)

// dashboardMetrics parses the dashboard's body (a !Sub of JSON) and
// returns its metric lines, checking every ${...} names a parameter, a
// resource (attribute) or a pseudo parameter of the template.
func dashboardMetrics(t *Template) ([]dashboardMetric, []string) {
	var p []string
	boards := ofType(t, "AWS::CloudWatch::Dashboard")
	if len(boards) != 1 {
		return nil, []string{fmt.Sprintf("%d dashboards, want 1", len(boards))}
	}
	body, ok := Sub(t.Resources[boards[0]].Properties["DashboardBody"])
	if !ok {
		return nil, []string{boards[0] + ": DashboardBody is not a !Sub of JSON"}
	}
	for _, m := range subVariable.FindAllStringSubmatch(body, -1) {
		name, _, _ := strings.Cut(m[1], ".")
		_, res := t.Resources[name]
		_, par := t.Parameters[name]
		if !res && !par && !strings.HasPrefix(name, "AWS::") {
			p = append(p, fmt.Sprintf("%s: ${%s} names nothing of the template", boards[0], m[1]))
		}
	}
	var doc struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil, append(p, fmt.Sprintf("%s: DashboardBody is not JSON: %v", boards[0], err))
	}
	var out []dashboardMetric
	for _, w := range doc.Widgets {
		for _, line := range w.Properties.Metrics {
			var m dashboardMetric
			for _, v := range line {
				if s, ok := v.(string); ok {
					m = append(m, s)
				}
			}
			out = append(out, m)
		}
	}
	return out, p
}

// checkDashboard: the dashboard shows deliveries (what followed each
// attempt), attempt outcomes and latency, the depth of every queue and
// every DLQ and the notifications queue's oldest message; and every metric
// of the service it shows is one that a function's code names (namespace
// and metric name, in the embedded metric format).
func checkDashboard(t *Template, root string) []string {
	metrics, p := dashboardMetrics(t)
	if metrics == nil {
		return p
	}
	shows := func(what, ns, name string, dims ...string) {
		for _, m := range metrics {
			if m.is(ns, name, dims...) {
				return
			}
		}
		p = append(p, fmt.Sprintf("dashboard: no %s (%s %s %v)", what, ns, name, dims))
	}
	for _, q := range ofType(t, queueType) {
		shows("depth of "+q, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${"+q+".QueueName}")
	}
	if q, ok := notificationsQueue(t); ok {
		shows("age of the oldest notification", "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${"+q+".QueueName}")
	}
	// The delivery metrics, which the dispatcher writes in the embedded
	// metric format (functions/dispatcher/metrics.go).
	for _, a := range []delivery.Action{delivery.Delivered, delivery.Retry, delivery.Exhausted} {
		shows("deliveries "+a.String(), serviceNamespace, "DeliveryResults", "Result", a.String())
	}
	for _, o := range []string{delivery.OutcomeSuccess, delivery.OutcomeHTTPStatus, delivery.OutcomeTimeout, delivery.OutcomeConnection,
		delivery.OutcomeBlocked, delivery.OutcomeRedirect, delivery.OutcomeTLS} {
		shows("attempts with outcome "+o, serviceNamespace, "DeliveryAttempts", "Outcome", o)
	}
	shows("attempt latency", serviceNamespace, "AttemptLatency")
	// The service's own metrics shown must be made by something.
	code := map[string]bool{}
	for _, f := range t.Functions() {
		lits, err := stringLiterals(filepath.Join(root, f.CodeURI))
		if err != nil {
			p = append(p, fmt.Sprintf("%s: %v", f.LogicalID, err))
		}
		maps.Copy(code, lits)
	}
	for _, m := range metrics {
		if len(m) < 2 || strings.HasPrefix(m[0], "AWS/") {
			continue
		}
		if !code[m[0]] || !code[m[1]] {
			p = append(p, fmt.Sprintf("dashboard shows %s %s, which no function's code makes", m[0], m[1]))
		}
	}
	return p
}

var opsChecks = []struct {
	name  string
	check check
}{
	{"alarms notify the AlarmTopicArn topic, made when it is empty", checkAlarmTopic},
	{"alarms: every DLQ, notifications age, function errors and throttles", checkAlarms},
	{"every function's log group has a retention", checkLogRetention},
	{"every SQS event source has a maximum concurrency", checkMaximumConcurrency},
	{"dashboard: deliveries, outcomes, latency, queues, DLQs", checkDashboard},
}

// TestTemplateOperations runs the operations checks on template.yaml.
func TestTemplateOperations(t *testing.T) {
	root := repoRoot(t)
	tp := loadRepoTemplate(t)
	for _, c := range opsChecks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.check(tp, root) {
				t.Error(p)
			}
		})
	}
}

// opsMutation is one mistake and the check that must catch it.
type opsMutation struct {
	name   string
	check  check
	mutate func(tp *Template)
}

// opsMutations lists, from the repository's template itself, the removal
// of each alarm, each log group's retention, each function's log group,
// each MaximumConcurrency, the dashboard and the topic's condition, with
// mistakes of other kinds.
func opsMutations(t *testing.T) []opsMutation {
	t.Helper()
	tp := loadRepoTemplate(t)
	var ms []opsMutation
	alarms := ofType(tp, alarmType)
	want, _ := wantedAlarms(tp)
	if len(alarms) != len(want) || len(alarms) < 10 {
		t.Fatalf("template has %d alarms, the checks want %d (at least 10): the mutations below would not cover each", len(alarms), len(want))
	}
	for _, id := range alarms {
		ms = append(ms, opsMutation{"alarm " + id + " removed", checkAlarms, func(tp *Template) { delete(tp.Resources, id) }})
	}
	groups := ofType(tp, logGroupType)
	if len(groups) < len(tp.Functions())+1 {
		t.Fatalf("%d log groups, want one per function and the API's access logs", len(groups))
	}
	for _, id := range groups {
		ms = append(ms, opsMutation{"retention of " + id + " removed", checkLogRetention, func(tp *Template) {
			delete(tp.Resources[id].Properties, "RetentionInDays")
		}})
	}
	for _, f := range tp.Functions() {
		ms = append(ms, opsMutation{f.LogicalID + " logs to Lambda's own group", checkLogRetention, func(tp *Template) {
			delete(asMap(props(tp, f.LogicalID)["LoggingConfig"]), "LogGroup")
		}})
		for name, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			ms = append(ms, opsMutation{"MaximumConcurrency of " + f.LogicalID + "." + name + " removed", checkMaximumConcurrency, func(tp *Template) {
				delete(sqsEvent(tp, f.LogicalID, name), "ScalingConfig")
			}})
		}
	}
	topics := ofType(tp, "AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("%d SNS topics, want 1", len(topics))
	}
	topic := topics[0]
	firstAlarm := alarms[0]
	ms = append(ms,
		opsMutation{"topic made without its condition", checkAlarmTopic, func(tp *Template) {
			r := tp.Resources[topic]
			r.Condition = ""
			tp.Resources[topic] = r
		}},
		opsMutation{"condition removed", checkAlarmTopic, func(tp *Template) { tp.Conditions = nil }},
		opsMutation{"condition inverted", checkAlarmTopic, func(tp *Template) {
			for k := range tp.Conditions {
				tp.Conditions[k] = map[string]any{"Fn::Not": []any{tp.Conditions[k]}}
			}
		}},
		opsMutation{"topic parameter required", checkAlarmTopic, func(tp *Template) { delete(tp.Parameters[topicParameter], "Default") }},
		opsMutation{"topic parameter removed", checkAlarmTopic, func(tp *Template) { delete(tp.Parameters, topicParameter) }},
		opsMutation{"an alarm to the parameter only", checkAlarmTopic, func(tp *Template) {
			props(tp, firstAlarm)["AlarmActions"] = []any{map[string]any{"Ref": topicParameter}}
		}},
		opsMutation{"an alarm without OK actions", checkAlarmTopic, func(tp *Template) { delete(props(tp, firstAlarm), "OKActions") }},
		opsMutation{"DLQ alarm only from 2 messages", checkAlarms, func(tp *Template) {
			props(tp, alarmOn(t, tp, "ApproximateNumberOfMessagesVisible"))["Threshold"] = 2
		}},
		opsMutation{"age alarm at 10 minutes", checkAlarms, func(tp *Template) {
			props(tp, alarmOn(t, tp, "ApproximateAgeOfOldestMessage"))["Threshold"] = 600
		}},
		opsMutation{"errors alarm averaging", checkAlarms, func(tp *Template) {
			props(tp, alarmOn(t, tp, "Errors"))["Statistic"] = "Average"
		}},
		opsMutation{"throttles alarm after 3 periods", checkAlarms, func(tp *Template) {
			props(tp, alarmOn(t, tp, "Throttles"))["EvaluationPeriods"] = 3
		}},
		opsMutation{"dashboard removed", checkDashboard, func(tp *Template) { delete(tp.Resources, "Dashboard") }},
		opsMutation{"dashboard body not JSON", checkDashboard, func(tp *Template) {
			props(tp, "Dashboard")["DashboardBody"] = map[string]any{"Fn::Sub": "{widgets"}
		}},
		opsMutation{"dashboard names a queue that does not exist", checkDashboard, func(tp *Template) {
			b, _ := Sub(props(tp, "Dashboard")["DashboardBody"])
			props(tp, "Dashboard")["DashboardBody"] = map[string]any{"Fn::Sub": strings.Replace(b, "${RetryDLQ.QueueName}", "${RetryDLQX.QueueName}", 1)}
		}},
		opsMutation{"a delivery metric the code does not write", checkDashboard, func(tp *Template) {
			b, _ := Sub(props(tp, "Dashboard")["DashboardBody"])
			props(tp, "Dashboard")["DashboardBody"] = map[string]any{"Fn::Sub": strings.Replace(b, `"AttemptLatency", {"stat": "p50"`, `"AttemptLatencies", {"stat": "p50"`, 1)}
		}},
		opsMutation{"MaximumConcurrency 1", checkMaximumConcurrency, func(tp *Template) {
			asMap(sqsEvent(tp, "AlerterFunction", "Alerts")["ScalingConfig"])["MaximumConcurrency"] = 1
		}},
		opsMutation{"retention never expires", checkLogRetention, func(tp *Template) {
			props(tp, "DispatcherFunctionLogs")["RetentionInDays"] = 0
		}},
	)
	// Each widget line of the dashboard removed, for the lines the checks
	// require: a queue's depth, each DLQ's, the latency.
	for _, cut := range []string{`"${AlertsDLQ.QueueName}"]`, `"${NotificationsQueue.QueueName}"]`, `"AttemptLatency"`, `"Result", "exhausted"]`, `"Outcome", "tls_error"]`} {
		ms = append(ms, opsMutation{"dashboard line " + cut + " removed", checkDashboard, func(tp *Template) {
			b, _ := Sub(props(tp, "Dashboard")["DashboardBody"])
			lines := strings.Split(b, "\n")
			n := len(lines)
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, cut) })
			if len(lines) == n {
				t.Fatalf("no dashboard line holds %s", cut)
			}
			// The line before may now end with a comma before "]".
			props(tp, "Dashboard")["DashboardBody"] = map[string]any{"Fn::Sub": regexp.MustCompile(`,\s*\n(\s*\]\}\})`).ReplaceAllString(strings.Join(lines, "\n"), "\n$1")}
		}})
	}
	return ms
}

// alarmOn returns the first alarm of the template on metric.
func alarmOn(t *testing.T, tp *Template, metric string) string {
	t.Helper()
	for _, id := range ofType(tp, alarmType) {
		if props(tp, id)["MetricName"] == metric {
			return id
		}
	}
	t.Fatalf("no alarm on %s", metric)
	return ""
}

// TestOperationsChecksCatchMutations feeds each operations check copies of
// template.yaml with one mistake each and wants the check to notice.
func TestOperationsChecksCatchMutations(t *testing.T) {
	root := repoRoot(t)
	for _, m := range opsMutations(t) {
		t.Run(m.name, func(t *testing.T) {
			tp := loadRepoTemplate(t)
			m.mutate(tp)
			if p := m.check(tp, root); len(p) == 0 {
				t.Error("check passed a template with this mistake")
			}
		})
	}
}

var (
	overridesLine = regexp.MustCompile(`(?m)^\s*parameter_overrides\s*=\s*("(?:[^"\\]|\\.)*")\s*$`)
	overridePair  = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// checkSAMConfig: every deploy environment of samconfig.toml gives each
// parameter without a default, names only parameters of the template, and
// gives values the template allows.
func checkSAMConfig(t *Template, config string) []string {
	var p []string
	envs := overridesLine.FindAllStringSubmatch(config, -1)
	if len(envs) == 0 {
		return []string{"samconfig.toml: no parameter_overrides"}
	}
	for i, m := range envs {
		line, err := strconv.Unquote(m[1])
		if err != nil {
			p = append(p, fmt.Sprintf("samconfig.toml: parameter_overrides %d: %v", i+1, err))
			continue
		}
		given := map[string]string{}
		for _, kv := range overridePair.FindAllStringSubmatch(line, -1) {
			given[kv[1]] = kv[2]
		}
		for _, name := range slices.Sorted(maps.Keys(given)) {
			par, ok := t.Parameters[name]
			if !ok {
				p = append(p, fmt.Sprintf("samconfig.toml: parameter_overrides %d sets %s, which the template does not have", i+1, name))
				continue
			}
			v := given[name]
			if pat, ok := par["AllowedPattern"].(string); ok && !regexp.MustCompile(pat).MatchString(v) {
				p = append(p, fmt.Sprintf("samconfig.toml: parameter_overrides %d: %s=%q does not match %s", i+1, name, v, pat))
			}
			if allowed := asSlice(par["AllowedValues"]); allowed != nil && !slices.Contains(allowed, any(v)) {
				p = append(p, fmt.Sprintf("samconfig.toml: parameter_overrides %d: %s=%q is not one of %v", i+1, name, v, allowed))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
			if _, def := t.Parameters[name]["Default"]; !def {
				if _, ok := given[name]; !ok {
					p = append(p, fmt.Sprintf("samconfig.toml: parameter_overrides %d lacks %s, which has no default", i+1, name))
				}
			}
		}
	}
	return p
}

func readSAMConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSAMConfig: sam deploy with samconfig.toml gets the parameters the
// template needs, in the forms it allows; each mistake below is caught.
func TestSAMConfig(t *testing.T) {
	tp := loadRepoTemplate(t)
	config := readSAMConfig(t)
	for _, p := range checkSAMConfig(tp, config) {
		t.Error(p)
	}
	withTopic := strings.Replace(config, `AlarmTopicArn=\"\"`, `AlarmTopicArn=\"arn:aws:sns:us-east-1:123456789012:ops-alarms\"`, 1)
	if p := checkSAMConfig(tp, withTopic); withTopic == config || len(p) != 0 {
		t.Errorf("an existing topic's ARN refused (or not found to replace): %v", p)
	}
	mistakes := []struct{ name, old, new string }{
		{"required parameter left out", `AlertFromAddress=\"alerts@example.com\" `, ``},
		{"unknown parameter", `LogLevel=\"INFO\"`, `LogLevel=\"INFO\" AlarmTopic=\"x\"`},
		{"topic that is not an SNS ARN", `LogLevel=\"INFO\" AlarmTopicArn=\"\"`, `LogLevel=\"INFO\" AlarmTopicArn=\"alarms\"`},
		{"log level not allowed", `LogLevel=\"INFO\"`, `LogLevel=\"LOUD\"`},
	}
	for _, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			bad := strings.Replace(config, m.old, m.new, 1)
			if bad == config {
				t.Fatalf("samconfig.toml holds no %s", m.old)
			}
			if p := checkSAMConfig(tp, bad); len(p) == 0 {
				t.Error("check passed a samconfig.toml with this mistake")
			}
		})
	}
}
