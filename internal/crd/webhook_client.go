package crd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// WebhookOptions configure the calls of conversion webhooks.
type WebhookOptions struct {
	// ResolveService returns the host:port to dial for a webhook given as
	// a service reference (namespace, name, port): regis has no
	// kube-proxy, so the server resolves it (ServiceResolver). nil refuses
	// service references.
	ResolveService func(ctx context.Context, namespace, name string, port int32) (string, error)
	// Timeout bounds one call (upstream's 30s when zero).
	Timeout time.Duration
	// MaxResponseBytes bounds the body of a webhook's answer (64 MiB when
	// zero).
	MaxResponseBytes int64
}

const (
	defaultWebhookTimeout  = 30 * time.Second
	defaultWebhookResponse = 64 << 20
)

// reviewCodecs encode and decode ConversionReviews of apiextensions.k8s.io
// v1 and v1beta1, as upstream's webhook client manager.
var reviewCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1beta1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s)
}()

// webhookClient returns the REST client of a CRD's conversion webhook, as
// upstream's webhook.ClientManager.HookClient makes it: JSON, HTTP/1.1,
// the caBundle added to the roots, a URL or a service's
// NAME.NAMESPACE.svc:PORT (its TLS server name), dialed at what
// ResolveService returns.
func webhookClient(cc *apiextensionsv1.WebhookClientConfig, opts WebhookOptions) (*rest.RESTClient, error) {
	if cc == nil {
		return nil, errors.New("webhook configuration must have either service or URL")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultWebhookTimeout
	}
	maxBody := opts.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = defaultWebhookResponse
	}
	cfg := &rest.Config{Timeout: timeout, QPS: -1}
	switch {
	case cc.Service != nil:
		svc := cc.Service
		port := int32(443)
		if svc.Port != nil {
			port = *svc.Port
		}
		serverName := svc.Name + "." + svc.Namespace + ".svc"
		cfg.Host = "https://" + net.JoinHostPort(serverName, strconv.Itoa(int(port)))
		if svc.Path != nil {
			cfg.APIPath = *svc.Path
		}
		cfg.TLSClientConfig.ServerName = serverName
		ns, name := svc.Namespace, svc.Name
		dialer := &net.Dialer{Timeout: timeout}
		cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			if opts.ResolveService == nil {
				return nil, fmt.Errorf("service %s/%s: no service resolver", ns, name)
			}
			addr, err := opts.ResolveService(ctx, ns, name, port)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, addr)
		}
	case cc.URL != nil && *cc.URL != "":
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return nil, fmt.Errorf("invalid webhook URL: %w", err)
		}
		cfg.Host = u.Scheme + "://" + u.Host
		cfg.APIPath = u.Path
	default:
		return nil, errors.New("webhook configuration must have either service or URL")
	}
	cfg.TLSClientConfig.CAData = append([]byte(nil), cc.CABundle...)
	// HTTP/1.1, as upstream: HTTP/2 clients do not spread concurrent
	// requests over the backends (kubernetes#75791).
	cfg.NextProtos = []string{"http/1.1"}
	cfg.ContentConfig.NegotiatedSerializer = serializer.NegotiatedSerializerWrapper(runtime.SerializerInfo{
		Serializer: reviewCodecs.LegacyCodec(apiextensionsv1.SchemeGroupVersion, apiextensionsv1beta1.SchemeGroupVersion),
	})
	cfg.ContentConfig.ContentType = runtime.ContentTypeJSON
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return limitBody{rt: rt, max: maxBody} }
	return rest.UnversionedRESTClientFor(cfg)
}

// limitBody bounds the bodies of a client's responses.
type limitBody struct {
	rt  http.RoundTripper
	max int64
}

func (l limitBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: l.max}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, errors.New("webhook response larger than the limit")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
