package cacheable

// List is a list of a watch cache's shared objects, so that an encoder can
// stream it item by item, copying each object's cached serializations.
// Items must not be changed.
type List struct {
	Items              []*Object
	ResourceVersion    uint64
	Continue           string
	RemainingItemCount *int64
}
