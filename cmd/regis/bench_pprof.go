package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"

	"github.com/spf13/cobra"
)

// withProfiling adds to `regis serve` Go's profiles on a listener of their
// own (kube-apiserver serves /debug/pprof on its secure port under
// --profiling; regis, for now, on a loopback address apart, without
// authentication: bind it to 127.0.0.1 only), for regis bench and
// docs/performance.md.
func withProfiling(cmd *cobra.Command) *cobra.Command {
	var addr string
	var contention bool
	cmd.Flags().StringVar(&addr, "debug-pprof-address", "",
		"Serve Go's profiles (/debug/pprof/) at this address, unauthenticated (for example 127.0.0.1:6060). Empty: off.")
	cmd.Flags().BoolVar(&contention, "contention-profiling", false,
		"Enable block and mutex profiling (with --debug-pprof-address).")
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if addr == "" {
			return run(cmd, args)
		}
		if contention {
			runtime.SetBlockProfileRate(1)
			runtime.SetMutexProfileFraction(1)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--debug-pprof-address: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Handler: mux}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(l) }()
		defer func() { srv.Close(); <-done }()
		fmt.Fprintf(cmd.ErrOrStderr(), "profiles at http://%s/debug/pprof/\n", l.Addr())
		return run(cmd, args)
	}
	return cmd
}

// withBenchProfiling adds to `regis bench` a hidden --cpuprofile: the load
// generator's own CPU profile for the whole run, to find what the
// generator (not the server) spends its CPU on.
func withBenchProfiling(cmd *cobra.Command) *cobra.Command {
	var path string
	cmd.Flags().StringVar(&path, "cpuprofile", "", "Write the load generator's CPU profile to this file.")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if path == "" {
			return run(cmd, args)
		}
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := rpprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer rpprof.StopCPUProfile()
		return run(cmd, args)
	}
	return cmd
}
