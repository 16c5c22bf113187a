package cacher

import "hash/maphash"

// tree is an immutable map from key to element, ordered by key: a treap
// whose updates copy the path they change (O(log n) new nodes) and share
// the rest. A tree value is therefore a free snapshot: the cache keeps
// one per revision and lists read them without a lock. It does no locking
// and starts no goroutines.
//
// Node priorities are a hash of the key (ties broken by the key), so a set
// of keys has one shape whatever the order it was built in. Every revision
// the cache keeps costs the nodes of one path: a node is 32 bytes.
type tree struct {
	root *node
}

type node struct {
	elem        *element // its key is the node's
	left, right *node
	prio        uint32
	size        int32 // elements in this subtree
}

var prioSeed = maphash.MakeSeed()

func priority(key string) uint32 { return uint32(maphash.String(prioSeed, key) >> 32) }

// above reports whether a goes above b: a higher priority, or the same
// and a smaller key.
func above(a, b *node) bool {
	return a.prio > b.prio || (a.prio == b.prio && a.elem.key < b.elem.key)
}

func (n *node) count() int {
	if n == nil {
		return 0
	}
	return int(n.size)
}

func (n *node) fix() { n.size = int32(1 + n.left.count() + n.right.count()) }

// len is the number of elements.
func (t tree) len() int { return t.root.count() }

// get returns the element under key, or nil.
func (t tree) get(key string) *element {
	n := t.root
	for n != nil {
		switch {
		case key < n.elem.key:
			n = n.left
		case key > n.elem.key:
			n = n.right
		default:
			return n.elem
		}
	}
	return nil
}

// put returns a tree with e stored under e.key (replacing any element there).
func (t tree) put(e *element) tree {
	return tree{root: insert(t.root, e, priority(e.key))}
}

func insert(n *node, e *element, prio uint32) *node {
	if n == nil {
		return &node{elem: e, prio: prio, size: 1}
	}
	c := *n
	switch {
	case e.key < n.elem.key:
		c.left = insert(n.left, e, prio)
		if above(c.left, &c) {
			return rotateRight(&c)
		}
	case e.key > n.elem.key:
		c.right = insert(n.right, e, prio)
		if above(c.right, &c) {
			return rotateLeft(&c)
		}
	default:
		c.elem = e
		return &c
	}
	c.fix()
	return &c
}

// rotateRight lifts n.left; both nodes must be fresh copies.
func rotateRight(n *node) *node {
	l := n.left
	n.left = l.right
	n.fix()
	l.right = n
	l.fix()
	return l
}

// rotateLeft lifts n.right; both nodes must be fresh copies.
func rotateLeft(n *node) *node {
	r := n.right
	n.right = r.left
	n.fix()
	r.left = n
	r.fix()
	return r
}

// delete returns a tree without key.
func (t tree) delete(key string) tree {
	root, _ := remove(t.root, key)
	return tree{root: root}
}

func remove(n *node, key string) (*node, bool) {
	if n == nil {
		return nil, false
	}
	switch {
	case key < n.elem.key:
		l, ok := remove(n.left, key)
		if !ok {
			return n, false
		}
		c := *n
		c.left = l
		c.fix()
		return &c, true
	case key > n.elem.key:
		r, ok := remove(n.right, key)
		if !ok {
			return n, false
		}
		c := *n
		c.right = r
		c.fix()
		return &c, true
	}
	return merge(n.left, n.right), true
}

// merge joins two trees whose keys are all a < all b.
func merge(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case above(a, b):
		c := *a
		c.right = merge(a.right, b)
		c.fix()
		return &c
	default:
		c := *b
		c.left = merge(a, b.left)
		c.fix()
		return &c
	}
}

// ascend calls fn for the elements with from <= key < to in key order
// (to == "" is no upper bound) until fn returns false. It reports whether
// the walk ran to the end.
func (t tree) ascend(from, to string, fn func(*element) bool) bool {
	return ascend(t.root, from, to, fn)
}

func ascend(n *node, from, to string, fn func(*element) bool) bool {
	for n != nil {
		if n.elem.key < from {
			n = n.right
			continue
		}
		if to != "" && n.elem.key >= to {
			n = n.left
			continue
		}
		// from <= n.key < to: left part, this node, right part.
		if !ascend(n.left, from, "", fn) || !fn(n.elem) {
			return false
		}
		from = ""
		n = n.right
	}
	return true
}

// rank is the number of keys < key.
func (t tree) rank(key string) int {
	r := 0
	for n := t.root; n != nil; {
		if n.elem.key < key {
			r += n.left.count() + 1
			n = n.right
		} else {
			n = n.left
		}
	}
	return r
}

// countRange is the number of keys with from <= key < to (to == "": no bound).
func (t tree) countRange(from, to string) int {
	end := t.len()
	if to != "" {
		end = t.rank(to)
	}
	return max(0, end-t.rank(from))
}

// buildTree returns the tree of elems, which must be sorted by key without
// duplicates, in O(n): the Cartesian-tree construction of the treap.
func buildTree(elems []*element) tree {
	var stack []*node
	for _, e := range elems {
		n := &node{elem: e, prio: priority(e.key)}
		var last *node
		for len(stack) > 0 && above(n, stack[len(stack)-1]) {
			last = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		n.left = last
		if len(stack) > 0 {
			stack[len(stack)-1].right = n
		}
		stack = append(stack, n)
	}
	if len(stack) == 0 {
		return tree{}
	}
	root := stack[0]
	fixSizes(root)
	return tree{root: root}
}

func fixSizes(n *node) int {
	if n == nil {
		return 0
	}
	n.size = int32(1 + fixSizes(n.left) + fixSizes(n.right))
	return int(n.size)
}
