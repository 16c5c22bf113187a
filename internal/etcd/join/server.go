package join

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/pki"
)

// Path is the join endpoint on a server's HTTPS port.
const Path = "/regis/v1/etcd/join"

// request is what a joiner posts.
type request struct {
	Secret    string `json:"secret"`
	Name      string `json:"name"`
	PeerURL   string `json:"peerURL"`
	ClientURL string `json:"clientURL"`
	// ServerKey, PeerKey and ClientKey are the PKIX public keys the
	// certificates are for.
	ServerKey []byte `json:"serverKey"`
	PeerKey   []byte `json:"peerKey"`
	ClientKey []byte `json:"clientKey"`
}

// response is what the server answers a joiner it accepted.
type response struct {
	// CA is the etcd CA's certificate (PEM).
	CA []byte `json:"ca"`
	// ServerCert, PeerCert and ClientCert are DER.
	ServerCert []byte `json:"serverCert"`
	PeerCert   []byte `json:"peerCert"`
	ClientCert []byte `json:"clientCert"`
	// InitialCluster is the joiner's --initial-cluster.
	InitialCluster string `json:"initialCluster"`
	// MemberID is the joiner's member ID (a learner until promoted).
	MemberID uint64 `json:"memberID"`
	// ClientURLs are the other members' client URLs (a learner serves
	// no member API: it is promoted through them).
	ClientURLs []string `json:"clientURLs"`
	// Shared are the files every server of the cluster holds alike (the
	// API's CA, the service account signing key), by file name.
	Shared map[string][]byte `json:"shared,omitempty"`
}

// Server answers joins for one etcd cluster.
type Server struct {
	// Token is the join token the joiners present.
	Token Token
	// CA signs the joiners' etcd certificates.
	CA *pki.CA
	// Cluster is the etcd cluster the joiners are added to.
	Cluster clientv3.Cluster
	// Logger gets a line per join (never the secret).
	Logger *slog.Logger
	// Shared, when set, returns the files the joiners get as they are
	// (file name to content), as k3s's bootstrap data: the API's CA and
	// the service account key, so that every server's clients and tokens
	// are good on the others. Only a joiner with the token gets them.
	Shared func() (map[string][]byte, error)
}

// Wrap serves Path with s and everything else with next.
func (s *Server) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			next.ServeHTTP(w, r)
			return
		}
		s.ServeHTTP(w, r)
	})
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$`)

// ServeHTTP answers one join request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req request
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "malformed join request", http.StatusBadRequest)
		return
	}
	if !s.Token.secretOK(req.Secret) {
		s.Logger.Warn("etcd join refused: wrong token", "remote", r.RemoteAddr)
		time.Sleep(time.Second) // slows down guessing
		http.Error(w, "wrong join token", http.StatusUnauthorized)
		return
	}
	resp, code, err := s.join(r.Context(), req)
	if err != nil {
		s.Logger.Warn("etcd join failed", "remote", r.RemoteAddr, "name", req.Name, "error", err)
		http.Error(w, err.Error(), code)
		return
	}
	s.Logger.Info("etcd member joining", "name", req.Name, "peer-url", req.PeerURL, "id", fmt.Sprintf("%x", resp.MemberID))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) join(ctx context.Context, req request) (*response, int, error) {
	if !nameRE.MatchString(req.Name) {
		return nil, http.StatusBadRequest, fmt.Errorf("member name %q: want a DNS label", req.Name)
	}
	peer, err := url.Parse(req.PeerURL)
	if err != nil || peer.Scheme != "https" || peer.Port() == "" {
		return nil, http.StatusBadRequest, fmt.Errorf("peer URL %q: want https://IP:PORT", req.PeerURL)
	}
	client, err := url.Parse(req.ClientURL)
	if err != nil || client.Scheme != "https" || client.Hostname() != peer.Hostname() {
		return nil, http.StatusBadRequest, fmt.Errorf("client URL %q: want https:// on the peer URL's address", req.ClientURL)
	}
	ip := net.ParseIP(peer.Hostname())
	if ip == nil {
		return nil, http.StatusBadRequest, fmt.Errorf("peer URL %q: want an IP address", req.PeerURL)
	}
	out := &response{CA: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.CA.Cert.Raw})}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, c := range []struct {
		cn    string
		key   []byte
		usage []x509.ExtKeyUsage
		hosts bool
		out   *[]byte
	}{
		{"regis-etcd-server", req.ServerKey, both, true, &out.ServerCert},
		{"regis-etcd-peer", req.PeerKey, both, true, &out.PeerCert},
		{"regis-etcd-client", req.ClientKey, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false, &out.ClientCert},
	} {
		pub, err := x509.ParsePKIXPublicKey(c.key)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("%s public key: %v", c.cn, err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: pki.Serial(),
			Subject:      pkix.Name{CommonName: c.cn, Organization: []string{"regis"}},
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(pki.LeafValidity),
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: c.usage,
		}
		if c.hosts {
			tmpl.DNSNames, tmpl.IPAddresses = []string{"localhost"}, append(pki.LoopbackIPs(), ip)
		}
		if *c.out, err = x509.CreateCertificate(rand.Reader, tmpl, s.CA.Cert, pub, s.CA.Key); err != nil {
			return nil, http.StatusInternalServerError, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := s.Cluster.MemberList(ctx)
	if err != nil {
		return nil, http.StatusServiceUnavailable, fmt.Errorf("etcd member list: %w", err)
	}
	var id uint64
	for _, m := range list.Members {
		for _, u := range m.PeerURLs {
			if u != req.PeerURL {
				continue
			}
			if m.Name != "" && m.Name != req.Name {
				return nil, http.StatusConflict, fmt.Errorf("peer URL %s is member %s's", u, m.Name)
			}
			id = m.ID // a joiner trying again
		}
		if m.Name == req.Name && id != m.ID {
			return nil, http.StatusConflict, fmt.Errorf("a member named %s exists: remove it first (regis etcd member remove %s)", req.Name, req.Name)
		}
		if m.Name == "" && id != m.ID {
			return nil, http.StatusConflict, errors.New("another member is joining: try again once it has started, or remove it")
		}
	}
	if id == 0 {
		added, err := s.Cluster.MemberAddAsLearner(ctx, []string{req.PeerURL})
		if err != nil {
			return nil, http.StatusServiceUnavailable, fmt.Errorf("etcd member add: %w", err)
		}
		id, list.Members = added.Member.ID, added.Members
	}
	var initial []string
	for _, m := range list.Members {
		name := m.Name
		if m.ID == id {
			name = req.Name
		}
		for _, u := range m.PeerURLs {
			initial = append(initial, name+"="+u)
		}
		if m.ID != id {
			out.ClientURLs = append(out.ClientURLs, m.ClientURLs...)
		}
	}
	out.InitialCluster, out.MemberID = strings.Join(initial, ","), id
	if s.Shared != nil {
		if out.Shared, err = s.Shared(); err != nil {
			return nil, http.StatusInternalServerError, fmt.Errorf("shared files: %w", err)
		}
	}
	return out, http.StatusOK, nil
}
