package auth

import (
	"time"

	"github.com/rampart-sec/rampart/internal/server/secret"
)

// Invites makes one-time setup links: for a new account (an invitation)
// and for a password reset. The link carries 256 random bits; only their
// keyed hash is stored, with an expiry. The admin who makes the link
// never knows the password the user then chooses, and the account
// cannot sign in until the link is used.
type Invites struct {
	Box *secret.Box
	TTL time.Duration
	Now func() time.Time
}

// Invite is a new setup link's token, the hash to store and its expiry.
type Invite struct {
	Token   string
	Hash    string
	Expires time.Time
}

// New makes a setup link token.
func (v *Invites) New() Invite {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	tok := secret.Token("rampart-link-")
	return Invite{Token: tok, Hash: v.Hash(tok), Expires: now.Add(v.TTL)}
}

// Hash is the stored form of a link token.
func (v *Invites) Hash(token string) string { return v.Box.Hash("invite:" + token) }
