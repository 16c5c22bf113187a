package join

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/pki"
)

// Request is what a joiner asks for.
type Request struct {
	// URL is the first server's https://HOST:PORT.
	URL string
	// Token is the first server's join token.
	Token Token
	// Name, PeerURL and ClientURL are the joining member's.
	Name, PeerURL, ClientURL string
	// PKIDir receives the member's etcd PKI files (etcd.PKI's names; no
	// CA key).
	PKIDir string
	// SharedDir receives the files the server shares (Server.Shared)
	// whose names are in SharedNames; a file already there is kept.
	SharedDir   string
	SharedNames []string
}

// Joined is the answer of an accepted join.
type Joined struct {
	// InitialCluster is the member's --initial-cluster (state existing).
	InitialCluster string
	// MemberID is the member's ID, a learner until Promote.
	MemberID uint64
	// ClientURLs are the other members' client URLs, for Promote.
	ClientURLs []string
	// Shared are the shared files written to Request.SharedDir; Kept
	// those that were there already and were left alone.
	Shared, Kept []string
}

// Join asks the server of r.URL to add the member, with keys made here
// whose certificates the server signs, written to r.PKIDir. The server is
// trusted only if its key matches the token's pin.
func Join(ctx context.Context, r Request) (*Joined, error) {
	if err := pki.EnsureDir(r.PKIDir); err != nil {
		return nil, err
	}
	keys := make([]*ecdsa.PrivateKey, 3)
	pubs := make([][]byte, 3)
	for i := range keys {
		k, err := pki.NewKey()
		if err != nil {
			return nil, err
		}
		if pubs[i], err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
			return nil, err
		}
		keys[i] = k
	}
	body, err := json.Marshal(request{Secret: r.Token.Secret, Name: r.Name, PeerURL: r.PeerURL, ClientURL: r.ClientURL,
		ServerKey: pubs[0], PeerKey: pubs[1], ClientKey: pubs[2]})
	if err != nil {
		return nil, err
	}
	pin := r.Token.KeyHash
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The server is authenticated by its key's pin, not by a CA.
		InsecureSkipVerify: true, //nolint:gosec // VerifyConnection checks the pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || KeyHash(cs.PeerCertificates[0].RawSubjectPublicKeyInfo) != pin {
				return errors.New("the server's key does not match the join token (wrong --join URL, or a server other than the token's)")
			}
			return nil
		},
	}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(r.URL, "/")+Path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("--join %s: %w", r.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("--join %s: %w", r.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("--join %s: %w", r.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("--join %s: %s: %s", r.URL, resp.Status, strings.TrimSpace(string(data)))
		if resp.StatusCode == http.StatusServiceUnavailable {
			err = retryable{err}
		}
		return nil, err
	}
	var out response
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("--join %s: malformed answer: %w", r.URL, err)
	}
	p := etcd.PKI{Dir: r.PKIDir}
	if err := pki.WriteFile(p.CAFile(), out.CA, pki.CertMode); err != nil {
		return nil, err
	}
	for i, f := range []struct {
		der             []byte
		certName, keyNm string
	}{
		{out.ServerCert, etcd.PKIServerCertFile, etcd.PKIServerKeyFile},
		{out.PeerCert, etcd.PKIPeerCertFile, etcd.PKIPeerKeyFile},
		{out.ClientCert, etcd.PKIClientCertFile, etcd.PKIClientKeyFile},
	} {
		if err := pki.WriteCert(filepath.Join(r.PKIDir, f.certName), f.der); err != nil {
			return nil, err
		}
		if err := pki.WriteKey(filepath.Join(r.PKIDir, f.keyNm), keys[i]); err != nil {
			return nil, err
		}
	}
	j := &Joined{InitialCluster: out.InitialCluster, MemberID: out.MemberID, ClientURLs: out.ClientURLs}
	if j.Shared, j.Kept, err = writeShared(r, out.Shared); err != nil {
		return nil, err
	}
	return j, nil
}

// writeShared writes the shared files r asks for that are not there yet
// (private: 0600), and returns the names written and kept.
func writeShared(r Request, files map[string][]byte) (written, kept []string, err error) {
	for _, name := range r.SharedNames {
		data, ok := files[name]
		if !ok || r.SharedDir == "" || name != filepath.Base(name) {
			continue
		}
		path := filepath.Join(r.SharedDir, name)
		if _, err := os.Stat(path); err == nil {
			kept = append(kept, name)
			continue
		}
		if err := pki.EnsureDir(r.SharedDir); err != nil {
			return nil, nil, err
		}
		if err := pki.WriteFile(path, data, pki.KeyMode); err != nil {
			return nil, nil, err
		}
		written = append(written, name)
	}
	return written, kept, nil
}

// retryable is an error of a join worth trying again: etcd was not ready
// to add a member (a member that joined a moment ago is not yet counted
// as active by etcd's strict reconfiguration check).
type retryable struct{ error }

func (e retryable) Unwrap() error { return e.error }

// Retryable reports whether a Join failed in a way worth trying again.
func Retryable(err error) bool {
	var r retryable
	return errors.As(err, &r)
}

// Promote makes the learner id a voting member, trying again while it is
// catching up, until ctx ends. A member already voting is success.
func Promote(ctx context.Context, c clientv3.Cluster, id uint64) error {
	for {
		_, err := c.MemberPromote(ctx, id)
		if err == nil || errors.Is(err, rpctypes.ErrMemberNotLearner) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("promoting etcd member %x: %w (last: %v)", id, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
