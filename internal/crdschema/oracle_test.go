//go:build crdoracle

package crdschema

// The oracle test runs crdCases and createCases against a real
// kube-apiserver v1.37.2 (bin/oracle/kube-apiserver, on a test etcd) and
// compares its 422 Status (message and causes) with what this package's
// errors make through apierrors.NewInvalid:
//
//	go test -tags crdoracle ./internal/crdschema -run TestOracle -v

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

func TestOracle(t *testing.T) {
	bin, _ := filepath.Abs(filepath.Join("..", "..", "bin", "oracle", "kube-apiserver"))
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no oracle binary: %v", err)
	}
	ctx := context.Background()
	etcd := etcdtest.New(t)
	cfg := startKubeAPIServer(t, bin, etcd.Endpoint)
	dyn := dynamic.NewForConfigOrDie(cfg)
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crdGK := schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	for _, tc := range crdCases {
		t.Run("crd/"+tc.name, func(t *testing.T) {
			crd := loadCRD(t, tc.file)
			if tc.mutate != nil {
				tc.mutate(crd)
			}
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
			if err != nil {
				t.Fatal(err)
			}
			u["apiVersion"], u["kind"] = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
			_, err = dyn.Resource(crdGVR).Create(ctx, &unstructured.Unstructured{Object: u}, dryRun)
			compareStatus(t, err, crdGK, crd.Name, ValidateCRD(ctx, crd))
		})
	}

	// Custom resources of gadgets.yaml.
	crd := loadCRD(t, "gadgets.yaml")
	u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	u["apiVersion"], u["kind"] = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
	if _, err := dyn.Resource(crdGVR).Create(ctx, &unstructured.Unstructured{Object: u}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "ns"}}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := compile(t, "gadgets.yaml")
	gadgets := dyn.Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gadgets"}).Namespace("ns")
	waitServed(t, gadgets)
	for _, tc := range createCases {
		t.Run("cr/"+tc.name, func(t *testing.T) {
			if tc.name == "wrong kind" {
				t.Skip("the handler refuses another apiVersion with 400 before validation")
			}
			obj := object(t, tc.json())
			// The strategy's PrepareForCreate (the caller's): with the status
			// subresource, a create drops status.
			if s.HasStatus() {
				delete(obj, "status")
			}
			var errs field.ErrorList
			if _, err := s.Prune(obj); err != nil {
				t.Fatal(err)
			}
			s.Default(obj)
			errs = s.Validate(ctx, obj, nil)
			_, err := gadgets.Create(ctx, &unstructured.Unstructured{Object: object(t, tc.json())}, dryRun)
			compareStatus(t, err, schema.GroupKind{Group: "example.com", Kind: "Gadget"}, "a", errs)
		})
	}
	oracleUpdates(t, s, gadgets)
	oraclePrune(t, s, gadgets)
}

