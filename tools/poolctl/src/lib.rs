//! `poolctl`: administration of the pools table. Every command prints JSON on stdout; errors go
//! to stderr with a non-zero exit. The command logic takes a `&dyn StoreAdmin` (the store's
//! administrative extension), so tests run it on either adapter. `check` holds the invariant
//! check of API.md §4 ([`problems`]).
//!
//! Arguments are checked by the same validated types the API uses (`PoolName`, `Slug`, …), so
//! the CLI cannot create a pool the API would refuse to write.

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use shared::auth::{generate_key, new_key_id, SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPool, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::store::dynamodb::DynamoStore;
use shared::store::https::TrustRoots;
use shared::store::{StoreAdmin, StoreError, StoreSnapshot};

#[derive(Debug, Parser)]
#[command(
    name = "poolctl",
    version,
    about = "Administration of the pools DynamoDB table: the table, API keys, pools, and an invariant check.",
    long_about = "Administration of the pools DynamoDB table: the table, API keys, pools, and an \
                  invariant check.\n\nThe table is --table or TABLE_NAME; the endpoint is \
                  AWS_ENDPOINT_URL_DYNAMODB when set (DynamoDB Local), else the AWS \
                  configuration's. Every command prints JSON on stdout; errors go to stderr \
                  with a non-zero exit status."
)]
pub struct Cli {
    /// The DynamoDB table.
    #[arg(long, env = "TABLE_NAME", global = true)]
    pub table: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The table itself.
    #[command(subcommand)]
    Table(TableCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Contact pools (`PUT /api/v1/pools/{uuid}`).
    #[command(subcommand)]
    ContactPool(ContactPoolCommand),
    /// Guardrail pools (`PATCH /v1/guardrails/pools/{id}`).
    #[command(subcommand)]
    GuardrailPool(GuardrailPoolCommand),
    /// Checks the whole table: every guardrail pool's slug has its claim, every claim its pool,
    /// one pool per slug per organization (API.md §4); exits non-zero if anything is wrong.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Creates the table (hash key `pk`, on-demand) and waits until it is active; an existing
    /// table is fine.
    Create,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issues a new API key. The key is printed once, here; the table keeps only its SHA-256.
    Create(KeyCreate),
    /// Revokes a key by its id (the `key_id` `key create` printed).
    Revoke(KeyRevoke),
}

#[derive(Debug, Clone, Args)]
pub struct KeyCreate {
    /// The organization the key acts in.
    #[arg(long)]
    pub org: OrgId,
    /// A scope the key grants; repeat for more. None: the key authenticates but may call
    /// neither endpoint.
    #[arg(long = "scope", value_parser = [SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE])]
    pub scopes: Vec<String>,
    /// When the key stops working (RFC 3339, e.g. 2027-01-01T00:00:00Z).
    #[arg(long, value_parser = parse_timestamp)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Args)]
pub struct KeyRevoke {
    /// The key's id (`key_…`), not the key.
    pub key_id: String,
}

#[derive(Debug, Subcommand)]
pub enum ContactPoolCommand {
    /// Creates a contact pool in an organization (version 1).
    Create(ContactPoolCreate),
}

#[derive(Debug, Clone, Args)]
pub struct ContactPoolCreate {
    /// The organization that owns the pool.
    #[arg(long)]
    pub org: OrgId,
    /// 3–255 characters after trimming.
    #[arg(long, value_parser = PoolName::parse)]
    pub name: PoolName,
    /// At most 5,000 characters.
    #[arg(long, value_parser = Description::parse)]
    pub description: Option<Description>,
    /// How contacts are dispatched: FIFO, LIFO or Parallel.
    #[arg(long = "type", value_name = "TYPE", value_parser = PoolType::parse, default_value = "FIFO")]
    pub pool_type: PoolType,
    /// 1–100.
    #[arg(long, value_parser = parse_max_parallel_items, default_value = "10")]
    pub max_parallel_items: MaxParallelItems,
    /// 0–2147483647.
    #[arg(long, value_parser = parse_max_retries, default_value = "3")]
    pub max_retries: MaxRetries,
    /// Creates the pool inactive (hidden from new campaigns).
    #[arg(long)]
    pub inactive: bool,
    /// How many contacts the pool holds (the API never changes it).
    #[arg(long, default_value_t = 0)]
    pub contacts_count: u64,
}

#[derive(Debug, Subcommand)]
pub enum GuardrailPoolCommand {
    /// Creates a guardrail pool and claims its slug in the organization, together; a slug
    /// already in use there fails and writes nothing.
    Create(GuardrailPoolCreate),
}

#[derive(Debug, Clone, Args)]
pub struct GuardrailPoolCreate {
    /// The organization that owns the pool.
    #[arg(long)]
    pub org: OrgId,
    /// The brand the pool belongs to (never changes).
    #[arg(long)]
    pub brand: BrandId,
    /// 1–255 characters after trimming.
    #[arg(long, value_parser = GuardrailName::parse)]
    pub name: GuardrailName,
    /// 1–63 characters: lowercase letters and digits in groups joined by single hyphens;
    /// unique within the organization.
    #[arg(long, value_parser = Slug::parse)]
    pub slug: Slug,
}

fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).ok_or_else(|| "must be an RFC 3339 time, e.g. 2027-01-01T00:00:00Z".into())
}

