package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	opsenc "github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/ops/progress"
)

// The tables the encryption commands print for people.

func printStatus(w io.Writer, rep *opsenc.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Source:\t%s, revision %d\n", rep.Source, rep.Revision)
	if rep.RulesFrom != "" {
		fmt.Fprintf(tw, "Keys classed by:\t%s\n", rep.RulesFrom)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tPREFIX\tKEY\tSTATE\tCOUNT\tOBJECTS")
	var left int64
	for _, rs := range rep.Resources {
		for i, k := range rs.Keys {
			res, prefix := rs.Resource, rs.Prefix
			if i > 0 {
				res, prefix = "", ""
			}
			key := k.Key
			if k.KeyID != "" {
				key += " key_id=" + k.KeyID
			}
			state := k.State
			if state == "" {
				state = "-"
			}
			objs := strings.Join(k.Objects, ", ")
			if k.MoreObjects > 0 {
				objs += fmt.Sprintf(" (+%s more)", progress.Count(k.MoreObjects))
			}
			if k.State != "" && k.State != opsenc.StateWrite {
				left += k.Count
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", res, prefix, key, state, progress.Count(k.Count), objs)
		}
	}
	if len(rep.Resources) == 0 {
		fmt.Fprintln(tw, "(no objects)\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.AESGCM) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AESGCM KEY\tFINGERPRINT\tCOUNTED\tSTORED\tWRITES\tOF 200,000\tADVICE")
		for _, a := range rep.AESGCM {
			fp := a.Fingerprint
			if fp == "" {
				fp = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f%%\t%s\n", a.Key, fp, progress.Count(a.Counted), progress.Count(a.Stored),
				progress.Count(a.Writes), a.Percent, a.Advice)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	switch {
	case rep.RulesFrom == "":
		fmt.Fprintln(w, "No configuration to class keys with: pass --encryption-provider-config (or scan live with a regis server running).")
	case left > 0:
		fmt.Fprintf(w, "%s value(s) are not on their write key: run `regis encryption rewrite`.\n", progress.Count(left))
	default:
		fmt.Fprintln(w, "Every value is on its write key.")
	}
	if rep.OtherKeys > 0 {
		fmt.Fprintf(w, "%s key(s) under the prefix hold no object of a known resource.\n", progress.Count(rep.OtherKeys))
	}
	return nil
}

func printRewrite(w io.Writer, res *opsenc.RewriteResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCANNED\tREWRITTEN\tCURRENT\tGONE\tCONFLICTS\tFAILED\tDURATION\tRATE")
	rate := 0.0
	if s := res.Duration.Seconds(); s > 0 {
		rate = float64(res.Scanned) / s
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f/s\n", progress.Count(res.Scanned), progress.Count(res.Rewritten),
		progress.Count(res.Current), progress.Count(res.Gone), progress.Count(res.Conflicts), progress.Count(res.Failed),
		res.Duration.Round(time.Millisecond), rate)
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.ResumedAfter != "" {
		fmt.Fprintf(w, "Resumed after %s.\n", res.ResumedAfter)
	}
	for _, fl := range res.Failures {
		fmt.Fprintf(w, "failed: %s: %s\n", fl.Key, fl.Error)
	}
	return nil
}

func printRotate(w io.Writer, res *opsenc.RotateResult) error {
	fmt.Fprintf(w, "Rotated %s (%s): %s → %s", res.Resource, strings.Join(res.Entry, ", "), res.Old, res.New)
	if res.Resumed != "" {
		fmt.Fprintf(w, ", resumed at %s", res.Resumed)
	}
	fmt.Fprintf(w, "; servers: %s\n\n", strings.Join(res.Servers, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tDURATION\tRESULT")
	for _, s := range res.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Phase, s.Duration.Round(time.Millisecond), s.Detail)
	}
	if res.OldKept {
		fmt.Fprintf(tw, "drop\t-\tkept %s (--keep-old-key)\n", res.Old)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Final != nil {
		fmt.Fprintln(w)
		return printStatus(w, res.Final)
	}
	return nil
}
