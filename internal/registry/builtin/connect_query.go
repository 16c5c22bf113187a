package builtin

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeQuery decodes the query parameters of a pods/log request, as
// upstream's generated url.Values conversion: the last value of each
// parameter counts, and a value that does not parse is a 400.
func decodeQuery(q url.Values, o *corev1.PodLogOptions) error {
	last := func(k string) (string, bool) {
		v := q[k]
		if len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	var err error
	boolean := func(k string, into *bool) {
		if v, ok := last(k); ok && err == nil {
			*into, err = parseBool(k, v)
		}
	}
	integer := func(k string) *int64 {
		v, ok := last(k)
		if !ok || err != nil {
			return nil
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = apierrors.NewBadRequest(fmt.Sprintf("%s: %v", k, perr))
			return nil
		}
		return &n
	}
	o.Container, _ = last("container")
	boolean("follow", &o.Follow)
	boolean("previous", &o.Previous)
	boolean("timestamps", &o.Timestamps)
	boolean("insecureSkipTLSVerifyBackend", &o.InsecureSkipTLSVerifyBackend)
	o.SinceSeconds = integer("sinceSeconds")
	o.TailLines = integer("tailLines")
	o.LimitBytes = integer("limitBytes")
	if v, ok := last("sinceTime"); ok && err == nil {
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("sinceTime: %v", perr))
		}
		o.SinceTime = &metav1.Time{Time: t}
	}
	if v, ok := last("stream"); ok {
		o.Stream = &v
	}
	return err
}

// parseBool reads a boolean query parameter as upstream's conversion
// (strconv.ParseBool; an empty value is true).
func parseBool(k, v string) (bool, error) {
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apierrors.NewBadRequest(fmt.Sprintf("%s: %v", k, err))
	}
	return b, nil
}
