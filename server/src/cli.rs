//! The command line: `serve` (default), `worker`, `migrate`, `check-config`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};
use crate::phases::import::{PlanDraft, normalise_number, parse_plan};
use crate::startup::{self, Database};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "audit-portal",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("AUDIT_GIT_COMMIT"), ")"),
    about = "Audit Portal: production readiness from evidence"
)]
pub struct Cli {
    /// TOML configuration file; environment variables override its values.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log as JSON lines instead of text (same as AUDIT_LOG_FORMAT=json).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (and run the worker, unless AUDIT_WORKER_IN_SERVE=false).
    Serve,
    /// Run the background refresher alone.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted, and exit.
    CheckConfig,
    /// Import a phase plan written in Markdown: print what was understood, then write it.
    ImportPhase {
        /// The plan's Markdown file.
        plan: PathBuf,
        /// Print what would be imported and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The phase number, when the plan does not state one (e.g. PHASE-03).
        #[arg(long)]
        number: Option<String>,
    },
    /// Exit 0 when the portal on AUDIT_LISTEN answers /readyz, 1 otherwise (for a container's
    /// HEALTHCHECK, which then needs no curl or wget in the image).
    Healthcheck,
    /// API tokens for machines (backup scripts, Prometheus).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print its secret, once.
    Create {
        /// What the token is for; shown in the audit trail, e.g. nightly-backup.
        #[arg(long)]
        name: String,
        /// heartbeat or read; repeat or separate with commas for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until it stops working; none: it works until revoked.
        #[arg(long)]
        expires_days: Option<i64>,
    },
}

/// Runs the command; errors come back to `main`, which prints them on one line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if cli.log_json {
        settings.log_format = LogFormat::Json;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            println!("{}", settings.describe());
            Ok(())
        }
        Command::Serve => {
            telemetry::init(settings.log_format);
            startup::run_serve(settings).await
        }
        Command::Worker => {
            telemetry::init(settings.log_format);
            startup::run_worker(settings).await
        }
        Command::ImportPhase {
            plan,
            dry_run,
            number,
        } => import_phase(&settings, &plan, dry_run, number).await,
        Command::Healthcheck => healthcheck(&settings).await,
        Command::Token {
            action:
                TokenAction::Create {
                    name,
                    scopes,
                    expires_days,
                },
        } => create_token(&settings, &name, &scopes, expires_days).await,
        Command::Migrate => {
            telemetry::init(settings.log_format);
            let database = Database::open(&settings).await?;
            tracing::info!("migrations applied");
            database.close().await;
            Ok(())
        }
    }
}

/// What the importer understood, in a few lines a person can check before writing.
fn describe_plan(draft: &PlanDraft, number: Option<&str>) -> String {
    let checked = draft.items.iter().filter(|i| i.checked).count();
    let mut out = format!(
        "{} \"{}\": {} checklist items ({checked} checked), {} objectives, {} success criteria",
        number.unwrap_or("(no phase number)"),
        draft.title,
        draft.items.len(),
        draft.objectives.len(),
        draft.criteria.len()
    );
    if let Some(g) = draft.claimed_grade {
        out.push_str(&format!("; claims {}.{:02} at its start", g / 100, g % 100));
    }
    if let Some(g) = draft.target_grade {
        out.push_str(&format!("; target grade {}.{:02}", g / 100, g % 100));
    }
    if let Some(d) = draft.starts_on {
        out.push_str(&format!("; starts {d}"));
    }
    if let Some(d) = draft.due_on {
        out.push_str(&format!("; due {d}"));
    }
    for item in &draft.items {
        out.push_str(&format!(
            "\n  [{}] {}{}{}",
            if item.checked { "x" } else { " " },
            "  ".repeat(usize::from(item.depth)),
            if item.headings.is_empty() {
                String::new()
            } else {
                format!("{} › ", item.headings.join(" › "))
            },
            item.text
        ));
    }
    for note in &draft.notes {
        out.push_str(&format!("\nnote: {note}"));
    }
    out
}

async fn import_phase(
    settings: &Settings,
    path: &std::path::Path,
    dry_run: bool,
    number: Option<String>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let draft = parse_plan(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let number = match number {
        Some(n) => Some(normalise_number(&n).ok_or_else(|| {
            anyhow::anyhow!("--number {n} is not a phase number (e.g. PHASE-03)")
        })?),
        None => draft.number.clone(),
    };
    println!("{}", describe_plan(&draft, number.as_deref()));
    if dry_run {
        println!("dry run: nothing written");
        return Ok(());
    }
    telemetry::init(settings.log_format);
    let database = Database::open(settings).await?;
    let actor = crate::auth::SessionUser::command_line();
    let source = crate::phases::mojibake::decode(&bytes).0;
    let outcome = crate::phases::write::import_plan(
        &database.pool,
        settings,
        &draft,
        number,
        &source,
        &actor,
    )
    .await;
    database.close().await;
    match outcome.map_err(|e| anyhow::anyhow!("{e}"))? {
        crate::phases::write::Imported::Created { id, number } => {
            println!("imported as {number} (phase {id})");
            Ok(())
        }
        crate::phases::write::Imported::Refused(reason) => anyhow::bail!("{reason}"),
    }
}

async fn create_token(
    settings: &Settings,
    name: &str,
    scopes: &[String],
    expires_days: Option<i64>,
) -> anyhow::Result<()> {
    use crate::auth::tokens;
    let scopes = tokens::parse_scopes(scopes.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    let database = Database::open(settings).await?;
    let actor = crate::auth::SessionUser::command_line();
    let created = tokens::create(&database.pool, name, &scopes, expires_days, &actor).await;
    database.close().await;
    let secret = created.map_err(|e| anyhow::anyhow!("{e}"))?;
    // The secret alone on stdout, so that `$(audit-portal token create ...)` captures it.
    eprintln!("token '{name}' created; its secret is shown this once:");
    println!("{secret}");
    Ok(())
}

/// Asks the portal on this machine whether it is ready. A wildcard listen address is reached
/// on loopback.
async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let mut addr = settings.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .no_proxy()
        .build()?;
    let url = format!("http://{addr}/readyz");
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: no answer ({e})"))?;
    if response.status().is_success() {
        println!("ready");
        Ok(())
    } else {
        anyhow::bail!("{url} answered {}", response.status())
    }
}
