package lattice

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Event types, published on spore.evt.<lattice>.<type>.
const (
	EvtHostStarted        = "host_started"
	EvtHostStopped        = "host_stopped"
	EvtHostHeartbeat      = "host_heartbeat"
	EvtActorStarted       = "actor_started"
	EvtActorStopped       = "actor_stopped"
	EvtActorScaled        = "actor_scaled"
	EvtActorFailed        = "actor_failed"
	EvtProviderStarted    = "provider_started"
	EvtProviderStopped    = "provider_stopped"
	EvtLinkPut            = "link_put"
	EvtLinkDeleted        = "link_deleted"
	EvtInvocationRejected = "invocation_rejected"
	EvtControlRejected    = "control_rejected"
	EvtLabelsChanged      = "labels_changed"
)

// Event is a CloudEvents 1.0 event in its JSON format.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// EventTypePrefix makes a Spore event type from a short name: the CloudEvents
// type of actor_started is "dev.spore.actor_started".
const EventTypePrefix = "dev.spore."

// publishEvent sends one event; errors are dropped, as events are
// best-effort notices and never the source of truth.
func publishEvent(nc *nats.Conn, subj Subjects, source, typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	ev := Event{
		SpecVersion:     "1.0",
		ID:              nuid.Next(),
		Source:          source,
		Type:            EventTypePrefix + typ,
		Time:            time.Now().UTC(),
		DataContentType: "application/json",
		Data:            b,
	}
	out, _ := json.Marshal(ev)
	_ = nc.Publish(subj.Event(typ), out)
}