fn parse_integer(s: &str) -> Result<i64, String> {
    s.parse().map_err(|_| "must be an integer".to_owned())
}

fn parse_max_parallel_items(s: &str) -> Result<MaxParallelItems, String> {
    MaxParallelItems::new(parse_integer(s)?)
}

fn parse_max_retries(s: &str) -> Result<MaxRetries, String> {
    MaxRetries::new(parse_integer(s)?)
}

/// Why a command failed: a message for stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{context}: {source}{}", source_chain(.source))]
    Store {
        context: String,
        #[source]
        source: StoreError,
    },
    #[error("{0}")]
    Failed(String),
}

/// The causes under a store error (`store unavailable: <the SDK's message>`), which a
/// terminal user needs and an API response never shows.
fn source_chain(e: &StoreError) -> String {
    let mut out = String::new();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        // SDK errors often repeat their cause's text in their own.
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

fn store_error(context: impl Into<String>) -> impl FnOnce(StoreError) -> CliError {
    let context = context.into();
    move |source| CliError::Store { context, source }
}

/// What a command prints, and whether it succeeded (`check` prints its report either way).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub output: Value,
    pub ok: bool,
}

impl Outcome {
    fn ok(output: Value) -> Self {
        Self { output, ok: true }
    }
}

/// Runs any command but `table create` (which needs the DynamoDB adapter itself).
pub async fn execute(
    command: &Command,
    store: &dyn StoreAdmin,
    now: Timestamp,
) -> Result<Outcome, CliError> {
    match command {
        Command::Table(TableCommand::Create) => Err(CliError::Usage(
            "`table create` needs a DynamoDB table; see `table_create`".into(),
        )),
        Command::Key(KeyCommand::Create(args)) => key_create(store, args).await.map(Outcome::ok),
        Command::Key(KeyCommand::Revoke(args)) => {
            key_revoke(store, &args.key_id).await.map(Outcome::ok)
        }
        Command::ContactPool(ContactPoolCommand::Create(args)) => {
            contact_pool_create(store, args, now).await.map(Outcome::ok)
        }
        Command::GuardrailPool(GuardrailPoolCommand::Create(args)) => {
            guardrail_pool_create(store, args, now)
                .await
                .map(Outcome::ok)
        }
        Command::Check => {
            let report = check(store).await?;
            Ok(Outcome {
                ok: report.problems.is_empty(),
                output: report.to_json(),
            })
        }
    }
}

