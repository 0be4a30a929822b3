package rie

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

// Env is the environment of fn's process as sorted KEY=VALUE pairs, one per
// key, built as `sam local invoke` builds it: the template's
// Environment.Variables (values that exist only once deployed, like
// !Ref HooksTable, become ""), then envFile's "Parameters" for declared
// variables, then envFile's section for fn's logical id; the caller's AWS_*
// variables from environ unless the file sets them; what Lambda sets itself
// (AWS_LAMBDA_FUNCTION_NAME, ..., AWS_LAMBDA_LOG_FORMAT); and last
// overrides, which win over everything.
//
// notes lists the file's variables that the template does not declare for
// fn: sam local invoke drops them, Env passes them (so AWS_ENDPOINT_URL_*
// can point the function at the emulators) and says so.
func Env(tp *samtemplate.Template, fn samtemplate.Function, envFile string, environ []string, overrides map[string]string) (env, notes []string, err error) {
	var file map[string]map[string]any
	if envFile != "" {
		raw, err := os.ReadFile(envFile)
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			return nil, nil, fmt.Errorf("env vars %s: want {\"LogicalId\": {\"NAME\": \"value\"}, \"Parameters\": {...}}: %w", envFile, err)
		}
	}
	params := tp.ParameterDefaults()
	vars := map[string]string{
		"PATH": os.Getenv("PATH"),
		"HOME": os.Getenv("HOME"),
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			vars[k] = v
		}
	}
	vars["AWS_LAMBDA_FUNCTION_NAME"] = fn.LogicalID
	vars["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(fn.Timeout)
	vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(fn.MemorySize)
	vars["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	if f, ok := fn.LoggingConfig["LogFormat"].(string); ok {
		vars["AWS_LAMBDA_LOG_FORMAT"] = f
		if l, ok := samtemplate.Resolve(fn.LoggingConfig["ApplicationLogLevel"], params); ok && l != "" {
			vars["AWS_LAMBDA_LOG_LEVEL"] = l
		}
	}
	for k, v := range fn.Environment {
		s, ok := samtemplate.Resolve(v, params)
		if !ok {
			s = ""
		}
		vars[k] = s
	}
	for k, v := range file["Parameters"] {
		if _, declared := fn.Environment[k]; declared {
			vars[k] = fmt.Sprint(v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(file[fn.LogicalID])) {
		if _, declared := fn.Environment[k]; !declared && !strings.HasPrefix(k, "AWS_") {
			notes = append(notes, fmt.Sprintf("%s is not declared for %s in template.yaml; sam local invoke would ignore it", k, fn.LogicalID))
		}
		vars[k] = fmt.Sprint(file[fn.LogicalID][k])
	}
	for k, v := range overrides {
		vars[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env, notes, nil
}
