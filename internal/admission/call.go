package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/regis-dev/regis/internal/registry"
)

// maxResponseBytes bounds a webhook's answer (upstream reads it whole;
// regis caps it well above any object etcd takes, 1.5 MiB, patched).
const maxResponseBytes = 8 << 20

// newTransport returns the HTTPS transport of a webhook: its caBundle as
// the roots (the system's when empty), and for a service the name the
// certificate must carry, <service>.<namespace>.svc, as upstream's.
func newTransport(cc admissionregv1.WebhookClientConfig) (*http.Transport, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cc.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cc.CABundle) {
			return nil, errors.New("unable to load root certificates: unable to parse bytes as PEM block")
		}
		tc.RootCAs = pool
	}
	if s := cc.Service; s != nil {
		tc.ServerName = s.Name + "." + s.Namespace + ".svc"
	}
	return &http.Transport{TLSClientConfig: tc, IdleConnTimeout: 30 * time.Second, MaxIdleConnsPerHost: 16,
		TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}, nil
}

// call asks one webhook about a request; a mutating webhook's patch is
// applied to a.Object. It reports whether the object changed.
func (c *Chain) call(ctx context.Context, h *hook, a *registry.Attributes, mutating bool) (bool, error) {
	if a.DryRun {
		if h.sideEffects == nil {
			return false, &callError{name: h.name, reason: errors.New("Webhook SideEffects is nil")}
		}
		if s := *h.sideEffects; s != admissionregv1.SideEffectClassNone && s != admissionregv1.SideEffectClassNoneOnDryRun {
			return false, apierrors.NewBadRequest(fmt.Sprintf("admission webhook %q does not support dry run", h.name))
		}
	}
	if !slices.Contains(h.versions, "v1") {
		return false, &callError{name: h.name, reason: errors.New("could not create admission objects: webhook does not accept known AdmissionReview versions (v1)")}
	}
	if h.transport == nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("could not get REST client: %v", h.clientErr)}
	}
	uid := uuid.NewUUID()
	body, err := reviewRequest(uid, a)
	if err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("could not create admission objects: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	target, host, err := c.endpoint(ctx, h.client)
	if err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", err)}
	}
	if d, ok := ctx.Deadline(); ok {
		if t := time.Until(d); t > 0 {
			if tr := t.Truncate(time.Second); tr != t {
				t = tr + time.Second
			}
			q := target.Query()
			q.Set("timeout", t.String())
			target.RawQuery = q.Encode()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", err)}
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	resp, err := (&http.Client{Transport: h.transport}).Do(req)
	if err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", err)}
	case len(data) > maxResponseBytes:
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: the response is larger than %d bytes", maxResponseBytes)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", statusError(resp.StatusCode, data))}
	}
	review := &admissionv1.AdmissionReview{}
	if err := json.Unmarshal(data, review); err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("failed to call webhook: %w", err)}
	}
	if err := verify(uid, mutating, review); err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("received invalid webhook response: %w", err)}
	}
	r := review.Response
	for _, w := range r.Warnings {
		registry.AddWarning(ctx, w)
	}
	if !r.Allowed {
		return false, &rejection{status: toStatusErr(h.name, r.Result)}
	}
	if !mutating || len(r.Patch) == 0 {
		return false, nil
	}
	return applyPatch(h, a, r)
}

// statusError is what client-go makes of an answer that is no success.
func statusError(code int, body []byte) error {
	st := &metav1.Status{}
	if json.Unmarshal(body, st) == nil && st.Kind == "Status" {
		return &apierrors.StatusError{ErrStatus: *st}
	}
	return fmt.Errorf("the server responded with the status code %d but did not return more information", code)
}

// verify is upstream's VerifyAdmissionResponse for v1.
func verify(uid types.UID, mutating bool, r *admissionv1.AdmissionReview) error {
	if r.Response == nil {
		return errors.New("webhook response was absent")
	}
	if r.Response.UID != uid {
		return fmt.Errorf("expected response.uid=%q, got %q", uid, r.Response.UID)
	}
	if gvk := r.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		return fmt.Errorf("expected webhook response of %v, got %v", admissionv1.SchemeGroupVersion.WithKind("AdmissionReview").String(), gvk.String())
	}
	p, pt := r.Response.Patch, r.Response.PatchType
	if mutating {
		switch {
		case len(p) > 0 && pt == nil:
			return errors.New("webhook returned response.patch but not response.patchType")
		case len(p) == 0 && pt != nil:
			return errors.New("webhook returned response.patchType but not response.patch")
		case pt != nil && *pt == "":
			return fmt.Errorf("webhook returned invalid response.patchType of %q", *pt)
		}
		return nil
	}
	if len(p) > 0 {
		return errors.New("validating webhook may not return response.patch")
	}
	if pt != nil {
		return errors.New("validating webhook may not return response.patchType")
	}
	return nil
}

// toStatusErr is upstream's webhook ToStatusErr.
func toStatusErr(name string, result *metav1.Status) *apierrors.StatusError {
	deniedBy := fmt.Sprintf("admission webhook %q denied the request", name)
	if result == nil {
		result = &metav1.Status{Status: metav1.StatusFailure}
	}
	if result.Code < http.StatusBadRequest {
		result.Code = http.StatusBadRequest
	}
	if result.Status == "" || result.Status == metav1.StatusSuccess {
		result.Status = metav1.StatusFailure
	}
	switch {
	case result.Message != "":
		result.Message = deniedBy + ": " + result.Message
	case result.Reason != "":
		result.Message = deniedBy + ": " + string(result.Reason)
	default:
		result.Message = deniedBy + " without explanation"
	}
	return &apierrors.StatusError{ErrStatus: *result}
}

