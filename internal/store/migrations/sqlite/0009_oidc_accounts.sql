-- rampart store schema v9: accounts that sign in through an OpenID
-- Connect provider. Such an account has no password; it is the issuer's
-- subject (the provider's stable ID of the person), whatever its user
-- name. Local accounts have '' in both.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_oidc ON users (oidc_issuer, oidc_subject) WHERE oidc_subject <> '';
