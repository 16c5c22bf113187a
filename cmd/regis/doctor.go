package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/ops/maint"
	"github.com/regis-dev/regis/internal/server"
)

func newDoctorCmd() *cobra.Command {
	f := &liveFlags{}
	var o maint.DoctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check an etcd before regis relies on it, and say what to fix",
		Long: `Check the etcd of the flags: members' health and leader, the version floor
for consistent reads from the watch cache (3.4.31 / 3.5.13), that progress
notifications are answered, quota and fragmentation, alarms, hash
consistency across members (HashKV at one revision), compaction falling
behind, clock skew between this machine and each member, and the expiry of
the client certificates. Exits non-zero when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := f.connect(cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			o.TLS, o.CertFiles = doctorTLS(f.etcd)
			findings := maint.Doctor(cmd.Context(), conn.Client, o)
			if f.output == "json" {
				err = printJSON(cmd.OutOrStdout(), findings)
			} else {
				err = printFindings(cmd.OutOrStdout(), conn.Where, findings)
			}
			if err != nil {
				return err
			}
			var failed []string
			for _, x := range findings {
				if x.Status == maint.Fail {
					failed = append(failed, x.Check)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().Int64Var(&o.QuotaBytes, "quota-backend-bytes", 0, "The members' --quota-backend-bytes (0: etcd's default, 2 GiB).")
	return cmd
}

// doctorTLS is the TLS of the etcd flags (or of the data directory's
// embedded etcd) and the certificate files to check.
func doctorTLS(o server.Options) (*tls.Config, []string) {
	if len(o.EtcdServers) > 0 {
		cfg, _ := etcd.TLSConfig(o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile)
		var files []string
		for _, f := range []string{o.EtcdCertFile, o.EtcdCAFile} {
			if f != "" {
				files = append(files, f)
			}
		}
		return cfg, files
	}
	p := etcd.PKI{Dir: server.EmbeddedEtcdPKIDir(o.DataDir)}
	cfg, err := p.ClientTLS()
	if err != nil {
		return nil, nil
	}
	return cfg, []string{p.ClientCertFile(), p.CAFile()}
}

func printFindings(w io.Writer, where string, findings []maint.Finding) error {
	fmt.Fprintf(w, "Checked: %s\n\n", where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	var fixes []string
	for _, x := range findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", x.Check, x.Status, x.Detail)
		if x.Fix != "" && x.Status != maint.OK {
			fixes = append(fixes, fmt.Sprintf("  %s: %s", x.Check, x.Fix))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fixes) > 0 {
		fmt.Fprintf(w, "\nTo fix:\n%s\n", strings.Join(fixes, "\n"))
	}
	return nil
}
