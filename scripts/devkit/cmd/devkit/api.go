package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
)

// loadEnv reads the local environment file of the repository the tool runs
// in, and fails with a hint when scripts/dev has not written it yet.
func loadEnv(getenv func(string) string) (localenv.Env, string, error) {
	root, err := rie.RepoRoot(getenv)
	if err != nil {
		return nil, "", err
	}
	env, path, ok, err := localenv.Load(root, getenv)
	if err != nil {
		return nil, path, err
	}
	if !ok {
		return nil, path, fmt.Errorf("no %s: start scripts/dev first (it writes the local environment there)", path)
	}
	return env, path, nil
}

// apiClient calls the local API with one bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(base, token string) apiClient {
	return apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// apiError is a non-2xx answer, with its body.
type apiError struct {
	method, path string
	status       int
	body         []byte
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s answered %d: %s", e.method, e.path, e.status, strings.TrimSpace(string(e.body)))
}

// do sends body (JSON-encoded unless nil) and returns the answer's body;
// a status outside 2xx is an *apiError.
func (c apiClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is scripts/dev running?)", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return b, &apiError{method: method, path: path, status: resp.StatusCode, body: b}
	}
	return b, nil
}

// pretty indents JSON for a terminal; anything else is returned as is.
func pretty(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
