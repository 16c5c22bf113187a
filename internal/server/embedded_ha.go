package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/join"
	"github.com/regis-dev/regis/internal/pki"
	"github.com/regis-dev/regis/internal/serviceaccount"
)

// Embedded HA, as k3s offers it: the embedded etcd of several servers as
// one raft cluster. The first server runs with --cluster-init, the others
// with --join and its token (package join); each server's API uses its own
// member.

// JoinTokenFile is the file of DataDir where --cluster-init writes the
// join token.
const JoinTokenFile = "join-token"

// memberNameFile records the embedded member's name in DataDir.
const memberNameFile = "etcd-member-name"

// validateHA reports invalid embedded HA options.
func (o Options) validateHA() []error {
	var errs []error
	ha := o.ClusterInit || o.Join != ""
	switch {
	case o.ClusterInit && o.Join != "":
		errs = append(errs, errors.New("--cluster-init and --join exclude each other"))
	case ha && len(o.EtcdServers) > 0:
		errs = append(errs, errors.New("--cluster-init and --join run an embedded etcd: not with --etcd-servers"))
	case o.Join != "" && o.JoinToken == "":
		errs = append(errs, errors.New("--join needs --join-token (the first server's <data-dir>/join-token)"))
	case ha && (o.EmbeddedEtcdClientPort == 0 || o.EmbeddedEtcdPeerPort == 0):
		errs = append(errs, errors.New("--cluster-init and --join need fixed --embedded-etcd-client-port and --embedded-etcd-peer-port (the peers know the member by them)"))
	case o.Leave && !ha:
		errs = append(errs, errors.New("--leave needs --cluster-init or --join"))
	}
	if o.Join != "" {
		if _, err := join.ParseToken(o.JoinToken); err != nil {
			errs = append(errs, fmt.Errorf("--join-token: %w", err))
		}
	}
	if o.AdvertiseAddress != "" && net.ParseIP(o.AdvertiseAddress) == nil {
		errs = append(errs, fmt.Errorf("--advertise-address %q: want an IP address", o.AdvertiseAddress))
	}
	return errs
}

