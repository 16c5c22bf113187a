package maint

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Alarm is one raised alarm.
type Alarm struct {
	MemberID string `json:"memberID"`
	Member   string `json:"member,omitempty"`
	Alarm    string `json:"alarm"` // NOSPACE, CORRUPT
}

// Alarms lists the alarms raised on the cluster.
func Alarms(ctx context.Context, c *clientv3.Client) ([]Alarm, error) {
	resp, err := c.AlarmList(ctx)
	if err != nil {
		return nil, fmt.Errorf("alarm list: %w", err)
	}
	names := map[uint64]string{}
	if ml, err := c.MemberList(ctx); err == nil {
		for _, m := range ml.Members {
			names[m.ID] = m.Name
		}
	}
	out := make([]Alarm, 0, len(resp.Alarms))
	for _, a := range resp.Alarms {
		out = append(out, Alarm{MemberID: fmt.Sprintf("%x", a.MemberID), Member: names[a.MemberID], Alarm: a.Alarm.String()})
	}
	return out, nil
}

// Disarm disarms every alarm raised and returns those it disarmed, as
// `etcdctl alarm disarm` does. A NOSPACE alarm comes back at the next
// write if the database is still over its quota: compact and defragment
// first.
func Disarm(ctx context.Context, c *clientv3.Client) ([]Alarm, error) {
	alarms, err := Alarms(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(alarms) == 0 {
		return nil, nil
	}
	if _, err := c.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		return nil, fmt.Errorf("alarm disarm: %w", err)
	}
	return alarms, nil
}
