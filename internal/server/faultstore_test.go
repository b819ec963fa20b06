package server

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
)

// faultStore is a real store whose database can be made to fail, as
// when the database server is down: while down, the calls a request
// makes to authenticate and to read fail with a connection error.
type faultStore struct {
	*store.SQL
	down atomic.Bool
}

var errDBDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (f *faultStore) TokenByHash(ctx context.Context, h string, now time.Time) (store.Token, error) {
	if f.down.Load() {
		return store.Token{}, errDBDown
	}
	return f.SQL.TokenByHash(ctx, h, now)
}

func (f *faultStore) SessionUser(ctx context.Context, h string, now time.Time) (store.User, error) {
	if f.down.Load() {
		return store.User{}, errDBDown
	}
	return f.SQL.SessionUser(ctx, h, now)
}

func (f *faultStore) CountUsers(ctx context.Context) (int, error) {
	if f.down.Load() {
		return 0, errDBDown
	}
	return f.SQL.CountUsers(ctx)
}

func (f *faultStore) Targets(ctx context.Context) ([]store.TargetState, error) {
	if f.down.Load() {
		return nil, errDBDown
	}
	return f.SQL.Targets(ctx)
}

func (f *faultStore) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errDBDown
	}
	return f.SQL.Ping(ctx)
}

// withFaultStore opens the configured store wrapped in a faultStore.
func withFaultStore(fs *faultStore) func(*Options) {
	return func(o *Options) {
		st, err := store.Open(context.Background(), o.Config.StorageSpec())
		if err != nil {
			panic(err)
		}
		fs.SQL = st
		o.Store = fs
	}
}
