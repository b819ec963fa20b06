package collect

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Group runs a collector's goroutines. It is a drop-in replacement for
// sync.WaitGroup's Go and Wait with one difference: a panic in a goroutine
// does not end the process. Go recovers it, and Wait raises it again on
// the waiting goroutine (the collector's own), where the runner recovers it
// and marks the collector's facts failed. A panic in a goroutine started
// with the go statement or sync.WaitGroup.Go cannot be recovered by anyone
// and ends the whole scan, which is why collectors start goroutines only
// through a Group (internal/archtest checks).
type Group struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first *Panic
}

// Panic is a panic recovered in one of a Group's goroutines.
type Panic struct {
	Value any
	// Stack is the stack of the goroutine that panicked.
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("%v", p.Value) }

// Go runs f in a new goroutine.
func (g *Group) Go(f func()) {
	g.wg.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				g.mu.Lock()
				if g.first == nil {
					g.first = &Panic{Value: v, Stack: debug.Stack()}
				}
				g.mu.Unlock()
			}
		}()
		f()
	})
}

// Wait waits for every goroutine started with Go, then panics with the
// first recovered panic (a *Panic), if any.
func (g *Group) Wait() {
	g.wg.Wait()
	g.mu.Lock()
	p := g.first
	g.first = nil
	g.mu.Unlock()
	if p != nil {
		panic(p)
	}
}
