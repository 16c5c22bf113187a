// Package encryption is the operations side of encryption at rest, what
// `regis encryption status|rewrite|rotate` run:
//
//   - Status scans etcd (live, or a database file: a stopped data
//     directory or a snapshot) and counts, per resource, the values under
//     each provider and key from their headers, without any key; it lists
//     the objects still on a key the configuration no longer writes with,
//     and the aesgcm keys' write counts against upstream's advice to rotate
//     before 200,000 writes.
//   - Rewrite re-encrypts, online, every value a configuration reads as
//     stale, each with a compare-and-swap on its modification revision, and
//     saves a checkpoint in etcd after each page so that it resumes after
//     an interruption.
//   - Rotate walks a whole key rotation on the configuration files: a new
//     key added as a read key, then promoted to write key, a rewrite, a
//     verification, and the old key dropped, waiting at each step for every
//     live regis server (encryptionconfig/peers) to have applied it, and
//     refusing to drop a key that a stored value still needs.
//
// Nothing here prints or logs key material; reports name providers, keys
// and fingerprints.
package encryption