/// `table create`.
pub async fn table_create(store: &DynamoStore) -> Result<Value, CliError> {
    store
        .create_table()
        .await
        .map_err(store_error(format!("creating table {}", store.table())))?;
    Ok(json!({ "table": store.table(), "status": "ACTIVE" }))
}

/// `key create`: a new key, shown only in what this returns; the store gets its hash.
pub async fn key_create(store: &dyn StoreAdmin, args: &KeyCreate) -> Result<Value, CliError> {
    let key = generate_key()
        .map_err(|e| CliError::Failed(format!("no random source for the key: {e}")))?;
    let record = ApiKeyRecord {
        key_id: new_key_id(),
        org_id: args.org,
        scopes: args.scopes.iter().cloned().collect(),
        status: KeyStatus::Active,
        expires_at: args.expires_at,
    };
    store
        .create_api_key(&KeyHash::of(&key), &record)
        .await
        .map_err(store_error("storing the key"))?;
    Ok(json!({
        "key": key,
        "key_id": record.key_id,
        "org_id": record.org_id,
        "scopes": record.scopes,
        "expires_at": record.expires_at,
    }))
}

/// `key revoke`: revoking a revoked key is fine; an unknown id is an error.
pub async fn key_revoke(store: &dyn StoreAdmin, key_id: &str) -> Result<Value, CliError> {
    match store.revoke_api_key(key_id).await {
        Ok(()) => Ok(json!({ "key_id": key_id, "status": KeyStatus::Revoked.as_str() })),
        Err(StoreError::NotFound) => Err(CliError::Failed(format!("no key with id {key_id}"))),
        Err(e) => Err(store_error(format!("revoking key {key_id}"))(e)),
    }
}

