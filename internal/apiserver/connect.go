package apiserver

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
)

// connectDialTimeout bounds the dial of a connection's target (a kubelet,
// a pod); the connection itself lives as long as both ends keep it.
const connectDialTimeout = 30 * time.Second

// connectMethods are the methods of a connection subresource's routes, by
// the verbs discovery lists.
func connectMethods(rule *registry.SubresourceRule) []route {
	var out []route
	for _, v := range rule.Verbs {
		switch v {
		case "get":
			out = append(out, route{method: http.MethodGet, produces: []string{"*/*"}}, route{method: http.MethodHead, produces: []string{"*/*"}})
		case "create":
			out = append(out, route{method: http.MethodPost, produces: []string{"*/*"}})
		case "update":
			out = append(out, route{method: http.MethodPut, produces: []string{"*/*"}})
		case "patch":
			out = append(out, route{method: http.MethodPatch, produces: []string{"*/*"}})
		case "delete":
			out = append(out, route{method: http.MethodDelete, produces: []string{"*/*"}})
		}
	}
	if rule.Name == "proxy" {
		out = append(out, route{method: http.MethodOptions, produces: []string{"*/*"}})
	}
	return out
}

// connect serves a connection subresource: pods/log, exec, attach,
// portforward, proxy, services/proxy, nodes/proxy.
func (s *Server) connect(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo, rule *registry.SubresourceRule) error {
	if opts := connectOptions(st.Resource(), info.subresource, info.subpath, r.URL.Query()); opts != nil {
		if err := st.AdmitConnect(r.Context(), info.namespace, info.name, info.subresource, opts); err != nil {
			return err // dynamic admission: operation CONNECT
		}
	}
	target, err := rule.Connect(r.Context(), st, info.namespace, info.name,
		registry.ConnectRequest{Method: r.Method, Path: info.subpath, Query: r.URL.Query()})
	if err != nil {
		return err
	}
	if target == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	switch target.Mode {
	case registry.ConnectStream:
		return s.streamFrom(w, r, target)
	case registry.ConnectUpgrade:
		if !isUpgrade(r) {
			return apierrors.NewBadRequest("Upgrade request required")
		}
		return tunnel(w, r, target)
	}
	s.proxyTo(w, r, target)
	return nil
}

// unknownStatus is upstream's answer to an error that is no API status
// (its ErrorToAPIStatus): 500, no reason, the error's text.
func unknownStatus(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
		Code: http.StatusInternalServerError, Message: err.Error()}}
}

func transportFor(t *registry.ConnectTarget) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: connectDialTimeout}).DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify}, //nolint:gosec // as kube-apiserver without a kubelet CA
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
	}
}

// streamFrom answers with the body of a GET of the target (pods/log), as
// upstream's LocationStreamer.
func (s *Server) streamFrom(w http.ResponseWriter, r *http.Request, t *registry.ConnectTarget) error {
	tr := transportFor(t)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, t.URL.String(), nil)
	if err != nil {
		return unknownStatus(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return unknownStatus(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			_ = rc.Flush()
		}
		if err != nil {
			return nil
		}
	}
}

// isUpgrade reports a request asking for a connection upgrade (SPDY or
// WebSocket).
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return r.Header.Get("Upgrade") != ""
			}
		}
	}
	return false
}

// tunnel sends an upgrade request to the target and joins the two
// connections, as upstream's UpgradeAwareHandler; it ends when either
// side closes.
func tunnel(w http.ResponseWriter, r *http.Request, t *registry.ConnectTarget) error {
	d := &net.Dialer{Timeout: connectDialTimeout}
	var backend net.Conn
	var err error
	if t.URL.Scheme == "https" {
		backend, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify}}).DialContext(r.Context(), "tcp", t.URL.Host) //nolint:gosec // as kube-apiserver without a kubelet CA
	} else {
		backend, err = d.DialContext(r.Context(), "tcp", t.URL.Host)
	}
	if err != nil {
		return unknownStatus(fmt.Errorf("error dialing backend: %w", err))
	}
	defer backend.Close()
	req := r.Clone(r.Context())
	req.URL, req.Host, req.RequestURI = t.URL, t.URL.Host, ""
	req.Header.Del("Authorization")
	if err := req.Write(backend); err != nil {
		return unknownStatus(fmt.Errorf("error sending request: %w", err))
	}
	auditOf(w).Started(http.StatusSwitchingProtocols) // as upstream's audit writer on Hijack
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return apierrors.NewBadRequest("the connection cannot be upgraded: " + err.Error())
	}
	defer client.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(backend, buf); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, backend); done <- struct{}{} }()
	<-done
	return nil
}

// proxyTo forwards the request to the target and its answer back
// (proxy subresources).
func (s *Server) proxyTo(w http.ResponseWriter, r *http.Request, t *registry.ConnectTarget) {
	tr := transportFor(t)
	defer tr.CloseIdleConnections()
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.URL.Path, pr.Out.URL.RawPath = t.URL.Scheme, t.URL.Host, t.URL.Path, ""
			pr.Out.Host = t.URL.Host
			pr.Out.Header.Del("Authorization")
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, apierrors.NewServiceUnavailable("error trying to reach service: "+err.Error()))
		},
	}
	p.ServeHTTP(w, r)
}
