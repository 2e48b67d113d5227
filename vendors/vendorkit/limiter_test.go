package vendorkit

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterServesHighBeforeLow(t *testing.T) {
	l := NewLimiter(rate.Every(30*time.Millisecond), 1)
	ctx := context.Background()
	if err := l.Wait(ctx, Low); err != nil { // spend the burst
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []Priority
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = l.Wait(ctx, Low)
			mu.Lock()
			order = append(order, Low)
			mu.Unlock()
		}()
	}
	time.Sleep(5 * time.Millisecond)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = l.Wait(ctx, High)
		mu.Lock()
		order = append(order, High)
		mu.Unlock()
	}()
	wg.Wait()
	if order[0] != High {
		t.Errorf("order %v: a command waiting behind polls must go first", order)
	}
}

func TestLimiterKeepsTheRate(t *testing.T) {
	l := NewLimiter(rate.Every(20*time.Millisecond), 1)
	start := time.Now()
	for i := 0; i < 6; i++ {
		if err := l.Wait(context.Background(), Low); err != nil {
			t.Fatal(err)
		}
	}
	// 6 calls with a burst of 1 need at least 5 intervals.
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Errorf("6 calls took %s; the limit allows no less than 100ms", took)
	}
}

func TestLimiterPauseHoldsCalls(t *testing.T) {
	l := NewLimiter(rate.Inf, 1)
	l.Pause(80 * time.Millisecond)
	start := time.Now()
	if err := l.Wait(context.Background(), High); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 75*time.Millisecond {
		t.Errorf("call went %s after a pause of 80ms", took)
	}
}

func TestLimiterCancelledWaiterLeavesAndDispatcherEnds(t *testing.T) {
	l := NewLimiter(rate.Every(time.Hour), 1)
	_ = l.Wait(context.Background(), Low)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, Low); err == nil {
		t.Fatal("wait returned without a token an hour away")
	}
	deadline := time.Now().Add(time.Second)
	for {
		l.mu.Lock()
		running := l.running
		l.mu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("dispatcher still running with nobody waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLimiterPauseHoldsAWaiterAlreadyReserved(t *testing.T) {
	l := NewLimiter(rate.Every(40*time.Millisecond), 1)
	_ = l.Wait(context.Background(), Low) // spend the burst
	done := make(chan time.Time, 1)
	go func() {
		_ = l.Wait(context.Background(), High)
		done <- time.Now()
	}()
	time.Sleep(10 * time.Millisecond) // the dispatcher now waits for the next token
	paused := time.Now()
	l.Pause(150 * time.Millisecond)
	if went := (<-done).Sub(paused); went < 145*time.Millisecond {
		t.Errorf("a waiter went %s after a pause of 150ms", went)
	}
}
