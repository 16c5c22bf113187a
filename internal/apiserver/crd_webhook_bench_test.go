package apiserver_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BenchmarkCustomResourceGetConversion reads one custom resource through
// a version that is not stored (consistent gets, from etcd): converted by
// relabelling under conversion None, and by a call of a conversion
// webhook (HTTPS, served by the test on 127.0.0.1) under Webhook. Run:
//
//	go test ./internal/apiserver -run '^$' -bench CustomResourceGetConversion -count 5
func BenchmarkCustomResourceGetConversion(b *testing.B) {
	s := startServer(b)
	dc := dyn(b, s)
	ctx := context.Background()
	hook := newConversionWebhook(b)
	webhookCRD := fmt.Sprintf(convCRD, hook.url(), base64.StdEncoding.EncodeToString(hook.caBundle))
	noneCRD := strings.NewReplacer("convs", "nones", "singular: conv", "singular: none", "kind: Conv", "kind: None").Replace(webhookCRD)
	noneCRD = noneCRD[:strings.Index(noneCRD, "  conversion:")] + "  conversion: {strategy: None}\n" + noneCRD[strings.Index(noneCRD, "  versions:"):]
	nonesV1 := schema.GroupVersionResource{Group: "conv.example.com", Version: "v1", Resource: "nones"}
	for _, c := range []struct {
		name, crd, kind string
		gvr             schema.GroupVersionResource
	}{{"None", noneCRD, "None", nonesV1}, {"Webhook", webhookCRD, "Conv", convsV1}} {
		if _, err := dc.Resource(crdsResource).Create(ctx, yamlObj(b, c.crd), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		rc := dc.Resource(c.gvr).Namespace("default")
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := rc.Create(ctx, crObj(b, strings.Replace(conv("v1", "x", "host", "x.example.com"), `"Conv"`, `"`+c.kind+`"`, 1)), metav1.CreateOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := rc.Get(ctx, "x", metav1.GetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
