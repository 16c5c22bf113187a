// Package maint keeps an etcd cluster in shape: the state of each member
// (Members), defragmentation one member at a time, followers first and
// the leader last (Defrag), alarms (Alarms, Disarm) and the checks of
// `regis doctor` (Check).
package maint
