package probe

import (
	"context"
	"net/url"
	"sync"
)

// CheckAll checks each URL of urls once, at most Config.Concurrency at a
// time and at most Config.PerHost at a time per host, taking the hosts in
// turn so that one big host does not hold up the others. It calls fn once
// per index with that URL's result, always from the goroutine that called
// CheckAll and never concurrently, in the order the checks end; fn should
// return quickly, as no new check starts while it runs. CheckAll returns
// once fn has been called for every index.
//
// When ctx ends, CheckAll starts no more checks and cancels those in
// flight; every URL without a verdict gets Result{NotChecked: true}.
//
// The URLs should be unique: CheckAll fetches a URL given twice twice.
func (c *Checker) CheckAll(ctx context.Context, urls []string, fn func(i int, r Result)) {
	ready, order := queueByHost(urls, fn)
	results := make(chan done)
	stop := ctx.Done() // nil, never ready, for a context that cannot end
	stopped := false
	inflight := 0
	for {
		// Start checks, one host after the other, while slots are free.
		for !stopped && ctx.Err() == nil && inflight < c.cfg.Concurrency && len(ready) > 0 {
			q := ready[0]
			ready = ready[1:]
			j := q.jobs[0]
			q.jobs = q.jobs[1:]
			q.active++
			inflight++
			go func() { results <- done{j.i, q, c.check(ctx, j.u)} }()
			q.ready = len(q.jobs) > 0 && q.active < c.cfg.PerHost
			if q.ready {
				ready = append(ready, q)
			}
		}
		if inflight == 0 && (stopped || ctx.Err() != nil || len(ready) == 0) {
			break
		}
		select {
		case d := <-results:
			inflight--
			d.q.active--
			fn(d.i, d.r)
			if !d.q.ready && len(d.q.jobs) > 0 {
				d.q.ready = true
				ready = append(ready, d.q)
			}
		case <-stop:
			// Start nothing more; wait for the checks in flight.
			stopped, stop = true, nil
		}
	}

	for _, q := range order {
		for _, j := range q.jobs {
			fn(j.i, Result{NotChecked: true})
		}
	}
}

// job is one URL of a CheckAll call.
type job struct {
	i int
	u *url.URL
}

// hostQueue holds the URLs of one host not yet started.
type hostQueue struct {
	jobs   []job
	active int
	// ready is set while the queue waits in the ready list.
	ready bool
}

// done is a finished check.
type done struct {
	i int
	q *hostQueue
	r Result
}

// queueByHost sorts urls into one queue per host, in order of first
// appearance, all ready. Invalid URLs need no request: their result goes to
// fn at once.
func queueByHost(urls []string, fn func(i int, r Result)) (ready, order []*hostQueue) {
	queues := make(map[string]*hostQueue)
	for i, raw := range urls {
		u, p := parseTarget(raw)
		if p != nil {
			fn(i, Result{Problems: []Problem{*p}})
			continue
		}
		q := queues[u.Hostname()]
		if q == nil {
			q = &hostQueue{ready: true}
			queues[u.Hostname()] = q
			order = append(order, q)
		}
		q.jobs = append(q.jobs, job{i, u})
	}
	return append([]*hostQueue(nil), order...), order
}

// hostLimiter bounds the requests in flight per host name. Hosts without
// requests in flight hold no memory.
type hostLimiter struct {
	limit int
	mu    sync.Mutex
	slots map[string]*hostSlots
}

type hostSlots struct {
	ch    chan struct{}
	users int
}

func newHostLimiter(limit int) *hostLimiter {
	return &hostLimiter{limit: limit, slots: make(map[string]*hostSlots)}
}

// acquire waits for a slot for host and returns its release.
func (l *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	l.mu.Lock()
	s := l.slots[host]
	if s == nil {
		s = &hostSlots{ch: make(chan struct{}, l.limit)}
		l.slots[host] = s
	}
	s.users++
	l.mu.Unlock()

	select {
	case s.ch <- struct{}{}:
		return func() {
			<-s.ch
			l.leave(host, s)
		}, nil
	case <-ctx.Done():
		l.leave(host, s)
		return nil, ctx.Err()
	}
}

func (l *hostLimiter) leave(host string, s *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.users--
	if s.users == 0 {
		delete(l.slots, host)
	}
}
