package localkms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
)

// Serve serves svc over the KMS v2 gRPC API on the unix socket at path until
// ctx is done, then stops gracefully and removes the socket. An existing
// file at path is removed first only if it is a socket nobody listens on.
func Serve(ctx context.Context, path string, svc kmsservice.Service) error {
	if err := removeStaleSocket(path); err != nil {
		return err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return err
	}
	srv := grpc.NewServer()
	kmsapi.RegisterKeyManagementServiceServer(srv, kmsservice.NewGRPCService(path, 0, svc))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan struct{})
	go func() { // owned by Serve, which waits for it
		defer close(stopped)
		<-ctx.Done()
		srv.GracefulStop()
	}()
	err = srv.Serve(ln)
	cancel()
	<-stopped
	_ = os.Remove(path)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
		return fmt.Errorf("%s: a plugin already listens there", path)
	}
	return os.Remove(path)
}
