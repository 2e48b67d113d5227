package shelly

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// setCmd is one queued v2 command.
type setCmd struct {
	kind string // switch, cover, light; "groups" for a caller's own set/groups
	id   string
	ch   int
	cmd  any    // switchCmd / coverCmd / lightCmd, or groupReq for "groups"
	key  string // kind + command JSON: commands with equal keys can share a group
	done chan error
	fail map[string]string // set/groups failures, for Request
	gone atomic.Bool
}

func newSetCmd(kind, id string, ch int, cmd any) *setCmd {
	b, _ := json.Marshal(cmd)
	return &setCmd{kind: kind, id: id, ch: ch, cmd: cmd, key: kind + string(b), done: make(chan error, 1)}
}

// cmdQueue serializes the account's commands onto the shared limiter at
// High priority. When several commands wait for the same token they leave
// together: identical commands to several channels (and one such group per
// kind) become a single set/groups request.
type cmdQueue struct {
	c       *cloud
	mu      sync.Mutex
	pending []*setCmd
	running bool
}

// do queues a command and waits for its outcome or ctx.
func (q *cmdQueue) do(ctx context.Context, s *setCmd) error {
	q.mu.Lock()
	q.pending = append(q.pending, s)
	if !q.running {
		q.running = true
		go q.dispatch()
	}
	q.mu.Unlock()
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
		s.gone.Store(true)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &vendors.Error{Code: vendors.CodeTimeout, Message: "command still waiting for the rate limit or the cloud"}
		}
		return ctx.Err()
	}
}

// dispatch sends batches, one limiter token each, until the queue is empty.
func (q *cmdQueue) dispatch() {
	for {
		q.mu.Lock()
		live := q.pending[:0]
		for _, s := range q.pending {
			if !s.gone.Load() {
				live = append(live, s)
			}
		}
		q.pending = live
		if len(q.pending) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		start := time.Now()
		if err := q.c.limiter.Wait(context.Background(), vendorkit.High); err != nil {
			continue
		}
		q.c.env.Metrics.RateLimitWait(time.Since(start))
		q.c.send(q.take())
	}
}

// take removes the next batch: the oldest command and every queued command
// that can share its request.
func (q *cmdQueue) take() []*setCmd {
	q.mu.Lock()
	defer q.mu.Unlock()
	var first *setCmd
	for _, s := range q.pending {
		if !s.gone.Load() {
			first = s
			break
		}
	}
	if first == nil {
		q.pending = nil
		return nil
	}
	batch := []*setCmd{first}
	if first.kind != "groups" {
		keys := map[string]string{first.kind: first.key}
		for _, s := range q.pending {
			if s == first || s.gone.Load() || s.kind == "groups" {
				continue
			}
			if k, ok := keys[s.kind]; !ok {
				keys[s.kind] = s.key
			} else if k != s.key {
				continue
			}
			batch = append(batch, s)
		}
	}
	taken := map[*setCmd]bool{}
	for _, s := range batch {
		taken[s] = true
	}
	rest := q.pending[:0]
	for _, s := range q.pending {
		if !taken[s] && !s.gone.Load() {
			rest = append(rest, s)
		}
	}
	q.pending = rest
	return batch
}
