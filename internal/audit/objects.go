package audit

import (
	"bytes"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// The objects of an event: the request's (at level Request and above)
// and the response's (at RequestResponse), encoded as the server
// answers in JSON, without managedFields when the policy says so.

// RequestObject records the decoded object of a request: its name,
// namespace, uid and resourceVersion complete the object reference, and
// at level Request and above it is encoded (at gv) into the event.
func (r *Request) RequestObject(obj runtime.Object, gv schema.GroupVersion, enc Encoder) {
	if r == nil || obj == nil {
		return
	}
	level := r.Level()
	if level == auditv1.LevelNone {
		return
	}
	var raw []byte
	if level.GreaterOrEqual(auditv1.LevelRequest) {
		raw = r.encode(obj, gv, enc)
	}
	m, _ := meta.Accessor(obj)
	r.visit(func(ev *auditv1.Event) {
		if ev.ObjectRef == nil {
			ev.ObjectRef = &auditv1.ObjectReference{}
		}
		if ref := ev.ObjectRef; m != nil {
			ref.Namespace = cmp(ref.Namespace, m.GetNamespace())
			ref.Name = cmp(ref.Name, m.GetName())
			ref.UID = types.UID(cmp(string(ref.UID), string(m.GetUID())))
			ref.ResourceVersion = cmp(ref.ResourceVersion, m.GetResourceVersion())
		}
		if raw != nil {
			ev.RequestObject = &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
		}
	})
}

func cmp(have, from string) string {
	if have != "" {
		return have
	}
	return from
}

// RequestPatch records a patch's body (JSON; other bodies are skipped)
// at level Request and above.
func (r *Request) RequestPatch(patch []byte) {
	if !r.Level().GreaterOrEqual(auditv1.LevelRequest) || !json.Valid(patch) {
		return
	}
	raw := bytes.Clone(patch)
	r.visit(func(ev *auditv1.Event) {
		ev.RequestObject = &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
	})
}

// ResponseObject records the object a response carries: a Status becomes
// the event's responseStatus; at level RequestResponse the object is
// encoded (at gv) into the event.
func (r *Request) ResponseObject(obj runtime.Object, gv schema.GroupVersion, enc Encoder) {
	level := r.Level()
	if level == auditv1.LevelNone {
		return
	}
	var raw []byte
	if level.GreaterOrEqual(auditv1.LevelRequestResponse) {
		raw = r.encode(obj, gv, enc)
	}
	st, _ := obj.(*metav1.Status)
	r.visit(func(ev *auditv1.Event) {
		if st != nil {
			ev.ResponseStatus = &metav1.Status{Status: st.Status, Message: st.Message, Reason: st.Reason, Details: st.Details, Code: st.Code}
		}
		if raw != nil {
			ev.ResponseObject = &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
		}
	})
}

// ResponseRaw records a response already encoded as JSON, at level
// RequestResponse.
func (r *Request) ResponseRaw(raw []byte) {
	if !r.Level().GreaterOrEqual(auditv1.LevelRequestResponse) {
		return
	}
	r.mu.Lock()
	omit := r.cfg.OmitManagedFields
	r.mu.Unlock()
	if omit {
		raw = listWithoutManagedFields(raw)
	}
	if raw == nil {
		return
	}
	r.visit(func(ev *auditv1.Event) {
		ev.ResponseObject = &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
	})
}

// encode encodes obj for the event, without managedFields when the
// policy says so; nil when it fails.
func (r *Request) encode(obj runtime.Object, gv schema.GroupVersion, enc Encoder) []byte {
	r.mu.Lock()
	omit := r.cfg.OmitManagedFields
	r.mu.Unlock()
	if omit {
		obj = withoutManagedFields(obj)
	}
	b, err := enc(obj, gv)
	if err != nil {
		r.auditor.logger.Error("encoding an object for the audit log failed", "auditID", r.auditID, "err", err)
		return nil
	}
	return b
}

// listWithoutManagedFields drops the managedFields of a JSON list's
// items (nil when the list does not decode).
func listWithoutManagedFields(raw []byte) []byte {
	var l map[string]any
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil
	}
	items, _ := l["items"].([]any)
	for _, it := range items {
		if o, ok := it.(map[string]any); ok {
			if m, ok := o["metadata"].(map[string]any); ok {
				delete(m, "managedFields")
			}
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil
	}
	return b
}

func withoutManagedFields(obj runtime.Object) runtime.Object {
	_, accErr := meta.Accessor(obj)
	isList := meta.IsListType(obj)
	table, isTable := obj.(*metav1.Table)
	if accErr != nil && !isList && !isTable {
		return obj
	}
	c := obj.DeepCopyObject()
	clear := func(o runtime.Object) error {
		if m, err := meta.Accessor(o); err == nil {
			m.SetManagedFields(nil)
		}
		return nil
	}
	_ = clear(c)
	if isList {
		_ = meta.EachListItem(c, clear)
	}
	if isTable {
		table = c.(*metav1.Table)
		for i := range table.Rows {
			if o := table.Rows[i].Object.Object; o != nil {
				_ = clear(o)
			}
		}
	}
	return c
}
