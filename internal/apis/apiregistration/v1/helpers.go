package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The helpers of upstream's apiregistration/v1/helper package that regis
// needs.

// NewLocalAvailableAPIServiceCondition returns the condition of a local
// APIService: local APIServices are always available.
func NewLocalAvailableAPIServiceCondition() APIServiceCondition {
	return APIServiceCondition{
		Type:               Available,
		Status:             ConditionTrue,
		LastTransitionTime: metav1.Now(),
		Reason:             "Local",
		Message:            "Local APIServices are always available",
	}
}

// SetAPIServiceCondition adds the condition, or updates the one of its
// type: its transition time moves only when its status changes.
func SetAPIServiceCondition(s *APIService, c APIServiceCondition) {
	for i := range s.Status.Conditions {
		old := &s.Status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status != c.Status {
			old.Status, old.LastTransitionTime = c.Status, c.LastTransitionTime
		}
		old.Reason, old.Message = c.Reason, c.Message
		return
	}
	s.Status.Conditions = append(s.Status.Conditions, c)
}
