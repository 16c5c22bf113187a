package openapi

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/managedfields"
)

func TestModelsTypeConverter(t *testing.T) {
	t0 := time.Now()
	m, err := Models()
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if _, err := managedfields.NewTypeConverter(m, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d models in %v, converter in %v", len(m), t1.Sub(t0), time.Since(t1))
}