// oraclePrune runs pruneCases against the oracle: with fieldValidation
// Strict its 400 lists the unknown fields Prune reports, in the same order;
// with Ignore the object it would create is the one Prune and Default make
// (metadata aside).
func oraclePrune(t *testing.T, s *Schema, gadgets dynamic.ResourceInterface) {
	ctx := context.Background()
	for _, tc := range pruneCases {
		t.Run("prune/"+tc.name, func(t *testing.T) {
			if tc.name == "another kind is left alone" {
				t.Skip("the handler refuses another kind with 400 before decoding")
			}
			obj := object(t, tc.in)
			unknown, err := s.Prune(obj)
			if err != nil {
				t.Fatal(err)
			}
			s.Default(obj)
			_, err = gadgets.Create(ctx, &unstructured.Unstructured{Object: object(t, tc.in)},
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
			if len(unknown) == 0 {
				if err != nil {
					t.Errorf("kube-apiserver refuses: %v", err)
				}
			} else {
				var msgs []string
				for _, p := range unknown {
					msgs = append(msgs, fmt.Sprintf("unknown field %q", p))
				}
				want := ".+: strict decoding error: " + regexp.QuoteMeta(strings.Join(msgs, ", ")) + "$"
				if err == nil || !apierrors.IsBadRequest(err) || !regexp.MustCompile(want).MatchString(err.Error()) {
					t.Errorf("kube-apiserver: %v\nwant a BadRequest matching %s", err, want)
				}
			}
			created, err := gadgets.Create(ctx, &unstructured.Unstructured{Object: object(t, tc.in)},
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Ignore"})
			if err != nil {
				t.Fatal(err)
			}
			delete(created.Object, "metadata")
			delete(obj, "metadata")
			if diff := cmp.Diff(created.Object, obj); diff != "" {
				t.Errorf("(-kube-apiserver +ours):\n%s", diff)
			}
		})
	}
}

// oracleUpdates runs updateCases against the oracle: the old object is
// created for real (cases whose old object is invalid are skipped: only
// data stored before a schema change can be invalid), the update is a dry
// run.
func oracleUpdates(t *testing.T, s *Schema, gadgets dynamic.ResourceInterface) {
	ctx := context.Background()
	gk := schema.GroupKind{Group: "example.com", Kind: "Gadget"}
	for i, tc := range updateCases {
		t.Run("update/"+tc.name, func(t *testing.T) {
			name := "u" + strconv.Itoa(i)
			obj, old := tc.objects(t)
			old["metadata"].(map[string]any)["name"] = name
			obj["metadata"].(map[string]any)["name"] = name
			stored, err := gadgets.Create(ctx, &unstructured.Unstructured{Object: old}, metav1.CreateOptions{})
			if err != nil {
				t.Skipf("old object refused: %v", err)
			}
			obj["metadata"].(map[string]any)["resourceVersion"] = stored.GetResourceVersion()
			sent := runtime.DeepCopyJSON(obj)

			// Ours: decode (Prune, Default), the strategy's PrepareForUpdate
			// (the caller's), then validation against the stored object.
			if _, err := s.Prune(obj); err != nil {
				t.Fatal(err)
			}
			s.Default(obj)
			var errs field.ErrorList
			if tc.status {
				status := obj["status"]
				obj = runtime.DeepCopyJSON(stored.Object)
				obj["status"] = status
				errs = s.ValidateStatus(ctx, obj, stored.Object)
				_, err = gadgets.UpdateStatus(ctx, &unstructured.Unstructured{Object: sent}, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
			} else {
				delete(obj, "status")
				if st, ok := stored.Object["status"]; ok {
					obj["status"] = st
				}
				errs = s.Validate(ctx, obj, stored.Object)
				_, err = gadgets.Update(ctx, &unstructured.Unstructured{Object: sent}, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
			}
			compareStatus(t, err, gk, name, errs)
		})
	}
}

func compareStatus(t *testing.T, oracleErr error, gk schema.GroupKind, name string, errs field.ErrorList) {
	t.Helper()
	if len(errs) == 0 {
		if oracleErr != nil {
			t.Errorf("we accept, kube-apiserver answers: %v", oracleErr)
		}
		return
	}
	var status apierrors.APIStatus
	if !errors.As(oracleErr, &status) {
		t.Fatalf("we refuse (%v), kube-apiserver answers: %v", errs, oracleErr)
	}
	want := status.Status()
	got := apierrors.NewInvalid(gk, name, errs).ErrStatus
	if diff := cmp.Diff(want.Message, got.Message); diff != "" {
		t.Errorf("message (-kube-apiserver +ours):\n%s", diff)
	}
	if want.Details == nil {
		t.Fatalf("kube-apiserver: no details: %+v", want)
	}
	if diff := cmp.Diff(want.Details.Causes, got.Details.Causes); diff != "" {
		t.Errorf("causes (-kube-apiserver +ours):\n%s", diff)
	}
}

// waitServed waits until the custom resource's endpoint answers a list.
func waitServed(t *testing.T, r dynamic.ResourceInterface) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := r.List(context.Background(), metav1.ListOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("custom resources not served: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const oracleToken = "crdschema-oracle-token"

// startKubeAPIServer starts the oracle as oracle/diff does and waits for
// it to be ready; it is stopped when the test ends.
func startKubeAPIServer(t *testing.T, bin, etcdURL string) *rest.Config {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	saKey := filepath.Join(dir, "sa.key")
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokens, []byte(oracleToken+",admin,admin-uid,system:masters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	cfg := &rest.Config{Host: "https://127.0.0.1:" + strconv.Itoa(port), BearerToken: oracleToken, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, cfg.Host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+oracleToken)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cfg
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready: %v (log %s)", err, logFile.Name())
		}
		time.Sleep(250 * time.Millisecond)
	}
}
