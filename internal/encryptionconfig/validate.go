package encryptionconfig

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages as kube-apiserver words them
// (apiserver/pkg/apis/apiserver/validation/validation_encryption.go).
const (
	moreThanOneElementErr          = "more than one provider specified in a single element, should split into different list elements"
	noProviderErr                  = "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"
	keyLenErrFmt                   = "secret is not of the expected length, got %d, expected one of %v"
	unsupportedSchemeErrFmt        = "unsupported scheme %q for KMS provider, only unix is supported"
	unsupportedKMSAPIVersionErrFmt = "unsupported apiVersion %s for KMS provider, only v1 and v2 are supported"
	atLeastOneRequiredErrFmt       = "at least one %s is required"
	invalidURLErrFmt               = "invalid endpoint for kms provider, error: %v"
	mandatoryFieldErrFmt           = "%s is a mandatory field for a %s"
	base64EncodingErr              = "secrets must be base64 encoded"
	zeroOrNegativeErrFmt           = "%s should be a positive value"
	nonZeroErrFmt                  = "%s should be a positive value, or negative to disable"
	invalidKMSConfigNameErrFmt     = "invalid KMS provider name %s, must not contain ':'"
	duplicateKMSConfigNameErrFmt   = "duplicate KMS provider name %s, names must be unique"
	eventsGroupErr                 = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"
	extensionsGroupErr             = "'extensions' group has been removed and cannot be used for encryption"
	starResourceErr                = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
	overlapErr                     = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"
	nonRESTAPIResourceErr          = "resources which do not have REST API/s cannot be encrypted"
	resourceNameErr                = "resource name should not contain capital letters"
	resourceAcrossGroupErr         = "encrypting the same resource across groups is not supported"
	duplicateResourceErr           = "the same resource cannot be specified multiple times"
	maskedErrFmt                   = "resource %q is masked by earlier rule %q"
	duplicateKeyNameErrFmt         = "duplicate key name %q in %s: the name selects the key on read (first at %s)"
	redacted                       = "REDACTED"
)

var (
	aesKeySizes       = []int{16, 24, 32}
	secretboxKeySizes = []int{32}
	anyGroupAnyRes    = schema.GroupResource{Group: "*", Resource: "*"}
)

// Validate checks a decoded configuration as kube-apiserver does with
// automatic reload on (so KMS names are unique across all KMS providers),
// plus what kube-apiserver only finds while building (a resource masked by an
// earlier "*.group" or "*.*" entry) and one rule of its own: key names are
// unique within a provider type of an entry (a value names its key, so a
// second key of the same name would be tried on values it never wrote,
// which aescbc, unauthenticated, may decrypt to garbage). Every error names
// the field path with indexes ("resources[0].providers[1].aescbc.keys[0].secret").
func Validate(c *EncryptionConfiguration) error {
	return validate(c).ToAggregate()
}