// reviewRequest encodes the AdmissionReview v1 of a request.
func reviewRequest(uid types.UID, a *registry.Attributes) ([]byte, error) {
	dry := a.DryRun
	user := authenticationv1.UserInfo{Extra: map[string]authenticationv1.ExtraValue{}}
	if u := a.User; u != nil {
		user.Username, user.UID, user.Groups = u.Name, u.UID, u.Groups
		for k, v := range u.Extra {
			user.Extra[k] = v
		}
	}
	req := &admissionv1.AdmissionRequest{
		UID:                uid,
		Kind:               metav1.GroupVersionKind(a.Kind),
		Resource:           metav1.GroupVersionResource(a.Resource),
		SubResource:        a.Subresource,
		RequestKind:        (*metav1.GroupVersionKind)(&a.Kind),
		RequestResource:    (*metav1.GroupVersionResource)(&a.Resource),
		RequestSubResource: a.Subresource,
		Name:               a.Name,
		Namespace:          a.Namespace,
		Operation:          admissionv1.Operation(a.Operation),
		UserInfo:           user,
		DryRun:             &dry,
	}
	var err error
	if req.Object.Raw, err = encodeObject(a.Object, a.Kind); err != nil {
		return nil, err
	}
	if req.OldObject.Raw, err = encodeObject(a.OldObject, a.Kind); err != nil {
		return nil, err
	}
	if req.Options.Raw, err = encodeObject(a.Options, schema.GroupVersionKind{}); err != nil {
		return nil, err
	}
	return json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req})
}

// encodeObject encodes an object as JSON with its apiVersion and kind;
// nil encodes as nothing (null).
func encodeObject(obj runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	if obj == nil {
		return nil, nil
	}
	if obj.GetObjectKind().GroupVersionKind().Empty() && !gvk.Empty() {
		obj = obj.DeepCopyObject()
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
	return json.Marshal(obj)
}

// applyPatch applies a mutating webhook's JSONPatch to a.Object in place.
func applyPatch(h *hook, a *registry.Attributes, r *admissionv1.AdmissionResponse) (bool, error) {
	patch, err := jsonpatch.DecodePatch(r.Patch)
	if err != nil {
		return false, &callError{name: h.name, reason: fmt.Errorf("received undecodable patch in webhook response: %w", err)}
	}
	if len(patch) == 0 {
		return false, nil
	}
	if a.Object == nil {
		return false, internalError("admission webhook %q attempted to modify the object, which is not supported for this operation", h.name)
	}
	if *r.PatchType != admissionv1.PatchTypeJSONPatch {
		return false, &callError{name: h.name, reason: fmt.Errorf("unsupported patch type %q", *r.PatchType)}
	}
	in, err := encodeObject(a.Object, a.Kind)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	out, err := patch.Apply(in)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	changed, err := setObject(a, out)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	return changed, nil
}

// setObject replaces a.Object, in place, with the object data encodes,
// and reports whether it changed.
func setObject(a *registry.Attributes, data []byte) (bool, error) {
	gvk := a.Object.GetObjectKind().GroupVersionKind()
	var next runtime.Object
	if _, ok := a.Object.(*unstructured.Unstructured); ok {
		m := map[string]any{}
		if err := utiljson.Unmarshal(data, &m); err != nil {
			return false, err
		}
		next = &unstructured.Unstructured{Object: m}
	} else {
		next = reflect.New(reflect.TypeOf(a.Object).Elem()).Interface().(runtime.Object)
		if err := json.Unmarshal(data, next); err != nil {
			return false, err
		}
		next.GetObjectKind().SetGroupVersionKind(gvk)
	}
	if apiequality.Semantic.DeepEqual(a.Object, next) {
		return false, nil
	}
	if u, ok := a.Object.(*unstructured.Unstructured); ok {
		u.Object = next.(*unstructured.Unstructured).Object
	} else {
		reflect.ValueOf(a.Object).Elem().Set(reflect.ValueOf(next).Elem())
	}
	a.Mutated = true
	return true, nil
}

// endpoint returns where a webhook is: its url, or its service's, reached
// through one of the service's ready endpoints (regis runs no kube-proxy
// and no cluster DNS), with the service's name as the request's host.
func (c *Chain) endpoint(ctx context.Context, cc admissionregv1.WebhookClientConfig) (*url.URL, string, error) {
	if cc.URL != nil {
		u, err := url.Parse(*cc.URL)
		return u, "", err
	}
	s := cc.Service
	if s == nil {
		return nil, "", errors.New("neither service nor URL set")
	}
	port := int32(443)
	if s.Port != nil {
		port = *s.Port
	}
	addr, err := c.resolveService(ctx, s.Namespace, s.Name, port)
	if err != nil {
		return nil, "", err
	}
	u := &url.URL{Scheme: "https", Host: addr}
	if s.Path != nil {
		u.Path = *s.Path
	}
	return u, net.JoinHostPort(s.Name+"."+s.Namespace+".svc", strconv.Itoa(int(port))), nil
}