/// The pool `contact-pool create` would store (a fresh id, version 1).
pub fn new_contact_pool(args: &ContactPoolCreate, now: Timestamp) -> ContactPool {
    ContactPool {
        id: PoolId::new_v4(),
        org_id: args.org,
        name: args.name.clone(),
        description: args.description.clone(),
        pool_type: args.pool_type,
        max_parallel_items: args.max_parallel_items,
        max_retries: args.max_retries,
        is_active: !args.inactive,
        contacts_count: args.contacts_count,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// `contact-pool create`: prints the pool as the API's `data` object.
pub async fn contact_pool_create(
    store: &dyn StoreAdmin,
    args: &ContactPoolCreate,
    now: Timestamp,
) -> Result<Value, CliError> {
    let pool = new_contact_pool(args, now);
    store
        .create_contact_pool(&pool)
        .await
        .map_err(store_error("storing the contact pool"))?;
    Ok(pool.to_json())
}

/// `guardrail-pool create`: the pool and its slug claim in one write; a taken slug writes
/// nothing.
pub async fn guardrail_pool_create(
    store: &dyn StoreAdmin,
    args: &GuardrailPoolCreate,
    now: Timestamp,
) -> Result<Value, CliError> {
    let pool = GuardrailPool {
        id: PoolId::new_v4(),
        org_id: args.org,
        brand_id: args.brand,
        name: args.name.clone(),
        slug: args.slug.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    match store.create_guardrail_pool(&pool).await {
        Ok(()) => Ok(pool.to_json()),
        Err(StoreError::SlugTaken) => Err(CliError::Failed(format!(
            "slug {} is already in use in organization {}; nothing was written",
            pool.slug, pool.org_id
        ))),
        Err(e) => Err(store_error("storing the guardrail pool")(e)),
    }
}

/// What `check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Guardrail and contact pools.
    pub pools: usize,
    /// Slug claims.
    pub claims: usize,
    /// `Idempotency-Key` records (expired ones included until DynamoDB deletes them).
    pub idempotency_records: usize,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn to_json(&self) -> Value {
        json!({
            "pools": self.pools,
            "claims": self.claims,
            "idempotency_records": self.idempotency_records,
            "problems": self.problems
        })
    }
}

/// `check`: reads the whole table and lists every disagreement between pools and claims.
pub async fn check(store: &dyn StoreAdmin) -> Result<CheckReport, CliError> {
    let snapshot = store
        .snapshot()
        .await
        .map_err(store_error("reading the table"))?;
    Ok(CheckReport {
        pools: snapshot.guardrail_pools.len() + snapshot.contact_pools.len(),
        claims: snapshot.claims.len(),
        idempotency_records: snapshot.idempotency_records.len(),
        problems: problems(&snapshot),
    })
}

/// API.md §4 invariants 2, 3 and 6 over a snapshot: claims and pools agree, one pool per slug
/// per organization, every idempotency record names an applied change of an existing pool of
/// its organization; plus every item that could not be read. Sorted, so reports compare.
pub fn problems(snapshot: &StoreSnapshot) -> Vec<String> {
    use std::collections::HashMap;
    let mut problems = snapshot.unreadable.clone();
    let pools: HashMap<PoolId, &GuardrailPool> =
        snapshot.guardrail_pools.iter().map(|p| (p.id, p)).collect();
    let claims: HashMap<(OrgId, &Slug), PoolId> = snapshot
        .claims
        .iter()
        .map(|c| ((c.org_id, &c.slug), c.pool_id))
        .collect();
    for c in &snapshot.claims {
        match pools.get(&c.pool_id) {
            None => problems.push(format!(
                "slug claim {}/{} points at missing pool {}",
                c.org_id, c.slug, c.pool_id
            )),
            Some(p) if p.org_id != c.org_id || p.slug != c.slug => problems.push(format!(
                "slug claim {}/{} points at pool {} which holds {}/{}",
                c.org_id, c.slug, c.pool_id, p.org_id, p.slug
            )),
            Some(_) => {}
        }
    }
    let mut holders: HashMap<(OrgId, &Slug), Vec<PoolId>> = HashMap::new();
    for p in &snapshot.guardrail_pools {
        holders.entry((p.org_id, &p.slug)).or_default().push(p.id);
        if claims.get(&(p.org_id, &p.slug)) != Some(&p.id) {
            problems.push(format!(
                "pool {} holds slug {}/{} without its claim",
                p.id, p.org_id, p.slug
            ));
        }
    }
    for ((org, slug), ids) in holders {
        if ids.len() > 1 {
            problems.push(format!("slug {org}/{slug} is held by {} pools", ids.len()));
        }
    }
    // Invariant 6: an idempotency record names an applied change: a pool of the record's
    // organization, of the function's kind, at or past the version the change made.
    let contact: HashMap<PoolId, (OrgId, u64)> = snapshot
        .contact_pools
        .iter()
        .map(|p| (p.id, (p.org_id, p.version)))
        .collect();
    let guardrail: HashMap<PoolId, (OrgId, u64)> = snapshot
        .guardrail_pools
        .iter()
        .map(|p| (p.id, (p.org_id, p.version)))
        .collect();
    for r in &snapshot.idempotency_records {
        let pools = match r.function.as_str() {
            "update-contact-pool" => &contact,
            "patch-guardrail-pool" => &guardrail,
            other => {
                problems.push(format!(
                    "idempotency record {}/{} names an unknown function {other}",
                    r.org_id, r.key_digest
                ));
                continue;
            }
        };
        match pools.get(&r.pool_id) {
            Some((org, version)) if *org == r.org_id && *version >= r.version => {}
            Some((org, version)) => problems.push(format!(
                "idempotency record {}/{} names version {} of pool {}, which is at version {version} in organization {org}",
                r.org_id, r.key_digest, r.version, r.pool_id
            )),
            None => problems.push(format!(
                "idempotency record {}/{} names missing pool {}",
                r.org_id, r.key_digest, r.pool_id
            )),
        }
    }
    problems.sort();
    problems
}

/// Parses the command line, runs the command against `TABLE_NAME` and prints the outcome;
/// returns the process's exit status.
pub async fn main_with_args<I, T>(args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use std::process::ExitCode;
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help and --version are "errors" that print to stdout and exit 0.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let Some(table) = cli.table.filter(|t| !t.is_empty()) else {
        eprintln!("poolctl: error: no table: set TABLE_NAME or pass --table");
        return ExitCode::from(2);
    };
    // A tool for laptops: the system's roots unless TLS_ROOTS says otherwise, so a
    // TLS-inspecting proxy's root works as it does for every other program there.
    let store = match DynamoStore::from_env_trusting(table, TrustRoots::System).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("poolctl: error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Table(TableCommand::Create) => table_create(&store).await.map(Outcome::ok),
        command => {
            execute(
                command,
                &store,
                shared::clock::Clock::now(&shared::clock::SystemClock),
            )
            .await
        }
    };
    match result {
        Ok(outcome) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&outcome.output).unwrap_or_default()
            );
            if outcome.ok {
                ExitCode::SUCCESS
            } else {
                eprintln!("poolctl: error: the check found problems");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("poolctl: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("poolctl").chain(args.iter().copied()))
    }

    #[test]
    fn contact_pool_defaults_are_the_documented_ones() {
        let org = OrgId::new_v4().to_string();
        let cli = parse(&[
            "contact-pool",
            "create",
            "--org",
            &org,
            "--name",
            "  Leads  ",
        ])
        .unwrap();
        let Command::ContactPool(ContactPoolCommand::Create(a)) = cli.command else {
            panic!("{:?}", cli.command)
        };
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let p = new_contact_pool(&a, now);
        assert_eq!(p.name, "Leads");
        assert_eq!(p.description, None);
        assert_eq!(p.pool_type, PoolType::Fifo);
        assert_eq!((p.max_parallel_items.get(), p.max_retries.get()), (10, 3));
        assert!(p.is_active);
        assert_eq!((p.contacts_count, p.version), (0, 1));
        assert_eq!((p.created_at, p.updated_at), (now, now));
    }

    #[test]
    fn arguments_are_checked_by_the_api_s_own_rules() {
        let org = OrgId::new_v4().to_string();
        let brand = BrandId::new_v4().to_string();
        let cp = |extra: &[&str]| {
            let mut a = vec!["contact-pool", "create", "--org", &org, "--name", "Leads"];
            a.extend_from_slice(extra);
            parse(&a).map(|_| ())
        };
        assert!(cp(&[]).is_ok());
        for bad in [
            &["--name", "ab"][..],
            &["--type", "fifo"],
            &["--max-parallel-items", "0"],
            &["--max-parallel-items", "101"],
            &["--max-parallel-items", "2.0"],
            &["--max-retries", "-1"],
            &["--max-retries", "2147483648"],
            &["--contacts-count", "-1"],
        ] {
            assert!(cp(bad).is_err(), "{bad:?}");
        }
        assert!(cp(&["--type", "Parallel", "--max-parallel-items", "100"]).is_ok());
        let gp = |name: &str, slug: &str| {
            parse(&[
                "guardrail-pool",
                "create",
                "--org",
                &org,
                "--brand",
                &brand,
                "--name",
                name,
                "--slug",
                slug,
            ])
            .map(|_| ())
        };
        assert!(gp("Outbound", "outbound-us").is_ok());
        assert!(gp("   ", "outbound-us").is_err());
        for bad_slug in ["Outbound", "a--b", "-a", "", &"a".repeat(64)] {
            assert!(gp("Outbound", bad_slug).is_err(), "{bad_slug}");
        }
        assert!(parse(&["key", "create", "--org", "not-a-uuid"]).is_err());
        assert!(parse(&["key", "create", "--org", &org, "--scope", "pools:read"]).is_err());
        assert!(parse(&["key", "create", "--org", &org, "--expires-at", "tomorrow"]).is_err());
        assert!(parse(&[
            "key",
            "create",
            "--org",
            &org,
            "--scope",
            "pools:write",
            "--scope",
            "org:admin:write",
            "--expires-at",
            "2027-01-01T00:00:00Z"
        ])
        .is_ok());
    }
}
