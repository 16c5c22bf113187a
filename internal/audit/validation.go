package audit

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// validatePolicy checks a policy as upstream's ValidatePolicy, with its
// messages.
func validatePolicy(p *auditv1.Policy) field.ErrorList {
	errs := validateOmitStages(p.OmitStages, field.NewPath("omitStages"))
	rules := field.NewPath("rules")
	for i := range p.Rules {
		errs = append(errs, validateRule(&p.Rules[i], rules.Index(i))...)
	}
	return errs
}

func validateRule(r *auditv1.PolicyRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch r.Level {
	case auditv1.LevelNone, auditv1.LevelMetadata, auditv1.LevelRequest, auditv1.LevelRequestResponse:
	case "":
		errs = append(errs, field.Required(path.Child("level"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("level"), r.Level, names(auditv1.Levels)))
	}
	errs = append(errs, validateNonResourceURLs(r.NonResourceURLs, path.Child("nonResourceURLs"))...)
	errs = append(errs, validateResources(r.Resources, path.Child("resources"))...)
	errs = append(errs, validateOmitStages(r.OmitStages, path.Child("omitStages"))...)
	if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
		errs = append(errs, field.Invalid(path.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
	}
	return errs
}

func validateNonResourceURLs(urls []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, url := range urls {
		if url == "*" {
			continue
		}
		if !strings.HasPrefix(url, "/") {
			errs = append(errs, field.Invalid(path.Index(i), url, "non-resource URL rules must begin with a '/' character"))
		}
		if url != "" && strings.ContainsRune(url[:len(url)-1], '*') {
			errs = append(errs, field.Invalid(path.Index(i), url, "non-resource URL wildcards '*' must be the final character of the rule"))
		}
	}
	return errs
}

func validateResources(grs []auditv1.GroupResources, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, gr := range grs {
		// "" is the core group; others are DNS subdomains, so that a
		// group/version such as rbac.authorization.k8s.io/v1 is refused.
		if gr.Group != "" && gr.Group != "*" {
			if msgs := validation.NameIsDNSSubdomain(gr.Group, false); len(msgs) != 0 {
				errs = append(errs, field.Invalid(path.Child("group"), gr.Group, strings.Join(msgs, ",")))
			}
		}
		if len(gr.ResourceNames) > 0 && len(gr.Resources) == 0 {
			errs = append(errs, field.Invalid(path.Child("resourceNames"), gr.ResourceNames, "using resourceNames requires at least one resource"))
		}
	}
	return errs
}

func validateOmitStages(stages []auditv1.Stage, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range stages {
		valid := false
		for _, v := range auditv1.Stages {
			valid = valid || s == v
		}
		if !valid {
			errs = append(errs, field.Invalid(path.Index(i), string(s), "allowed stages are "+strings.Join(names(auditv1.Stages), ",")))
		}
	}
	return errs
}

// names are the strings of levels or stages.
func names[S ~string](list []S) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}
