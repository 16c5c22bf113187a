package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Check is a named health check, served at /healthz/NAME and, when asked,
// /livez/NAME and /readyz/NAME, and part of those endpoints' aggregate.
type Check struct {
	Name string
	// Livez and Readyz add the check to /livez and /readyz; every check is
	// part of /healthz.
	Livez, Readyz bool
	// Func returns nil when healthy.
	Func func(ctx context.Context) error
}

// checksFor lists the checks of an endpoint: ping first, then the
// configured ones, then (readyz) shutdown.
func (s *Server) checksFor(endpoint string) []Check {
	checks := []Check{{Name: "ping", Func: func(context.Context) error { return nil }}}
	for _, c := range s.cfg.Checks {
		switch {
		case endpoint == "livez" && !c.Livez, endpoint == "readyz" && !c.Readyz:
			continue
		}
		checks = append(checks, c)
	}
	if endpoint == "readyz" {
		checks = append(checks, Check{Name: "shutdown", Func: func(context.Context) error {
			select {
			case <-s.stopping:
				return errors.New("server is shutting down")
			default:
				return nil
			}
		}})
	}
	return checks
}

// healthHandler serves /livez, /readyz or /healthz as kube-apiserver does:
// "ok", or with ?verbose (and always on failure) one "[+]name ok" or
// "[-]name failed: reason withheld" line per check; ?exclude=NAME skips a
// check; /ENDPOINT/NAME runs one check.
func (s *Server) healthHandler(endpoint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		checks := s.checksFor(endpoint)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+endpoint), "/"); name != "" {
			for _, c := range checks {
				if c.Name == name {
					if err := c.Func(ctx); err != nil {
						http.Error(w, "internal server error: "+err.Error(), http.StatusInternalServerError)
						return
					}
					fmt.Fprint(w, "ok")
					return
				}
			}
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		excluded := map[string]bool{}
		for _, e := range q["exclude"] {
			excluded[e] = true
		}
		results := runChecks(ctx, checks, excluded)
		var b strings.Builder
		failed := false
		for i, c := range checks {
			if excluded[c.Name] {
				fmt.Fprintf(&b, "[+]%s excluded: ok\n", c.Name)
				continue
			}
			if err := results[i]; err != nil {
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.Name)
				continue
			}
			fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
		}
		if failed {
			fmt.Fprintf(&b, "%s check failed\n", endpoint)
			http.Error(w, b.String(), http.StatusInternalServerError)
			return
		}
		if _, verbose := q["verbose"]; verbose {
			fmt.Fprintf(&b, "%s check passed\n", endpoint)
			fmt.Fprint(w, b.String())
			return
		}
		fmt.Fprint(w, "ok")
	})
}

// healthTimeout bounds an answer of /livez, /readyz and /healthz: a check
// still running then has failed.
const healthTimeout = 5 * time.Second

// runChecks runs the checks not excluded at once and returns their
// results, in order, once all have returned or ctx has ended: a check
// still running then has failed with ctx's error (its goroutine ends when
// the check returns; checks are bounded by ctx).
func runChecks(ctx context.Context, checks []Check, excluded map[string]bool) []error {
	type result struct {
		i   int
		err error
	}
	done := make(chan result, len(checks)) // never blocks a late check
	results := make([]error, len(checks))
	pending := map[int]bool{}
	for i, c := range checks {
		if excluded[c.Name] {
			continue
		}
		pending[i] = true
		go func() { done <- result{i, c.Func(ctx)} }()
	}
	for len(pending) > 0 {
		select {
		case r := <-done:
			results[r.i] = r.err
			delete(pending, r.i)
		case <-ctx.Done():
			for i := range pending {
				results[i] = fmt.Errorf("check timed out: %w", ctx.Err())
			}
			return results
		}
	}
	return results
}

// versionRoute is upstream's one route of /version.
var versionRoute = []route{{method: http.MethodGet, consumes: []string{mediaJSON}, produces: []string{mediaJSON}}}

// serveVersion answers /version.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	routes := versionRoute
	if len(splitPath(r.URL.Path)) > 1 {
		routes = nil // /version/...: no route
	}
	if err := selectRoute(r, routes); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	data, _ := json.MarshalIndent(s.cfg.Version, "", "  ")
	_, _ = w.Write(data)
}

// serveRootPaths answers / with the paths the server serves.
func (s *Server) serveRootPaths(w http.ResponseWriter, r *http.Request) {
	paths := []string{"/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v2", "/openapi/v3", "/readyz", "/version"}
	for _, g := range s.discovery().groups {
		paths = append(paths, "/apis/"+g.Name)
		for _, v := range g.Versions {
			paths = append(paths, "/apis/"+v.GroupVersion)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	data, _ := json.MarshalIndent(map[string][]string{"paths": paths}, "", "  ")
	_, _ = w.Write(data)
}
