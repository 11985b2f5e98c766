/// Versioned schema migrations, written once for SQLite and PostgreSQL: portable types only
/// (TEXT, BIGINT, INTEGER), UUID keys made in Swift, times as UTC milliseconds, JSON as TEXT.
enum Migrations {
    static let all: [[String]] = [
        // 1: the initial schema
        [
            """
            CREATE TABLE principals (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
                email TEXT, enabled INTEGER NOT NULL, password_hash TEXT, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE memberships (
                group_id TEXT NOT NULL REFERENCES principals(id), member_id TEXT NOT NULL REFERENCES principals(id),
                PRIMARY KEY (group_id, member_id))
            """,
            """
            CREATE TABLE targets (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE, scope TEXT NOT NULL,
                config TEXT NOT NULL, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE roles (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL, builtin INTEGER NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE entitlements (
                role_id TEXT NOT NULL REFERENCES roles(id), target_id TEXT NOT NULL REFERENCES targets(id),
                value TEXT NOT NULL, PRIMARY KEY (role_id, target_id, value))
            """,
            """
            CREATE TABLE policies (
                role_id TEXT NOT NULL REFERENCES roles(id), scope TEXT NOT NULL, body TEXT NOT NULL,
                updated_at BIGINT NOT NULL, PRIMARY KEY (role_id, scope))
            """,
            """
            CREATE TABLE requests (
                id TEXT PRIMARY KEY, action TEXT NOT NULL, requester_id TEXT NOT NULL REFERENCES principals(id),
                principal_id TEXT NOT NULL REFERENCES principals(id), role_id TEXT NOT NULL REFERENCES roles(id),
                scope TEXT NOT NULL, kind TEXT NOT NULL, justification TEXT, ticket_system TEXT, ticket_number TEXT,
                requested_start BIGINT, duration_seconds BIGINT, target_assignment_id TEXT, assignment_id TEXT,
                status TEXT NOT NULL, failed_rules TEXT NOT NULL, reason TEXT, approval TEXT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX requests_by_status ON requests (status, created_at)",
            "CREATE INDEX requests_by_requester ON requests (requester_id, created_at)",
            """
            CREATE TABLE assignments (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, principal_id TEXT NOT NULL REFERENCES principals(id),
                role_id TEXT NOT NULL REFERENCES roles(id), scope TEXT NOT NULL, start_at BIGINT NOT NULL,
                end_at BIGINT, state TEXT NOT NULL, end_reason TEXT, ended_at BIGINT, request_id TEXT,
                activated_from TEXT, created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX assignments_by_state ON assignments (state, end_at)",
            "CREATE INDEX assignments_by_principal ON assignments (principal_id, role_id)",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, due_at BIGINT NOT NULL,
                attempts INTEGER NOT NULL, lease_until BIGINT, last_error TEXT, dead INTEGER NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX jobs_by_due ON jobs (dead, due_at)",
            """
            CREATE TABLE audit_events (
                seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, time BIGINT NOT NULL, actor_id TEXT,
                actor_name TEXT NOT NULL, source_address TEXT, user_agent TEXT, action TEXT NOT NULL,
                subject_principal_id TEXT, subject_role_id TEXT, subject_scope TEXT, outcome TEXT NOT NULL,
                reason TEXT, correlation_id TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
            """,
            "CREATE INDEX audit_by_time ON audit_events (time)",
            "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(String(repeating: "0", count: 64))')",
            """
            CREATE TABLE audit_checkpoints (
                seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, time BIGINT NOT NULL, public_key TEXT NOT NULL,
                signature TEXT NOT NULL)
            """,
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
        // 2: sign-in sessions and API tokens, stored only as SHA-256 hashes of the bearer secret
        [
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES principals(id), kind TEXT NOT NULL,
                created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
                mfa_verified_at BIGINT, source_address TEXT, revoked_at BIGINT)
            """,
            "CREATE INDEX sessions_by_principal ON sessions (principal_id)",
        ],
        // 3: TOTP enrollments (secret sealed with a key kept outside the database) and sessions' MFA state
        [
            """
            CREATE TABLE totp_enrollments (
                principal_id TEXT PRIMARY KEY REFERENCES principals(id), sealed_secret TEXT NOT NULL,
                confirmed_at BIGINT, last_used_step BIGINT NOT NULL, created_at BIGINT NOT NULL)
            """
        ],
        // 4: failed sign-ins per account and per source address, for slowing down and locking out
        [
            """
            CREATE TABLE login_failures (
                key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start BIGINT NOT NULL, locked_until BIGINT)
            """
        ],
        // 5: token signing keys (private halves sealed), kept after retirement until their tokens expire
        [
            """
            CREATE TABLE token_keys (
                kid TEXT PRIMARY KEY, sealed_private_key TEXT NOT NULL, public_key TEXT NOT NULL,
                created_at BIGINT NOT NULL, retired_at BIGINT)
            """
        ],
        // 6: API tokens live beside sessions: an id to revoke them by, a name, and what they may do
        [
            "ALTER TABLE sessions ADD COLUMN id TEXT",
            "ALTER TABLE sessions ADD COLUMN name TEXT",
            "ALTER TABLE sessions ADD COLUMN access TEXT",
            "CREATE UNIQUE INDEX sessions_by_id ON sessions (id)",
        ],
        // 7: a target's secrets, sealed with the data directory's key; never returned by the API
        [
            "ALTER TABLE targets ADD COLUMN sealed_secrets TEXT"
        ],
        // 8: credentials a grant made for the requester (a short-lived login), sealed, shown once
        [
            """
            CREATE TABLE issued_credentials (
                assignment_id TEXT NOT NULL, target_id TEXT NOT NULL, login TEXT NOT NULL, sealed_secret TEXT,
                valid_until BIGINT, created_at BIGINT NOT NULL, retrieved_at BIGINT,
                PRIMARY KEY (assignment_id, target_id))
            """
        ],
        // 9: security alerts (one row per rule, its items and dismissal as JSON) and their settings
        [
            """
            CREATE TABLE alerts (
                rule TEXT PRIMARY KEY, state TEXT NOT NULL, items TEXT NOT NULL, raised_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL, dismissal TEXT)
            """,
            "CREATE TABLE alert_settings (rule TEXT PRIMARY KEY, settings TEXT NOT NULL)",
            "CREATE INDEX assignments_by_activated_from ON assignments (activated_from)",
        ],
        // 10: the notification outbox (written with the event, sent by the notifier, deduplicated
        // by key) and each user's opt-out of non-critical mail
        [
            """
            CREATE TABLE notifications (
                id TEXT PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, recipient TEXT NOT NULL,
                topic TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, payload TEXT NOT NULL,
                due_at BIGINT NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, lease_until BIGINT,
                sent_at BIGINT, abandoned_at BIGINT, created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX notifications_due ON notifications (sent_at, due_at)",
            "CREATE TABLE notification_preferences (principal_id TEXT PRIMARY KEY, non_critical_email INTEGER NOT NULL)",
        ],
        // 11: access reviews (definitions, and occurrences with their items as JSON, one per
        // definition and occurrence) and each principal's manager, for manager reviews
        [
            "CREATE TABLE review_definitions (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at BIGINT NOT NULL)",
            """
            CREATE TABLE review_instances (
                id TEXT PRIMARY KEY, definition_id TEXT NOT NULL REFERENCES review_definitions(id),
                occurrence INTEGER NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, state TEXT NOT NULL,
                body TEXT NOT NULL, UNIQUE (definition_id, occurrence))
            """,
            "CREATE INDEX review_instances_by_state ON review_instances (state, end_at)",
            "CREATE TABLE principal_managers (principal_id TEXT PRIMARY KEY, manager_id TEXT NOT NULL)",
        ],
        // 12: several replicas. Leases name the replica that holds them; the jobs of one
        // assignment or request share a lane that one lease at a time may hold; an audit text that
        // a database cannot keep as TEXT (U+0000) is kept exactly in `exact_texts` (JSON, column →
        // text) beside a display form.
        [
            "ALTER TABLE jobs ADD COLUMN lease_owner TEXT",
            "ALTER TABLE jobs ADD COLUMN lane TEXT",
            "CREATE INDEX jobs_by_lane ON jobs (lane)",
            "ALTER TABLE notifications ADD COLUMN lease_owner TEXT",
            "ALTER TABLE audit_events ADD COLUMN exact_texts TEXT",
        ],
        // 13: the SSH CA's ledger (certificates issued, those revoked) in the database, so every
        // replica writes the same revocation list and none keeps state in files.
        [
            """
            CREATE TABLE ssh_certificates (
                serial BIGINT PRIMARY KEY, assignment_id TEXT NOT NULL, valid_before BIGINT NOT NULL,
                revoked_at BIGINT)
            """,
            "CREATE INDEX ssh_certificates_by_assignment ON ssh_certificates (assignment_id)",
        ],
        // 14: keyset paging. Lists newest first continue after (created_at, id) through an index
        // at any depth, and the check index is loaded page by page in id order; a review's
        // snapshot finds its holders' last sign-ins without reading the whole log.
        [
            "CREATE INDEX assignments_by_created ON assignments (created_at, id)",
            "CREATE INDEX requests_by_created ON requests (created_at, id)",
            "CREATE INDEX assignments_live_by_id ON assignments (id) WHERE kind = 'active' AND state <> 'ended'",
            "CREATE INDEX jobs_by_created ON jobs (created_at, id)",
            "CREATE INDEX audit_by_action_actor ON audit_events (action, actor_id, time)",
        ],
        // 15: the organisation's directory. What SCIM said about each principal it provisions
        // (matched without case, and by the directory's own id), the bearer tokens SCIM clients
        // use (hashes), and sign-in through its OpenID provider.
        [
            """
            CREATE TABLE directory_entries (
                principal_id TEXT PRIMARY KEY REFERENCES principals(id), matching_key TEXT NOT NULL UNIQUE,
                external_id TEXT, body TEXT NOT NULL, deleted_at BIGINT)
            """,
            "CREATE INDEX directory_entries_by_external_id ON directory_entries (external_id)",
            """
            CREATE TABLE scim_tokens (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
            // Sign-in through the organisation's OpenID provider: who (issuer, subject) is which
            // principal, and the sign-ins under way (state hash, nonce, PKCE verifier), each used once.
            """
            CREATE TABLE identity_links (
                issuer TEXT NOT NULL, subject TEXT NOT NULL, principal_id TEXT NOT NULL REFERENCES principals(id),
                created_at BIGINT NOT NULL, PRIMARY KEY (issuer, subject))
            """,
            // How a session's MFA was met (Regent's TOTP, or the provider's amr/acr), for the audit.
            "ALTER TABLE sessions ADD COLUMN mfa_method TEXT",
            """
            CREATE TABLE provider_sign_ins (
                state_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, nonce TEXT NOT NULL, verifier TEXT NOT NULL,
                return_to TEXT NOT NULL, expires_at BIGINT NOT NULL)
            """,
            // A provider sign-in finished in the browser for `regent login --sso`: the CLI redeems
            // the code with its PKCE verifier for a session of its own, once, within a minute.
            """
            CREATE TABLE sign_in_handoffs (
                code_hash TEXT PRIMARY KEY, challenge TEXT NOT NULL, principal_id TEXT NOT NULL REFERENCES principals(id),
                method TEXT NOT NULL, mfa_verified_at BIGINT, mfa_method TEXT, expires_at BIGINT NOT NULL)
            """,
        ],
        // 16: policy as code. The objects an apply created or took over, by the manifest's kind
        // and name: the only ones `--prune` may delete.
        [
            """
            CREATE TABLE manifest_objects (
                kind TEXT NOT NULL, name TEXT NOT NULL, manifest TEXT NOT NULL, applied_at BIGINT NOT NULL,
                PRIMARY KEY (kind, name))
            """
        ],
    ]
}
