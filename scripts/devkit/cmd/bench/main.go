// Command bench is the Go half of scripts/bench: it measures cold start
// (bootstrap sizes, init duration under aws-lambda-rie) and API latency (a
// bounded load generator against the api binary in local mode), reads the
// `go test -bench` output of the delivery benchmarks, and prints one
// markdown table with the floor beside every figure (also written to -out).
//
// It starts and stops only its own processes (emulator instances of
// aws-lambda-rie, the api binary, its own floor server) and creates one
// uniquely named DynamoDB table on the endpoint of AWS_ENDPOINT_URL_DYNAMODB.
// It does not start the emulators (scripts/stack does) nor build anything
// (scripts/build does). A development tool, never deployed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/proc"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
	"github.com/postloadhooks/hooks/shared/hook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "floor-server" {
		if err := serveFloor(ctx, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor-server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	goBench     string
	armDir      string
	hostDir     string
	rie         string
	template    string
	out         string
	functions   []string
	coldRuns    int
	apiRequests int
	apiDuration time.Duration
	apiWorkers  int
	memoryMB    int // the dispatcher's, from the template
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var funcs string
	fs.StringVar(&o.goBench, "gobench", "", "file holding the go test -bench output of functions/dispatcher")
	fs.StringVar(&o.armDir, "arm64", "", "folder of the arm64 builds (<dir>/<function>/bootstrap)")
	fs.StringVar(&o.hostDir, "host", "", "folder of the host builds, run under aws-lambda-rie and for the API")
	fs.StringVar(&o.rie, "rie", "", "path of aws-lambda-rie")
	fs.StringVar(&o.template, "template", "template.yaml", "the SAM template (table definition)")
	fs.StringVar(&o.out, "out", "", "write the table to this file too")
	fs.StringVar(&funcs, "functions", "api,dispatcher,alerter", "functions to size and cold-start")
	fs.IntVar(&o.coldRuns, "cold-runs", 5, "cold starts per function (the median is reported)")
	fs.IntVar(&o.apiRequests, "api-requests", 2000, "requests per API scenario (upper bound)")
	fs.DurationVar(&o.apiDuration, "api-duration", 20*time.Second, "time per API scenario (upper bound)")
	fs.IntVar(&o.apiWorkers, "api-concurrency", 8, "concurrent API clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.functions = strings.Split(funcs, ",")
	var missing []string
	for name, v := range map[string]string{"-gobench": o.goBench, "-arm64": o.armDir, "-host": o.hostDir, "-rie": o.rie} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}

	tmpl, err := samtemplate.Load(o.template)
	if err != nil {
		return err
	}
	dispatcher, err := tmpl.Function("dispatcher")
	if err != nil {
		return err
	}
	o.memoryMB = dispatcher.MemorySize
	bench, err := parseGoBench(o.goBench)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: cold starts")
	cold, err := coldStarts(ctx, o, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: API load")
	api, err := apiLoad(ctx, o, stderr)
	if err != nil {
		return err
	}
	table := render(bench, cold, api, o)
	fmt.Fprint(stdout, table)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ---- go test -bench output ---------------------------------------------------

// benchResults maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit, one value per run (go test -count, or several runs of the
// test binary, whose lines all land in the file).
type benchResults map[string]map[string][]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

func parseGoBench(path string) (benchResults, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := benchResults{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(fields[0], "")
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			out[name][fields[i+1]] = append(out[name][fields[i+1]], v)
		}
	}
	return out, sc.Err()
}

// get returns the median of the metric over the runs: on a shared machine a
// single run measures the neighbours as much as the code.
func (r benchResults) get(name, unit string) (float64, bool) {
	v := r[name][unit]
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// roundRatio is the median over the rounds of name's metric divided by
// floor's, the i-th run of each being round i: scripts/bench runs the two in
// turns, so each ratio compares runs that met the same load on the machine.
func (r benchResults) roundRatio(name, floor, unit string) (float64, bool) {
	v, f := r[name][unit], r[floor][unit]
	if len(v) == 0 || len(v) != len(f) {
		return 0, false
	}
	ratios := make([]float64, 0, len(v))
	for i := range v {
		if f[i] <= 0 {
			return 0, false
		}
		ratios = append(ratios, v[i]/f[i])
	}
	return median(ratios), true
}

// runs is how many runs of the benchmark the file holds.
func (r benchResults) runs(name string) int {
	n := 0
	for _, v := range r[name] {
		n = max(n, len(v))
	}
	return n
}

// ---- cold start ----------------------------------------------------------------

type coldResult struct {
	name     string
	armBytes int64
	initMs   float64 // median of rapid's INIT REPORT durationMs
	reportMs float64 // median of the REPORT line's Init Duration
	err      error
}

var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// functionEnv is the least each function's loadConfig accepts; the values
// are never used (no invocation reaches AWS).
func functionEnv(name string) []string {
	common := []string{"HOOKS_TABLE=bench-coldstart", "AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024"}
	switch name {
	case "dispatcher":
		return append(common, "HOOKS_RETRY_QUEUE_URL=http://127.0.0.1:9/q", "HOOKS_ALERT_QUEUE_URL=http://127.0.0.1:9/q",
			"HOOKS_DEAD_LETTER_QUEUE_URL=http://127.0.0.1:9/q",
			"HOOKS_NOTIFICATIONS_QUEUE_ARN=arn:aws:sqs:us-east-1:000000000000:n", "HOOKS_RETRY_QUEUE_ARN=arn:aws:sqs:us-east-1:000000000000:r")
	case "alerter":
		return append(common, "ALERT_FROM_ADDRESS=alerts@example.com", "HOOKS_ALERT_QUEUE_ARN=arn:aws:sqs:us-east-1:000000000000:a",
			"HOOKS_ALERTS_DLQ_URL=http://127.0.0.1:9/q")
	}
	return common
}

// coldEvent is an event each function answers without calling AWS.
func coldEvent(name string) string {
	switch name {
	case "api":
		return `{"version":"2.0","routeKey":"$default","rawPath":"/healthz","requestContext":{"http":{"method":"GET","path":"/healthz"}}}`
	case "dispatcher", "alerter":
		return `{"Records":[]}`
	}
	return `{}`
}

// coldStarts measures each function o.coldRuns times, the functions taking
// turns run after run (the floor included), so a busy moment of the shared
// machine spreads over all of them instead of skewing one.
func coldStarts(ctx context.Context, o options, logs io.Writer) ([]coldResult, error) {
	names := append(slices.Clone(o.functions), "floorfn")
	out := make([]coldResult, len(names))
	inits := make([][]float64, len(names))
	reports := make([][]float64, len(names))
	for i, name := range names {
		out[i].name = name
		st, err := os.Stat(filepath.Join(o.armDir, name, "bootstrap"))
		if err != nil {
			return nil, fmt.Errorf("arm64 build of %s: %w", name, err)
		}
		out[i].armBytes = st.Size()
	}
	for range o.coldRuns {
		for i, name := range names {
			if out[i].err != nil {
				continue
			}
			in, rep, err := coldStart(ctx, o.rie, filepath.Join(o.hostDir, name, "bootstrap"), name)
			if err != nil {
				out[i].err = err
				fmt.Fprintf(logs, "bench: cold start of %s: %v\n", name, err)
				continue
			}
			inits[i], reports[i] = append(inits[i], in), append(reports[i], rep)
		}
	}
	for i := range out {
		out[i].initMs, out[i].reportMs = median(inits[i]), median(reports[i])
	}
	return out, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// coldStart runs one fresh aws-lambda-rie with the bootstrap (package rie,
// as scripts/invoke runs it), invokes it once and returns the init
// durations it reports: rapid's INIT REPORT line and the REPORT line's Init
// Duration.
func coldStart(ctx context.Context, rieBin, bootstrap, name string) (initMs, reportMs float64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var init initReport
	em, err := rie.Start(ctx, rieBin, bootstrap, append(awsEnv(), functionEnv(name)...), &init)
	if err != nil {
		return 0, 0, err
	}
	defer em.Stop()
	if _, err := em.Invoke(ctx, []byte(coldEvent(name)), 30*time.Second); err != nil {
		return 0, 0, err
	}
	deadline, _ := ctx.Deadline()
	rep, err := em.Report(time.Until(deadline))
	if err != nil {
		return 0, 0, fmt.Errorf("%w within 30s", err)
	}
	if rep.InitDuration == "" {
		return 0, 0, fmt.Errorf("no Init Duration in %q", rep.Line)
	}
	reportMs, err = strconv.ParseFloat(strings.TrimSuffix(rep.InitDuration, " ms"), 64)
	if err != nil {
		return 0, 0, fmt.Errorf("the REPORT line's Init Duration %q: %w", rep.InitDuration, err)
	}
	// The INIT REPORT line comes before the REPORT line, in the same stream.
	if initMs = init.get(); initMs == 0 {
		return 0, 0, errors.New("no INIT REPORT line")
	}
	return initMs, reportMs, nil
}

// initReport takes the emulator's output, a line per write, and keeps the
// duration of rapid's INIT REPORT line.
type initReport struct {
	mu sync.Mutex
	ms float64
}

func (r *initReport) Write(line []byte) (int, error) {
	if m := initReportRE.FindSubmatch(line); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		r.mu.Lock()
		r.ms = v
		r.mu.Unlock()
	}
	return len(line), nil
}

func (r *initReport) get() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ms
}

// awsEnv is the caller's environment without what would make a function
// think it runs elsewhere (the api's local mode is chosen by the absence of
// AWS_LAMBDA_RUNTIME_API, which RIE sets itself).
func awsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_LAMBDA_RUNTIME_API=") || strings.HasPrefix(kv, "HOOKS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// ---- API load ------------------------------------------------------------------

type latencyResult struct {
	requests int
	errors   int
	rps      float64
	p50, p99 time.Duration
}

type apiResult struct {
	list, create           latencyResult
	floorList, floorCreate latencyResult
}

const hooksPath = hook.APIPath

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func apiLoad(ctx context.Context, o options, logs io.Writer) (apiResult, error) {
	cfg, err := devstack.LocalConfig(ctx)
	if err != nil {
		return apiResult{}, err
	}
	table := "hooks-bench-" + randomHex(5)
	db := devstack.NewDynamoDB(cfg)
	if err := devstack.CreateTable(ctx, db, o.template, table); err != nil {
		return apiResult{}, fmt.Errorf("create table: %w", err)
	}
	defer func() {
		_, _ = db.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}()

	port, err := proc.FreePort()
	if err != nil {
		return apiResult{}, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	admin := "bench-" + randomHex(16)
	var procs proc.Group
	api, err := procs.Start(proc.Cmd{Name: "api", Argv: []string{filepath.Join(o.hostDir, "api", "bootstrap")},
		Env:    append(awsEnv(), "HOOKS_TABLE="+table, "HOOKS_API_ADDR=127.0.0.1:"+strconv.Itoa(port), "HOOKS_ADMIN_TOKEN="+admin),
		Stderr: logs}) // its request logs (stdout) are dropped
	if err != nil {
		return apiResult{}, err
	}
	defer procs.Stop(api, 3*time.Second)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = waitHealthy(wctx, base)
	cancel()
	if err != nil {
		return apiResult{}, err
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.apiWorkers * 2}, Timeout: 30 * time.Second}
	// Setup: one account with 10 hooks for listing; one account per 10
	// creates (the 10-hook limit), each with a member token.
	// Create slots run 1..apiRequests (account 0 holds the sample hook);
	// the last account is the listing one and takes no creates.
	accounts := o.apiRequests/10 + 2
	tokens := make([]string, accounts)
	if err := parallel(ctx, o.apiWorkers, accounts, func(i int) error {
		t, err := newAccount(ctx, client, base, admin, int64(900000+i))
		tokens[i] = t
		return err
	}); err != nil {
		return apiResult{}, fmt.Errorf("setup: %w", err)
	}
	listToken := tokens[accounts-1]
	for i := range 10 {
		if _, err := call(ctx, client, http.MethodPost, base+hooksPath, listToken, createBody(fmt.Sprintf("list-%d", i)), http.StatusOK); err != nil {
			return apiResult{}, fmt.Errorf("setup hooks: %w", err)
		}
	}
	listBody, err := call(ctx, client, http.MethodGet, base+hooksPath, listToken, "", http.StatusOK)
	if err != nil {
		return apiResult{}, err
	}
	createResp, err := call(ctx, client, http.MethodPost, base+hooksPath, tokens[0], createBody("sample"), http.StatusOK)
	if err != nil {
		return apiResult{}, err
	}

	var res apiResult
	res.list = load(ctx, o, func(int) error {
		_, err := call(ctx, client, http.MethodGet, base+hooksPath, listToken, "", http.StatusOK)
		return err
	})
	// Account 0 already holds one hook (the sample), so its slots start at 1.
	res.create = load(ctx, o, func(i int) error {
		slot := i + 1
		_, err := call(ctx, client, http.MethodPost, base+hooksPath, tokens[slot/10], createBody(strconv.Itoa(slot)), http.StatusOK)
		return err
	})

	// The floor: a plain net/http server in its own process answering the
	// same bodies, from the same load generator.
	floor, floorURL, err := startFloor(ctx, &procs, listBody, createResp, logs)
	if err != nil {
		return apiResult{}, err
	}
	defer procs.Stop(floor, 3*time.Second)
	res.floorList = load(ctx, o, func(int) error {
		_, err := call(ctx, client, http.MethodGet, floorURL+hooksPath, listToken, "", http.StatusOK)
		return err
	})
	res.floorCreate = load(ctx, o, func(i int) error {
		_, err := call(ctx, client, http.MethodPost, floorURL+hooksPath, listToken, createBody(strconv.Itoa(i)), http.StatusOK)
		return err
	})
	return res, nil
}

func createBody(suffix string) string {
	return `{"type":"post_load","destination_id":12345,"config":{"url":"https://hooks.example.com/bench/` + suffix + `"}}`
}

func newAccount(ctx context.Context, c *http.Client, base, admin string, cid int64) (string, error) {
	body := fmt.Sprintf(`{"client_id":%d,"plan":"advanced","alert_emails":["ops@example.com"],"destinations":[{"id":12345,"type":"s3"}]}`, cid)
	if _, err := call(ctx, c, http.MethodPost, base+"/admin/v1/accounts", admin, body, http.StatusCreated); err != nil {
		return "", err
	}
	out, err := call(ctx, c, http.MethodPost, fmt.Sprintf("%s/admin/v1/accounts/%d/members", base, cid), admin, `{"email":"bench@example.com"}`, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var m struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.Token == "" {
		return "", fmt.Errorf("create member: no token in answer")
	}
	return m.Token, nil
}

func call(ctx context.Context, c *http.Client, method, url, token, body string, want int) ([]byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return out, fmt.Errorf("%s %s: status %d, want %d: %.200s", method, req.URL.Path, resp.StatusCode, want, out)
	}
	return out, nil
}

func waitHealthy(ctx context.Context, base string) error {
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the api did not answer /healthz within 30s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, f func(int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// load runs f at most o.apiRequests times, for at most o.apiDuration, on
// o.apiWorkers workers, and measures each call.
func load(ctx context.Context, o options, f func(i int) error) latencyResult {
	ctx, cancel := context.WithTimeout(ctx, o.apiDuration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var wg sync.WaitGroup
	start := time.Now()
	for range o.apiWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= o.apiRequests {
					return
				}
				t0 := time.Now()
				err := f(i)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := latencyResult{requests: len(lat), errors: errs}
	if len(lat) > 0 {
		r.rps = float64(len(lat)) / elapsed.Seconds()
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

// startFloor starts this binary's floor-server in a child process.
func startFloor(ctx context.Context, procs *proc.Group, listBody, createBody []byte, logs io.Writer) (*proc.Proc, string, error) {
	dir, err := os.MkdirTemp("", "bench-floor")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	list, create := filepath.Join(dir, "list.json"), filepath.Join(dir, "create.json")
	if err := os.WriteFile(list, listBody, 0o600); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(create, createBody, 0o600); err != nil {
		return nil, "", err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	p, err := procs.Start(proc.Cmd{Name: "floor-server", Argv: []string{self, "floor-server", addr, list, create}, Stderr: logs})
	if err != nil {
		return nil, "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitHealthy(wctx, "http://"+addr); err != nil {
		_ = procs.Stop(p, 3*time.Second)
		return nil, "", err
	}
	return p, "http://" + addr, nil
}

// serveFloor is the API floor: net/http answering GET with the list body
// and POST (after reading the request) with the create body.
func serveFloor(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return errors.New("usage: floor-server ADDR LIST.json CREATE.json")
	}
	list, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	create, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET "+hooksPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(list)
	})
	mux.HandleFunc("POST "+hooksPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(create)
	})
	srv := &http.Server{Addr: args[0], Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ---- the table -------------------------------------------------------------------

func render(b benchResults, cold []coldResult, api apiResult, o options) string {
	var w bytes.Buffer
	val := func(name, unit, format string) string {
		v, ok := b.get(name, unit)
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf(format, v)
	}
	// ratio is the median of the runs' ratios to the floor: each run of
	// BenchmarkDelivery measures the floor and the handler in one process,
	// one after the other, so each ratio compares figures from the same
	// machine state (a slow run moves both sides of its own ratio).
	ratio := func(name, unit string) string {
		r, ok := b.roundRatio(name, "BenchmarkDelivery/floor", unit)
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", r)
	}
	row := func(cells ...string) { fmt.Fprintf(&w, "| %s |\n", strings.Join(cells, " | ")) }

	const (
		fake  = "BenchmarkDelivery/handler/store=fake"
		ddb   = "BenchmarkDelivery/handler/store=dynamodb"
		floor = "BenchmarkDelivery/floor"
		e2e   = "BenchmarkEndToEnd/handler/store=dynamodb"
		e2eF  = "BenchmarkEndToEnd/floor"
	)
	row("figure", "measured", "floor", "ratio / goal")
	row("---", "---", "---", "---")
	row("_before_: the design replaced, measured "+beforeDate, "", "", "")
	row(fmt.Sprintf("**1. Delivery, in process** (batch = 10 loads × 10 hooks, one TLS receiver in a child process; median of %d runs; ratios: median of the runs' ratios)", b.runs(fake)), "", "", "")
	row("CPU µs per delivery, store = in-memory fake", val(fake, "cpu-µs/delivery", "%.1f"), val(floor, "cpu-µs/delivery", "%.1f"), ratio(fake, "cpu-µs/delivery")+" (goal ≤ 1.2×; "+beforeCPURatio(beforeCPU.fake)+")")
	row("CPU µs per delivery, store = DynamoDB Local", val(ddb, "cpu-µs/delivery", "%.1f"), val(floor, "cpu-µs/delivery", "%.1f"), ratio(ddb, "cpu-µs/delivery")+" (goal ≤ 270 µs; "+beforeCPURatio(beforeCPU.dynamoDB)+")")
	row("allocations per delivery, fake / DynamoDB Local", val(fake, "allocs/delivery", "%.0f")+" / "+val(ddb, "allocs/delivery", "%.0f"), val(floor, "allocs/delivery", "%.0f"), "")
	row("deliveries/s, fake / DynamoDB Local", val(fake, "deliveries/s", "%.0f")+" / "+val(ddb, "deliveries/s", "%.0f"), val(floor, "deliveries/s", "%.0f"), "")
	row("new TLS connections per delivery, fake / DynamoDB Local", val(fake, "conns/delivery", "%.3f")+" / "+val(ddb, "conns/delivery", "%.3f"), val(floor, "conns/delivery", "%.3f"), "goal 0 (kept alive)")
	row("new connections to DynamoDB Local per delivery", val(ddb, "aws-conns/delivery", "%.3f"), "", "goal 0 (kept alive)")
	row(fmt.Sprintf("**2. End to end** (goaws → in-process event source → dispatcher → receiver; burst of N loads; median of %d interleaved rounds after an uncounted warm-up)", b.runs(e2e)), "", "", "")
	e2eRatio := "n/a"
	if r, ok := b.roundRatio(e2e, e2eF, "deliveries/s"); ok {
		e2eRatio = fmt.Sprintf("%.2f×", r)
	}
	row("deliveries/s (ratio: median of the rounds' ratios)", val(e2e, "deliveries/s", "%.0f"), val(e2eF, "deliveries/s", "%.0f"), e2eRatio+fmt.Sprintf(" (goal ≥ 0.8×; before %.2f×)", beforeEndToEnd))
	row("enqueue → receipt p50 / p99 (ms)", val(e2e, "p50-ms", "%.0f")+" / "+val(e2e, "p99-ms", "%.0f"), val(e2eF, "p50-ms", "%.0f")+" / "+val(e2eF, "p99-ms", "%.0f"), "")
	row("invocation ms per batch / receive ms per batch / most batches in flight",
		val(e2e, "invoke-ms/batch", "%.0f")+" / "+val(e2e, "receive-ms/batch", "%.0f")+" / "+val(e2e, "most-in-flight", "%.0f"),
		val(e2eF, "invoke-ms/batch", "%.0f")+" / "+val(e2eF, "receive-ms/batch", "%.0f")+" / "+val(e2eF, "most-in-flight", "%.0f"), "where the time goes")
	cpu := func(name string) string {
		var cells []string
		for _, p := range []string{"bench", "receiver", "goaws", "dynamodb"} {
			cells = append(cells, val(name, p+"-cpu-µs/delivery", "%.0f"))
		}
		return strings.Join(cells, " / ")
	}
	row("CPU µs per delivery: bench (event source, function) / receiver / goaws / DynamoDB Local", cpu(e2e), cpu(e2eF), "which process is busy")
	// The run is bound by the 2 cores' CPU, which DynamoDB Local's JVM
	// shares: the floor's CPU over ours, the emulator left out, is how much
	// of the gap is the service's own work.
	own := func(name string) (float64, bool) {
		var sum float64
		for _, p := range []string{"bench", "receiver", "goaws"} {
			v, ok := b.get(name, p+"-cpu-µs/delivery")
			if !ok {
				return 0, false
			}
			sum += v
		}
		return sum, true
	}
	oursCPU, floorCPU, ownRatio := "n/a", "n/a", "n/a"
	if ours, ok := own(e2e); ok {
		oursCPU = fmt.Sprintf("%.0f", ours)
		if floor, ok := own(e2eF); ok && ours > 0 {
			floorCPU, ownRatio = fmt.Sprintf("%.0f", floor), fmt.Sprintf("%.2f× (floor / ours)", floor/ours)
		}
	}
	row("CPU µs per delivery without DynamoDB Local", oursCPU, floorCPU, ownRatio)
	row("new TLS connections to the receiver per delivery", val(e2e, "conns/delivery", "%.3f"), val(e2eF, "conns/delivery", "%.3f"), "cold environments open their pools")
	var calls []string
	for _, unit := range slices.Sorted(maps.Keys(b[e2e])) {
		op, ok := strings.CutSuffix(unit, "-ms/batch")
		if !ok || !strings.Contains(op, ".") {
			continue // invoke-ms/batch and receive-ms/batch are above
		}
		calls = append(calls, op+" "+val(e2e, unit, "%.0f"))
	}
	if len(calls) > 0 {
		row("invocation's wait on AWS calls, ms per batch", strings.Join(calls, ", "), "", "the rest: attempts and own work")
	}
	row("DynamoDB reads per batch (loads per batch)", val(e2e, "ddb-reads/batch", "%.2f")+" ("+val(e2e, "loads/batch", "%.1f")+")", "1 per account", "goal: 1 per account per batch")
	row("DynamoDB reads per load notification", val(e2e, "ddb-reads/load", "%.3f"), "0.1 (10 loads of 1 account per batch)", "no per-hook reads")
	row("DynamoDB writes per delivery (of which UpdateItem)", val(e2e, "ddb-writes/delivery", "%.2f")+" ("+val(e2e, "ddb-updateitem/delivery", "%.2f")+")", "0.2 (one claim and one result write per load of 10 hooks)", "")
	row("**3. Cold start** (stripped arm64 size; init under aws-lambda-rie, host build, median of "+strconv.Itoa(o.coldRuns)+")", "", "", "")
	var fl coldResult
	for _, c := range cold {
		if c.name == "floorfn" {
			fl = c
		}
	}
	for _, c := range cold {
		if c.name == "floorfn" {
			continue
		}
		row(c.name+": bootstrap size arm64 (MiB)", fmt.Sprintf("%.2f", mib(c.armBytes)), fmt.Sprintf("%.2f", mib(fl.armBytes)), sizeVerdict(c.name, c.armBytes))
		if c.err != nil {
			row(c.name+": init duration (ms)", "error: "+c.err.Error(), "", "")
			continue
		}
		row(c.name+": init ms, rapid INIT REPORT (REPORT line's Init Duration)", fmt.Sprintf("%.1f (%.2f)", c.initMs, c.reportMs), fmt.Sprintf("%.1f (%.2f)", fl.initMs, fl.reportMs), "goal ≤ 10 ms")
	}
	row(fmt.Sprintf("**4. API** (local mode, DynamoDB Local; ≤ %d requests or %v per scenario, concurrency %d)", o.apiRequests, o.apiDuration, o.apiWorkers), "", "", "")
	lat := func(r latencyResult) string {
		s := fmt.Sprintf("%.0f req/s, p50 %.1f ms, p99 %.1f ms", r.rps, ms(r.p50), ms(r.p99))
		if r.errors > 0 {
			s += fmt.Sprintf(", %d errors", r.errors)
		}
		return s
	}
	row(fmt.Sprintf("GET hooks (10 hooks; %d requests)", api.list.requests), lat(api.list), lat(api.floorList), "")
	row(fmt.Sprintf("POST hooks (a new account every 10; %d requests)", api.create.requests), lat(api.create), lat(api.floorCreate), "")
	renderCost(row, b, o)
	return w.String()
}

// sizeGoal is the most a stripped arm64 bootstrap may weigh.
const sizeGoal = 8 << 20

// sizeBefore is each function's stripped arm64 bootstrap, in bytes, as
// scripts/build made it on 2026-12-03, before the alerter's emails were
// written without templates: the figure each size row is compared with.
var sizeBefore = map[string]int64{
	"api":        12386466, // 11.81 MiB
	"dispatcher": 8192162,  // 7.81 MiB
	"alerter":    11468962, // 10.94 MiB
}

// sizeVerdict says whether a bootstrap of n bytes meets sizeGoal, with the
// function's before figure when there is one.
func sizeVerdict(name string, n int64) string {
	v := "met (goal ≤ 8 MiB)"
	if n > sizeGoal {
		v = fmt.Sprintf("not met: %.2f MiB over (goal ≤ 8 MiB)", mib(n-sizeGoal))
	}
	if b, ok := sizeBefore[name]; ok {
		v += fmt.Sprintf("; before %.2f", mib(b))
	}
	return v
}

func mib(n int64) float64        { return float64(n) / (1 << 20) }
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
