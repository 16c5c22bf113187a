package v1

import (
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// HeaderAuditID is the header that carries a request's audit ID.
const HeaderAuditID = "Audit-ID"

// Level is how much of a request an event records.
type Level string

// The levels, from the least to the most recorded.
const (
	LevelNone            Level = "None"
	LevelMetadata        Level = "Metadata"
	LevelRequest         Level = "Request"
	LevelRequestResponse Level = "RequestResponse"
)

// Levels lists the valid levels in order.
var Levels = []Level{LevelNone, LevelMetadata, LevelRequest, LevelRequestResponse}

// Stage is when in a request's handling an event is written.
type Stage string

// The stages of a request.
const (
	StageRequestReceived  Stage = "RequestReceived"
	StageResponseStarted  Stage = "ResponseStarted"
	StageResponseComplete Stage = "ResponseComplete"
	StagePanic            Stage = "Panic"
)

// Stages lists the valid stages in order.
var Stages = []Stage{StageRequestReceived, StageResponseStarted, StageResponseComplete, StagePanic}

// Event is one audit log line.
type Event struct {
	metav1.TypeMeta `json:",inline"`

	Level                    Level                   `json:"level"`
	AuditID                  types.UID               `json:"auditID"`
	Stage                    Stage                   `json:"stage"`
	RequestURI               string                  `json:"requestURI"`
	Verb                     string                  `json:"verb"`
	User                     authnv1.UserInfo        `json:"user"`
	ImpersonatedUser         *authnv1.UserInfo       `json:"impersonatedUser,omitempty"`
	AuthenticationMetadata   *AuthenticationMetadata `json:"authenticationMetadata,omitempty"`
	SourceIPs                []string                `json:"sourceIPs,omitempty"`
	UserAgent                string                  `json:"userAgent,omitempty"`
	ObjectRef                *ObjectReference        `json:"objectRef,omitempty"`
	ResponseStatus           *metav1.Status          `json:"responseStatus,omitempty"`
	RequestObject            *runtime.Unknown        `json:"requestObject,omitempty"`
	ResponseObject           *runtime.Unknown        `json:"responseObject,omitempty"`
	RequestReceivedTimestamp metav1.MicroTime        `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime        `json:"stageTimestamp"`
	Annotations              map[string]string       `json:"annotations,omitempty"`
}

// AuthenticationMetadata says how a request was authenticated.
type AuthenticationMetadata struct {
	ImpersonationConstraint string `json:"impersonationConstraint,omitempty"`
}

// ObjectReference names the object of a request.
type ObjectReference struct {
	Resource        string    `json:"resource,omitempty"`
	Namespace       string    `json:"namespace,omitempty"`
	Name            string    `json:"name,omitempty"`
	UID             types.UID `json:"uid,omitempty"`
	APIGroup        string    `json:"apiGroup,omitempty"`
	APIVersion      string    `json:"apiVersion,omitempty"`
	ResourceVersion string    `json:"resourceVersion,omitempty"`
	Subresource     string    `json:"subresource,omitempty"`
}

// Policy says which requests are audited and at which level.
type Policy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Rules             []PolicyRule `json:"rules"`
	OmitStages        []Stage      `json:"omitStages,omitempty"`
	OmitManagedFields bool         `json:"omitManagedFields,omitempty"`
}

// PolicyRule maps the requests it matches to a level.
type PolicyRule struct {
	Level             Level            `json:"level"`
	Users             []string         `json:"users,omitempty"`
	UserGroups        []string         `json:"userGroups,omitempty"`
	Verbs             []string         `json:"verbs,omitempty"`
	Resources         []GroupResources `json:"resources,omitempty"`
	Namespaces        []string         `json:"namespaces,omitempty"`
	NonResourceURLs   []string         `json:"nonResourceURLs,omitempty"`
	OmitStages        []Stage          `json:"omitStages,omitempty"`
	OmitManagedFields *bool            `json:"omitManagedFields,omitempty"`
}

// GroupResources matches resources of an API group.
type GroupResources struct {
	Group         string   `json:"group,omitempty"`
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}
