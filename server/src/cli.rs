//! The command line: `serve` (default), `worker`, `migrate`, `check-config`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};
use crate::startup::{self, Database};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "audit-portal",
    version,
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
        Command::Migrate => {
            telemetry::init(settings.log_format);
            let database = Database::open(&settings).await?;
            tracing::info!("migrations applied");
            database.close().await;
            Ok(())
        }
    }
}
