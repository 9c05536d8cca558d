import Logging
import PostgresNIO

/// The PostgreSQL schema, the same tables as ``SQLiteSchema`` in PostgreSQL's types and
/// snake_case names. Migrations are applied in order, each once, recorded in
/// `schema_migration`; replicas starting together take turns through an advisory lock, so a
/// migration never runs twice.
enum PostgresSchema {
    /// (name, statements): a migration stays as it ran; a change is a new one.
    static let migrations: [(name: String, statements: [String])] = [
        ("v1: tenants, keys, datasets, jobs, models, monitoring, audit log", [
            """
            CREATE TABLE tenant (
                id TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                prediction_retention_days INTEGER NOT NULL DEFAULT 30,
                log_inputs BOOLEAN NOT NULL DEFAULT FALSE)
            """,
            """
            CREATE TABLE api_key (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                secret_digest BYTEA NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                revoked_at TIMESTAMPTZ)
            """,
            """
            CREATE TABLE dataset (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                file_name TEXT NOT NULL,
                byte_count BIGINT NOT NULL,
                row_count BIGINT NOT NULL,
                column_count BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                profile BYTEA NOT NULL,
                created_at TIMESTAMPTZ NOT NULL)
            """,
            "CREATE INDEX dataset_by_tenant ON dataset (tenant_id, created_at)",
            """
            CREATE TABLE job (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                dataset_id TEXT NOT NULL,
                target TEXT NOT NULL,
                task TEXT,
                algorithm TEXT NOT NULL,
                folds BIGINT NOT NULL,
                seed BIGINT NOT NULL,
                split TEXT,
                time_column TEXT,
                group_column TEXT,
                gap BIGINT NOT NULL DEFAULT 0,
                coverage DOUBLE PRECISION NOT NULL DEFAULT 0.9,
                time_budget_seconds DOUBLE PRECISION NOT NULL,
                model_name TEXT NOT NULL,
                promote BOOLEAN NOT NULL DEFAULT FALSE,
                model_version BIGINT,
                state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
                progress DOUBLE PRECISION NOT NULL,
                message TEXT NOT NULL,
                leaderboard BYTEA,
                error TEXT,
                created_at TIMESTAMPTZ NOT NULL,
                started_at TIMESTAMPTZ,
                finished_at TIMESTAMPTZ)
            """,
            "CREATE INDEX job_by_tenant ON job (tenant_id, created_at)",
            "CREATE INDEX job_by_state ON job (state, created_at)",
            """
            CREATE TABLE model (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                version BIGINT NOT NULL,
                file_name TEXT NOT NULL,
                dataset_id TEXT,
                job_id TEXT,
                comparison BYTEA,
                created_at TIMESTAMPTZ NOT NULL,
                UNIQUE (tenant_id, name, version))
            """,
            """
            CREATE TABLE model_series (
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                serving_version BIGINT NOT NULL,
                next_version BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, name))
            """,
            """
            CREATE TABLE monitoring_window (
                id BIGSERIAL PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                model_name TEXT NOT NULL,
                version BIGINT NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                ended_at TIMESTAMPTZ NOT NULL,
                rows BIGINT NOT NULL,
                counts BYTEA NOT NULL)
            """,
            "CREATE INDEX monitoring_window_by_model ON monitoring_window (tenant_id, model_name, version, started_at)",
            """
            CREATE TABLE prediction_batch (
                id BIGSERIAL PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                model_name TEXT NOT NULL,
                version BIGINT NOT NULL,
                prefix TEXT NOT NULL,
                first_seq BIGINT NOT NULL,
                last_seq BIGINT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                payload BYTEA NOT NULL)
            """,
            "CREATE INDEX prediction_batch_by_sequence ON prediction_batch (tenant_id, prefix, first_seq)",
            "CREATE INDEX prediction_batch_by_age ON prediction_batch (created_at)",
            """
            CREATE TABLE outcome (
                tenant_id TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                prediction_id TEXT NOT NULL,
                model_name TEXT NOT NULL,
                version BIGINT NOT NULL,
                predicted_at TIMESTAMPTZ NOT NULL,
                received_at TIMESTAMPTZ NOT NULL,
                predicted BYTEA NOT NULL,
                actual TEXT NOT NULL,
                PRIMARY KEY (tenant_id, prediction_id))
            """,
            "CREATE INDEX outcome_by_model ON outcome (tenant_id, model_name, version, predicted_at)",
            """
            CREATE TABLE audit_log (
                id BIGSERIAL PRIMARY KEY,
                at TIMESTAMPTZ NOT NULL,
                tenant_id TEXT,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL)
            """,
            "CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id)",
        ]),
        ("v2: job leases, the admin key, the change feed between replicas", [
            "ALTER TABLE job ADD COLUMN lease_owner TEXT",
            "ALTER TABLE job ADD COLUMN lease_expires_at TIMESTAMPTZ",
            "ALTER TABLE job ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE",
            "CREATE INDEX job_by_lease ON job (lease_expires_at) WHERE state = 'running'",
            "CREATE TABLE admin_key (id INTEGER PRIMARY KEY CHECK (id = 1), digest BYTEA NOT NULL, set_at TIMESTAMPTZ NOT NULL)",
            """
            CREATE TABLE change_log (
                id BIGSERIAL PRIMARY KEY,
                at TIMESTAMPTZ NOT NULL DEFAULT now(),
                kind TEXT NOT NULL,
                tenant_id TEXT,
                name TEXT)
            """,
        ]),
    ]

    /// Any number fixed for this schema: the advisory lock replicas take while migrating.
    static let migrationLock: Int64 = 0x7465_7374_6265_64

    /// Applies the migrations not yet applied, in one transaction.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)", logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migration", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migration (name, applied_at) VALUES (\(migration.name), now())", logger: logger)
                logger.notice("database migrated", metadata: ["migration": "\(migration.name)"])
            }
        }
    }
}
