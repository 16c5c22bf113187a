package apiserver_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// stringData is write-only: it is merged into data, wins over it, and is
// never returned or stored, as kube-apiserver does.
func TestSecretStringDataMergesIntoData(t *testing.T) {
	s := startServer(t)
	secrets := s.clientset(t).CoreV1().Secrets("default")
	in := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data:       map[string][]byte{"a": []byte("from-data"), "b": []byte("kept")},
		StringData: map[string]string{"a": "from-stringData", "c": "new"}}
	out, err := secrets.Create(t.Context(), in, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := secrets.Get(t.Context(), "s", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []*corev1.Secret{out, got} {
		if string(sec.Data["a"]) != "from-stringData" || string(sec.Data["b"]) != "kept" || string(sec.Data["c"]) != "new" || sec.StringData != nil {
			t.Fatalf("secret data %q, stringData %q", sec.Data, sec.StringData)
		}
	}
	got.StringData = map[string]string{"b": "updated"}
	upd, err := secrets.Update(t.Context(), got, metav1.UpdateOptions{})
	if err != nil || string(upd.Data["b"]) != "updated" || upd.StringData != nil {
		t.Fatalf("update: %v, data %q", err, upd.Data)
	}
}
