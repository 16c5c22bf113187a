package encryptionconfig_test

import (
	stdaes "crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/apis/apiserver"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	upvalue "k8s.io/apiserver/pkg/storage/value"
	upaes "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	upidentity "k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	upsecretbox "k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"
)

// This file is the oracle: kube-apiserver's own decoding, validation and
// transformers. k8s.io/apiserver/pkg/server/options/encryptionconfig
// (LoadEncryptionConfig) needs go.opentelemetry.io/contrib/.../otelhttp and
// k8s.io/apiserver/pkg/apis/apiserver/validation needs cel-go, neither of
// which go.mod holds; so upstreamLoad replays LoadEncryptionConfig's steps
// (loadConfig, getTransformerOverridesAndKMSPluginProbes,
// aesPrefixTransformer, secretboxPrefixTransformer, transformerFromOverrides)
// with the packages they call, and validates with upstream's build-time
// checks only (base64, key sizes, masking): validation is the port under
// test.

var upstreamCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	if err := apiserver.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiserverv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict)
}()

type upstreamConfig map[schema.GroupResource]upvalue.Transformer

// upstreamParse decodes as kube-apiserver does: strictly, with defaults.
func upstreamParse(data []byte) (*apiserver.EncryptionConfiguration, error) {
	if len(data) == 0 {
		return nil, errors.New("empty")
	}
	obj, gvk, err := upstreamCodecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	cfg, ok := obj.(*apiserver.EncryptionConfiguration)
	if !ok {
		return nil, fmt.Errorf("got unexpected config type: %v", gvk)
	}
	return cfg, nil
}

// upstreamLoad is LoadEncryptionConfig without KMS.
func upstreamLoad(data []byte) (upstreamConfig, error) {
	cfg, err := upstreamParse(data)
	if err != nil {
		return nil, err
	}
	anyAny := schema.GroupResource{Group: "*", Resource: "*"}
	chains := map[schema.GroupResource][]upvalue.PrefixTransformer{}
	for _, rc := range cfg.Resources {
		var chain []upvalue.PrefixTransformer
		for _, p := range rc.Providers {
			var pt upvalue.PrefixTransformer
			var err error
			switch {
			case p.AESGCM != nil:
				pt, err = upstreamKeys(p.AESGCM.Keys, "k8s:enc:aesgcm:v1:", func(b cipher.Block) (upvalue.Transformer, error) { return upaes.NewGCMTransformer(b) })
			case p.AESCBC != nil:
				pt, err = upstreamKeys(p.AESCBC.Keys, "k8s:enc:aescbc:v1:", func(b cipher.Block) (upvalue.Transformer, error) { return upaes.NewCBCTransformer(b), nil })
			case p.Secretbox != nil:
				pt, err = upstreamSecretbox(p.Secretbox.Keys)
			case p.Identity != nil:
				pt = upvalue.PrefixTransformer{Transformer: upidentity.NewEncryptCheckTransformer(), Prefix: []byte{}}
			default:
				err = errors.New("kms is not replayed by the oracle")
			}
			if err != nil {
				return nil, err
			}
			chain = append(chain, pt)
		}
		for _, res := range rc.Resources {
			gr := schema.ParseGroupResource(res)
			if _, masked := chains[schema.GroupResource{Group: gr.Group, Resource: "*"}]; masked {
				return nil, fmt.Errorf("resource %q is masked", res)
			}
			if _, masked := chains[anyAny]; masked {
				return nil, fmt.Errorf("resource %q is masked", res)
			}
			chains[gr] = append(chains[gr], chain...)
		}
	}
	out := upstreamConfig{}
	for gr, chain := range chains {
		out[gr] = upvalue.NewPrefixTransformers(errors.New("no matching prefix found"), chain...)
	}
	return out, nil
}

func upstreamKeys(keys []apiserver.Key, prefix string, fn func(cipher.Block) (upvalue.Transformer, error)) (upvalue.PrefixTransformer, error) {
	var ks []upvalue.PrefixTransformer
	for _, k := range keys {
		raw, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			return upvalue.PrefixTransformer{}, err
		}
		block, err := stdaes.NewCipher(raw)
		if err != nil {
			return upvalue.PrefixTransformer{}, err
		}
		tr, err := fn(block)
		if err != nil {
			return upvalue.PrefixTransformer{}, err
		}
		ks = append(ks, upvalue.PrefixTransformer{Transformer: tr, Prefix: []byte(k.Name + ":")})
	}
	return upvalue.PrefixTransformer{
		Transformer: upvalue.NewPrefixTransformers(errors.New("no matching key was found for the provided AES transformer"), ks...),
		Prefix:      []byte(prefix),
	}, nil
}

func upstreamSecretbox(keys []apiserver.Key) (upvalue.PrefixTransformer, error) {
	var ks []upvalue.PrefixTransformer
	for _, k := range keys {
		raw, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			return upvalue.PrefixTransformer{}, err
		}
		if len(raw) != 32 {
			return upvalue.PrefixTransformer{}, fmt.Errorf("expected key size 32 for secretbox provider, got %v", len(raw))
		}
		var a [32]byte
		copy(a[:], raw)
		ks = append(ks, upvalue.PrefixTransformer{Transformer: upsecretbox.NewSecretboxTransformer(a), Prefix: []byte(k.Name + ":")})
	}
	return upvalue.PrefixTransformer{
		Transformer: upvalue.NewPrefixTransformers(errors.New("no matching key was found for the provided Secretbox transformer"), ks...),
		Prefix:      []byte("k8s:enc:secretbox:v1:"),
	}, nil
}

// TransformerForResource is transformerFromOverrides.
func (c upstreamConfig) TransformerForResource(gr schema.GroupResource) upvalue.Transformer {
	for _, k := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		if t := c[k]; t != nil {
			return t
		}
	}
	return upidentity.NewEncryptCheckTransformer()
}

// TestOracleSelfCheck: the replayed upstream reads the real fixtures, so it
// is a fair oracle.
func TestOracleSelfCheck(t *testing.T) {
	for _, fx := range fixtures(t) {
		up, err := upstreamLoad(fx.config)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		got, _, err := up.TransformerForResource(schema.GroupResource{Resource: "secrets"}).
			TransformFromStorage(t.Context(), fx.stored, upvalue.DefaultContext(fx.etcdKey))
		if err != nil {
			t.Fatalf("%s: upstream cannot read its own fixture: %v", fx.name, err)
		}
		checkSecret(t, fx, got)
	}
}
