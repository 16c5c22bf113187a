package kmsv2

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
	"k8s.io/kms/pkg/util"
)

// Client is the KMS v2 gRPC API over a unix socket, as kube-apiserver calls
// it: insecure transport on the local socket, authority "localhost", calls
// wait for the plugin to be ready, each bounded by the timeout.
type Client struct {
	conn    *grpc.ClientConn
	api     kmsapi.KeyManagementServiceClient
	timeout time.Duration
}

var _ Service = (*Client)(nil)

// Dial returns a client of the plugin at endpoint ("unix:///path", or
// "unix:///@name" for a Linux abstract socket). It does not connect yet.
// timeout bounds each call. Close the client when done.
func Dial(endpoint string, timeout time.Duration) (*Client, error) {
	addr, err := util.ParseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient("passthrough:///kms-plugin",
		grpc.WithAuthority("localhost"),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("kms v2 plugin at %s: %w", endpoint, err)
	}
	return &Client{conn: conn, api: kmsapi.NewKeyManagementServiceClient(conn), timeout: timeout}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Status implements Service.
func (c *Client) Status(ctx context.Context) (*kmsservice.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r, err := c.api.Status(ctx, &kmsapi.StatusRequest{})
	if err != nil {
		return nil, err
	}
	return &kmsservice.StatusResponse{Version: r.Version, Healthz: r.Healthz, KeyID: r.KeyId}, nil
}

// Encrypt implements Service.
func (c *Client) Encrypt(ctx context.Context, uid string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r, err := c.api.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: uid})
	if err != nil {
		return nil, err
	}
	return &kmsservice.EncryptResponse{Ciphertext: r.Ciphertext, KeyID: r.KeyId, Annotations: r.Annotations}, nil
}

// Decrypt implements Service.
func (c *Client) Decrypt(ctx context.Context, uid string, req *kmsservice.DecryptRequest) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r, err := c.api.Decrypt(ctx, &kmsapi.DecryptRequest{
		Ciphertext: req.Ciphertext, Uid: uid, KeyId: req.KeyID, Annotations: req.Annotations,
	})
	if err != nil {
		return nil, err
	}
	return r.Plaintext, nil
}
