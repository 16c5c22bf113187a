// Package controller holds what kube-controller-manager and the kubelet
// would do for a lone API server, run beside it over the registry: the
// namespace controller (deleting a namespace deletes its contents), the
// garbage collector (ownerReferences and propagation policies) and the
// graceful reaper (pods deleted gracefully go once their grace period
// has passed). Each is a Runner; Run runs them together under one owner.
package controller