// startEmbeddedHA starts the embedded etcd as a member of a cluster: the
// first one (ClusterInit), or, on the first start with Join, a new member
// added through the server of Join. Later starts run the member on its
// data.
func (b *Backend) startEmbeddedHA(ctx context.Context, o Options) error {
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := pki.EnsureDir(dataDir); err != nil {
		return err
	}
	addr := o.AdvertiseAddress
	if addr == "" {
		addr = "127.0.0.1"
	}
	hostURL := func(port int) string { return "https://" + net.JoinHostPort(addr, strconv.Itoa(port)) }
	clientURL, peerURL := hostURL(o.EmbeddedEtcdClientPort), hostURL(o.EmbeddedEtcdPeerPort)
	name, err := memberName(dataDir)
	if err != nil {
		return err
	}
	dir := EmbeddedEtcdDir(dataDir)
	_, statErr := os.Stat(filepath.Join(dir, "member", "wal"))
	hasData := statErr == nil
	p := etcd.PKI{Dir: EmbeddedEtcdPKIDir(dataDir)}
	mc := etcd.MemberConfig{Name: name, DataDir: dir, LogLevel: o.EtcdLogLevel, Logger: b.log, UnsafeNoFsync: o.EtcdUnsafeNoFsync,
		ListenClientURLs: []string{clientURL}, AdvertiseClientURLs: []string{clientURL},
		ListenPeerURLs: []string{peerURL}, InitialAdvertisePeerURLs: []string{peerURL},
		InitialCluster: name + "=" + peerURL, InitialClusterToken: "regis"}
	if mc.LogLevel == "" {
		mc.LogLevel = "error"
	}
	var promote uint64
	var others []string // the other members' client URLs, to promote through
	switch {
	case o.ClusterInit:
		if p, err = etcd.EnsurePKI(p.Dir); err != nil {
			return err
		}
		ca, err := pki.LoadCA(p.CAFile(), filepath.Join(p.Dir, etcd.PKICAKeyFile))
		if err != nil {
			return err
		}
		if err := ensureAddressCerts(p, ca, net.ParseIP(addr)); err != nil {
			return err
		}
		b.joinCA = ca
		b.joinTokenFile = filepath.Join(dataDir, JoinTokenFile)
		b.sharedDir = o.pkiDir()
	case !hasData:
		tok, _ := join.ParseToken(o.JoinToken) // validated
		b.log.Info("joining the embedded etcd cluster", "server", o.Join, "name", name, "peer-url", peerURL)
		jctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		var joined *join.Joined
		for {
			joined, err = join.Join(jctx, join.Request{URL: o.Join, Token: tok, Name: name, PeerURL: peerURL, ClientURL: clientURL, PKIDir: p.Dir,
				SharedDir: o.pkiDir(), SharedNames: sharedFiles})
			if err == nil || !join.Retryable(err) || jctx.Err() != nil {
				break
			}
			b.log.Warn("joining the embedded etcd cluster: trying again in 2s", "error", err)
			select {
			case <-jctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
		cancel()
		if err != nil {
			return err
		}
		mc.InitialCluster, mc.InitialClusterState, promote, others = joined.InitialCluster, "existing", joined.MemberID, joined.ClientURLs
		if len(joined.Shared) > 0 {
			b.log.Info("joined: the cluster's API CA and service account key taken from the first server", "files", joined.Shared)
		}
		if len(joined.Kept) > 0 {
			b.log.Warn("joined: kept this server's own files instead of the cluster's: its clients and tokens are not good on the other servers", "files", joined.Kept)
		}
	}
	mc.Client = etcd.TLSFiles{CertFile: filepath.Join(p.Dir, etcd.PKIServerCertFile), KeyFile: filepath.Join(p.Dir, etcd.PKIServerKeyFile),
		TrustedCAFile: p.CAFile(), ClientCertAuth: true}
	mc.Peer = etcd.TLSFiles{CertFile: filepath.Join(p.Dir, etcd.PKIPeerCertFile), KeyFile: filepath.Join(p.Dir, etcd.PKIPeerKeyFile),
		TrustedCAFile: p.CAFile(), ClientCertAuth: true}
	if b.tls, err = p.ClientTLS(); err != nil {
		return err
	}
	mc.LocalSocket = filepath.Join(p.Dir, localSocketFile)
	if b.Embedded, err = etcd.StartMember(ctx, mc); err != nil {
		return err
	}
	b.Endpoints = []string{clientURL}
	if b.Embedded.LocalEndpoint != "" {
		b.Endpoints, b.local = []string{b.Embedded.LocalEndpoint}, true // as startEmbedded's
	}
	b.endpointFile = filepath.Join(p.Dir, endpointFile)
	if err := pki.WriteFile(b.endpointFile, []byte(clientURL+"\n"), 0o644); err != nil {
		b.log.Warn("could not record the embedded etcd's endpoint", "error", err)
	}
	b.dataDir, b.leave = dataDir, o.Leave
	b.log.Info("embedded etcd member started", "name", name, "client-url", clientURL, "peer-url", peerURL, "data", dir)
	if promote != 0 {
		c, err := etcd.NewClient(others, etcd.WithTLS(b.tls))
		if err != nil {
			return err
		}
		defer c.Close()
		pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := join.Promote(pctx, c.Cluster, promote); err != nil {
			return err
		}
		// The member serves once it has applied its own promotion.
		local, err := b.NewClient()
		if err != nil {
			return err
		}
		defer local.Close()
		for {
			st, err := local.Status(pctx, b.Endpoints[0])
			if err == nil && !st.IsLearner {
				break
			}
			select {
			case <-pctx.Done():
				return fmt.Errorf("etcd member %s still a learner: %w", name, pctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
		b.log.Info("embedded etcd member promoted to voting member", "name", name)
	}
	return nil
}

// sharedFiles are the files of the API's PKI directory a joining server
// takes from the first one, when it has none of its own: the API's CA
// (so each server's admin certificate and serving certificate come from
// one CA, and kube-root-ca.crt is the same through every server) and the
// service account signing key (a token issued by one server is good on
// the others). Files given by flags (--tls-cert-file,
// --service-account-signing-key-file…) are the operator's to share.
var sharedFiles = []string{pki.CAFile, pki.CAKeyFile, serviceaccount.SigningKeyFile}

// readShared reads the shared files of dir that exist.
func readShared(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range sharedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[name] = data
	}
	return out, nil
}

// memberName returns the name of the data directory's member, made up and
// recorded on the first start: the host's name and a random suffix.
func memberName(dataDir string) (string, error) {
	path := filepath.Join(dataDir, memberNameFile)
	if data, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(data)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	host, _ := os.Hostname()
	host = strings.ToLower(strings.Split(host, ".")[0])
	if host == "" {
		host = "regis"
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return "", err
	}
	name := host + "-" + hex.EncodeToString(suffix)
	if err := pki.WriteFile(path, []byte(name+"\n"), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// joinHandler wraps the API's handler with the join endpoint on a
// --cluster-init server, whose token it writes (pinned to the serving
// certificate's key).
func (b *Backend) joinHandler(api http.Handler, tlsCfg *tls.Config) (http.Handler, error) {
	if b.joinCA == nil || len(tlsCfg.Certificates) == 0 {
		return api, nil
	}
	leaf, err := x509.ParseCertificate(tlsCfg.Certificates[0].Certificate[0])
	if err != nil {
		return nil, err
	}
	tok, err := join.EnsureTokenFile(b.joinTokenFile, join.KeyHash(leaf.RawSubjectPublicKeyInfo))
	if err != nil {
		return nil, err
	}
	b.log.Info("join token written: other servers join with --join and --join-token", "file", b.joinTokenFile)
	s := &join.Server{Token: tok, CA: b.joinCA, Cluster: b.Client.Cluster, Logger: b.log.With("component", "etcd-join"),
		Shared: func() (map[string][]byte, error) { return readShared(b.sharedDir) }}
	return s.Wrap(api), nil
}

// leaveCluster removes the embedded member from its cluster (--leave),
// before the member stops; its data is removed after (RemoveLeftData).
func (b *Backend) leaveCluster(ctx context.Context) error {
	if !b.leave || b.Embedded == nil || b.Client == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	list, err := b.Client.MemberList(ctx)
	if err != nil {
		return fmt.Errorf("--leave: %w", err)
	}
	if len(list.Members) < 2 {
		b.log.Info("--leave: the last member stays")
		b.leave = false
		return nil
	}
	// Through the others: this member stops as it applies its removal,
	// and would cut its own answer.
	var others []string
	for _, m := range list.Members {
		if m.ID != b.Embedded.MemberID() {
			others = append(others, m.ClientURLs...)
		}
	}
	c, err := etcd.NewClient(others, etcd.WithTLS(b.tls))
	if err != nil {
		b.leave = false
		return fmt.Errorf("--leave: %w", err)
	}
	defer c.Close()
	if err := etcd.RemoveMember(ctx, c, b.Embedded.MemberID()); err != nil {
		b.leave = false
		return fmt.Errorf("--leave: %w", err)
	}
	b.log.Info("left the embedded etcd cluster", "id", fmt.Sprintf("%x", b.Embedded.MemberID()))
	return nil
}

// removeLeftData removes the data of a member that left (its cluster no
// longer knows it): a later start joins again.
func (b *Backend) removeLeftData() {
	if !b.leave {
		return
	}
	dir := EmbeddedEtcdDir(b.dataDir)
	if err := os.RemoveAll(dir); err != nil {
		b.log.Warn("--leave: could not remove the member's data", "dir", dir, "error", err)
	}
}

// ensureAddressCerts re-issues the member's serving and peer certificates
// when they do not name ip, the address its peers and clients reach it at
// (EnsurePKI issues them for loopback only, and keeps them after).
func ensureAddressCerts(p etcd.PKI, ca *pki.CA, ip net.IP) error {
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, c := range []struct{ cn, cert, key string }{
		{"regis-etcd-server", etcd.PKIServerCertFile, etcd.PKIServerKeyFile},
		{"regis-etcd-peer", etcd.PKIPeerCertFile, etcd.PKIPeerKeyFile},
	} {
		path := filepath.Join(p.Dir, c.cert)
		if cert, err := pki.ReadCert(path); err == nil && cert.VerifyHostname(ip.String()) == nil {
			continue
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: c.cn, Organization: []string{"regis"}},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: both,
			DNSNames:    []string{"localhost"}, IPAddresses: append(pki.LoopbackIPs(), ip),
		}
		if err := ca.IssueFiles(tmpl, path, filepath.Join(p.Dir, c.key)); err != nil {
			return fmt.Errorf("etcd certificate for %s: %w", ip, err)
		}
	}
	return nil
}
