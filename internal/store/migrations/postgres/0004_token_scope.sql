-- rampart store schema v4: an API token may be scoped to target name
-- patterns (a JSON array; empty means every target) for uploads.
ALTER TABLE api_tokens ADD COLUMN targets TEXT NOT NULL DEFAULT '';
