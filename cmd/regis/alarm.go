package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/ops/maint"
)

func newAlarmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm",
		Short: "List and disarm etcd alarms (NOSPACE, CORRUPT)",
		Long: `List and disarm etcd's alarms. NOSPACE is raised when the database reaches
its quota (--quota-backend-bytes): every write then fails with "etcdserver:
mvcc: database space exceeded" until the alarm is disarmed, which only
holds once the database is under the quota again: compact (regis serve does
every --etcd-compaction-interval), defragment (regis defrag), then disarm.`,
	}
	for _, disarm := range []bool{false, true} {
		f := &liveFlags{}
		use, short := "list", "List the alarms raised"
		if disarm {
			use, short = "disarm", "Disarm every alarm raised"
		}
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				conn, err := f.connect(cmd)
				if err != nil {
					return err
				}
				defer conn.Close()
				var alarms []maint.Alarm
				if disarm {
					alarms, err = maint.Disarm(cmd.Context(), conn.Client)
				} else {
					alarms, err = maint.Alarms(cmd.Context(), conn.Client)
				}
				if err != nil {
					return err
				}
				return printAlarms(cmd.OutOrStdout(), f.output, alarms, disarm)
			},
		}
		f.add(c.Flags())
		cmd.AddCommand(c)
	}
	return cmd
}

func printAlarms(w io.Writer, output string, alarms []maint.Alarm, disarmed bool) error {
	if output == "json" {
		if alarms == nil {
			alarms = []maint.Alarm{}
		}
		return printJSON(w, alarms)
	}
	if len(alarms) == 0 {
		_, err := fmt.Fprintln(w, "no alarm raised")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "MEMBER\tID\tALARM"
	if disarmed {
		head += "\tDISARMED"
	}
	fmt.Fprintln(tw, head)
	for _, a := range alarms {
		line := fmt.Sprintf("%s\t%s\t%s", a.Member, a.MemberID, a.Alarm)
		if disarmed {
			line += "\tyes"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