func validate(c *EncryptionConfiguration) field.ErrorList {
	root := field.NewPath("resources")
	if c == nil || len(c.Resources) == 0 {
		return field.ErrorList{field.Required(root, fmt.Sprintf(atLeastOneRequiredErrFmt, root))}
	}
	var errs field.ErrorList
	kmsNames := map[string]bool{}
	seen := map[schema.GroupResource]string{} // for masking across entries
	for i, conf := range c.Resources {
		r := root.Index(i).Child("resources")
		p := root.Index(i).Child("providers")
		if len(conf.Resources) == 0 {
			errs = append(errs, field.Required(r, fmt.Sprintf(atLeastOneRequiredErrFmt, r)))
		}
		errs = append(errs, validateResourceOverlap(conf.Resources, r)...)
		errs = append(errs, validateResourceNames(conf.Resources, r)...)
		errs = append(errs, validateMasking(conf.Resources, r, seen)...)
		if len(conf.Providers) == 0 {
			errs = append(errs, field.Required(p, fmt.Sprintf(atLeastOneRequiredErrFmt, p)))
		}
		keyNames := map[string]*field.Path{} // "aescbc/key1" -> first path
		for j, provider := range conf.Providers {
			path := p.Index(j)
			switch fields := provider.setFields(); len(fields) {
			case 0:
				errs = append(errs, field.Invalid(path, "", noProviderErr))
				continue
			case 1:
			default:
				errs = append(errs, field.Invalid(path, strings.Join(fields, ", "), moreThanOneElementErr))
				continue
			}
			typ := provider.providerType()
			var keys []Key
			sizes := aesKeySizes
			switch {
			case provider.KMS != nil:
				errs = append(errs, validateKMS(provider.KMS, path.Child("kms"), kmsNames)...)
				kmsNames[provider.KMS.Name] = true
				continue
			case provider.AESGCM != nil:
				keys = provider.AESGCM.Keys
			case provider.AESCBC != nil:
				keys = provider.AESCBC.Keys
			case provider.Secretbox != nil:
				keys, sizes = provider.Secretbox.Keys, secretboxKeySizes
			default: // identity
				continue
			}
			kp := path.Child(typ).Child("keys")
			errs = append(errs, validateKeys(keys, kp, sizes)...)
			for k, key := range keys {
				if key.Name == "" {
					continue
				}
				id := typ + "/" + key.Name
				if first, dup := keyNames[id]; dup {
					errs = append(errs, field.Invalid(kp.Index(k).Child("name"), key.Name,
						fmt.Sprintf(duplicateKeyNameErrFmt, key.Name, typ, first)))
					continue
				}
				keyNames[id] = kp.Index(k).Child("name")
			}
		}
	}
	return errs
}

// validateMasking refuses a resource that an earlier entry's "*.group" or
// "*.*" already covers: the later rule would never apply.
func validateMasking(resources []string, path *field.Path, seen map[schema.GroupResource]string) field.ErrorList {
	var errs field.ErrorList
	for j, res := range resources {
		gr := schema.ParseGroupResource(res)
		if rule, masked := seen[schema.GroupResource{Group: gr.Group, Resource: "*"}]; masked {
			errs = append(errs, field.Invalid(path.Index(j), res, fmt.Sprintf(maskedErrFmt, grString(gr), rule)))
			continue
		}
		if rule, masked := seen[anyGroupAnyRes]; masked {
			errs = append(errs, field.Invalid(path.Index(j), res, fmt.Sprintf(maskedErrFmt, grString(gr), rule)))
		}
	}
	for _, res := range resources {
		gr := schema.ParseGroupResource(res)
		if _, ok := seen[gr]; !ok {
			seen[gr] = grString(gr)
		}
	}
	return errs
}

// grString spells a GroupResource as the configuration does ("*." for all
// of core).
func grString(gr schema.GroupResource) string {
	if gr.Group == "" && gr.Resource == "*" {
		return "*."
	}
	return gr.String()
}

func validateResourceOverlap(resources []string, path *field.Path) field.ErrorList {
	if len(resources) < 2 {
		return nil
	}
	grs := make([]schema.GroupResource, len(resources))
	for i, res := range resources {
		grs[i] = schema.ParseGroupResource(res)
	}
	var hasOverlap, hasDuplicate bool
	for i, r1 := range grs {
		for j, r2 := range grs {
			switch {
			case i == j:
			case r1 == r2:
				hasDuplicate = true
			case r1 == anyGroupAnyRes:
				hasOverlap = true
			case r1.Group == r2.Group && (r1.Resource == "*" || r2.Resource == "*"):
				hasOverlap = true
			}
		}
	}
	var errs field.ErrorList
	if hasDuplicate {
		errs = append(errs, field.Invalid(path, resources, duplicateResourceErr))
	}
	if hasOverlap {
		errs = append(errs, field.Invalid(path, resources, overlapErr))
	}
	return errs
}

func validateResourceNames(resources []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for j, res := range resources {
		jj := path.Index(j)
		gr := schema.ParseGroupResource(res)
		var msg string
		switch {
		case strings.ToLower(res) != res:
			msg = resourceNameErr
		case res == "*":
			msg = starResourceErr
		case res == "apiserveripinfo" || res == "serviceipallocations" || res == "servicenodeportallocations":
			msg = nonRESTAPIResourceErr
		case gr.Group == "events.k8s.io":
			msg = eventsGroupErr
		case gr.Group == "extensions":
			msg = extensionsGroupErr
		case gr.Group == "*" && gr.Resource != "*":
			msg = resourceAcrossGroupErr
		default:
			continue
		}
		errs = append(errs, field.Invalid(jj, res, msg))
	}
	return errs
}

