package peers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
)

func parse(t *testing.T, providers string) *encryptionconfig.EncryptionConfiguration {
	t.Helper()
	cfg, err := encryptionconfig.Parse([]byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" + providers))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestGate: a new write key another server cannot read yet is deferred
// (the current key keeps writing, the new one is read), refused when the
// current key is gone, and let through once every server reads it.
func TestGate(t *testing.T) {
	c := srv.Client(t)
	l := layout()
	k1 := "{name: key1, secret: " + secret1 + "}"
	k2 := "{name: key2, secret: " + secret2 + "}"
	cur := build(t, "  - aescbc: {keys: ["+k1+"]}\n")
	publish := func(id string, set *encryptionconfig.Set) {
		data, _ := json.Marshal(peers.Registration{ID: id, Rules: peers.RulesOf(set)})
		if _, err := c.Put(t.Context(), l.Server(id), string(data)); err != nil {
			t.Fatal(err)
		}
	}
	publish("a", cur)
	gate := peers.Gate(c, l, "a")
	ctx := context.Background()

	// Alone: nothing to wait for.
	if instead, _, err := gate(ctx, cur, parse(t, "  - aescbc: {keys: ["+k2+", "+k1+"]}\n")); instead != nil || err != nil {
		t.Fatalf("alone: %v, %v", instead, err)
	}

	publish("b", cur)
	instead, reason, err := gate(ctx, cur, parse(t, "  - aescbc: {keys: ["+k2+", "+k1+"]}\n"))
	if err != nil || instead == nil || instead.Resources[0].Providers[0].AESCBC.Keys[0].Name != "key1" ||
		len(instead.Resources[0].Providers[0].AESCBC.Keys) != 2 || !strings.Contains(reason, "writing with aescbc:key1 until b read aescbc:key2") {
		t.Fatalf("deferral: %+v, %q, %v", instead, reason, err)
	}
	// Another provider: its element moves after the current one.
	instead, _, err = gate(ctx, cur, parse(t, "  - secretbox: {keys: ["+k2+"]}\n  - aescbc: {keys: ["+k1+"]}\n"))
	if err != nil || instead == nil || instead.Resources[0].Providers[0].AESCBC == nil || instead.Resources[0].Providers[1].Secretbox == nil {
		t.Fatalf("deferral across providers: %+v, %v", instead, err)
	}
	// key1 dropped at the same time: nothing to keep writing with.
	if _, _, err := gate(ctx, cur, parse(t, "  - aescbc: {keys: ["+k2+"]}\n")); err == nil || !strings.Contains(err.Error(), "no longer has aescbc:key1") {
		t.Fatalf("drop and promote at once: %v", err)
	}
	// b reads key2: the write key changes.
	publish("b", build(t, "  - aescbc: {keys: ["+k1+", "+k2+"]}\n"))
	if instead, _, err := gate(ctx, cur, parse(t, "  - aescbc: {keys: ["+k2+", "+k1+"]}\n")); instead != nil || err != nil {
		t.Fatalf("all read key2: %v, %v", instead, err)
	}
}
