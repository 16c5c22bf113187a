// Package inspect decodes what kube-apiserver and regis store in etcd:
// keys with their size, format and encryption (Ls), one value decrypted
// and decoded as an object (Decoder), its bytes explained (Explain), the
// revisions of a key with what changed (History, Changes) and a stream
// of decoded changes (the caller watches; Decoder decodes).
//
// It reads a source.Source (a live etcd or a database file) and needs
// keys only to decrypt: a value's header names its provider and key.
package inspect