func validateKeys(keys []Key, path *field.Path, sizes []int) field.ErrorList {
	if len(keys) == 0 {
		return field.ErrorList{field.Required(path, fmt.Sprintf(atLeastOneRequiredErrFmt, "keys"))}
	}
	var errs field.ErrorList
	for i, key := range keys {
		errs = append(errs, validateKey(key, path.Index(i), sizes)...)
	}
	return errs
}

func validateKey(key Key, path *field.Path, sizes []int) field.ErrorList {
	var errs field.ErrorList
	if key.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), fmt.Sprintf(mandatoryFieldErrFmt, "name", "key")))
	}
	if key.Secret == "" {
		return append(errs, field.Required(path.Child("secret"), fmt.Sprintf(mandatoryFieldErrFmt, "secret", "key")))
	}
	secret, err := base64.StdEncoding.DecodeString(key.Secret)
	if err != nil {
		return append(errs, field.Invalid(path.Child("secret"), redacted, base64EncodingErr))
	}
	clear(secret)
	for _, n := range sizes {
		if len(secret) == n {
			return errs
		}
	}
	return append(errs, field.Invalid(path.Child("secret"), redacted, fmt.Sprintf(keyLenErrFmt, len(secret), sizes)))
}

func validateKMS(c *KMSConfiguration, path *field.Path, names map[string]bool) field.ErrorList {
	var errs field.ErrorList
	np := path.Child("name")
	if c.Name == "" {
		errs = append(errs, field.Required(np, fmt.Sprintf(mandatoryFieldErrFmt, "name", "provider")))
	}
	if c.APIVersion != "v1" && strings.Contains(c.Name, ":") {
		errs = append(errs, field.Invalid(np, c.Name, fmt.Sprintf(invalidKMSConfigNameErrFmt, c.Name)))
	}
	// kube-apiserver requires unique names across all KMS providers for v2,
	// and for v1 too when reload is on; reload is always possible here.
	if names[c.Name] {
		errs = append(errs, field.Invalid(np, c.Name, fmt.Sprintf(duplicateKMSConfigNameErrFmt, c.Name)))
	}
	if c.Timeout == nil || c.Timeout.Duration <= 0 {
		var d any = "null"
		if c.Timeout != nil {
			d = c.Timeout.Duration.String()
		}
		errs = append(errs, field.Invalid(path.Child("timeout"), d, fmt.Sprintf(zeroOrNegativeErrFmt, "timeout")))
	}
	errs = append(errs, validateKMSEndpoint(c.Endpoint, path.Child("endpoint"))...)
	cp := path.Child("cachesize")
	if c.APIVersion != "v1" && c.CacheSize != nil {
		errs = append(errs, field.Invalid(cp, *c.CacheSize, "cachesize is not supported in v2"))
	}
	if c.APIVersion == "v1" && c.CacheSize != nil && *c.CacheSize == 0 {
		errs = append(errs, field.Invalid(cp, *c.CacheSize, fmt.Sprintf(nonZeroErrFmt, "cachesize")))
	}
	if c.APIVersion != "v1" && c.APIVersion != "v2" {
		errs = append(errs, field.Invalid(path.Child("apiVersion"), c.APIVersion, fmt.Sprintf(unsupportedKMSAPIVersionErrFmt, "apiVersion")))
	}
	return errs
}

func validateKMSEndpoint(endpoint string, path *field.Path) field.ErrorList {
	if endpoint == "" {
		return field.ErrorList{field.Invalid(path, "", fmt.Sprintf(mandatoryFieldErrFmt, "endpoint", "kms"))}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return field.ErrorList{field.Invalid(path, endpoint, fmt.Sprintf(invalidURLErrFmt, err))}
	}
	if u.Scheme != "unix" {
		return field.ErrorList{field.Invalid(path, endpoint, fmt.Sprintf(unsupportedSchemeErrFmt, u.Scheme))}
	}
	return nil
}
