//! `audit-portal`: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = audit_portal::cli::Cli::parse();
    match audit_portal::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no backtrace: the cause chain joined by ": ".
            eprintln!("audit-portal: {e:#}");
            ExitCode::FAILURE
        }
    }
}
