package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/storage/value/kmsv2/localkms"
)

func newKMSPluginCmd() *cobra.Command {
	var socket, keyFile string
	var generate bool
	cmd := &cobra.Command{
		Use:   "kms-plugin",
		Short: "A KMS v2 plugin with keys from a local file, for development and tests (NOT for production)",
		Long: `Serve the KMS v2 gRPC API on a unix socket, with key encryption keys read
from a local file: for development and tests only. It is NOT for
production: a key kept on the same machine as the data it protects protects
little, and nothing here is hardened.

The key file holds one base64 32-byte key per line, the current key first
(# comments allowed). Rotate by putting a new key first and keeping the old
ones below it; the file is re-read when it changes, the plugin's key_id
changes, and servers write with the new key at once (run
` + "`regis encryption rewrite`" + ` to move the stored values, then remove the old key).
--generate creates the file with one random key when it does not exist.

Point a kms provider at it:

  - kms: {apiVersion: v2, name: local, endpoint: unix:///path/to/kms.sock}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" || keyFile == "" {
				return errors.New("--listen and --key-file are required")
			}
			if generate {
				if err := generateKeyFile(keyFile); err != nil {
					return err
				}
			}
			p, err := localkms.Open(keyFile)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			st, err := p.Status(ctx)
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(socket)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "KMS v2 plugin for development (not for production) on unix://%s, key_id %s\n", abs, st.KeyID)
			return localkms.Serve(ctx, abs, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&socket, "listen", "", "Path of the unix socket to serve on (required).")
	f.StringVar(&keyFile, "key-file", "", "File of base64 32-byte keys, the current one first (required).")
	f.BoolVar(&generate, "generate", false, "Create --key-file with one random key if it does not exist.")
	return cmd
}

// generateKeyFile creates path (mode 0600) with one new key, unless it
// exists.
func generateKeyFile(path string) error {
	line, err := localkms.NewKeyFileLine()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString("# regis kms-plugin development keys: the current key first\n" + strings.TrimSpace(line) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
