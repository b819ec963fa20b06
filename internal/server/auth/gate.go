package auth

// Gate bounds how many password hashes (argon2id, 64 MiB each with the
// default costs) run at once, so a flood of sign-ins cannot exhaust the
// server's memory or CPU: a request that finds every slot taken is
// answered at once (429) instead of queueing.
type Gate struct {
	slots chan struct{}
}

// NewGate makes a gate of n slots (at least 1).
func NewGate(n int) *Gate {
	return &Gate{slots: make(chan struct{}, max(1, n))}
}

// TryAcquire takes a slot if one is free, without waiting.
func (g *Gate) TryAcquire() bool {
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release frees a slot taken by TryAcquire.
func (g *Gate) Release() { <-g.slots }
