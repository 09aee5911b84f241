//! The binary's command line: `serve` (default) and admin commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::config::Config;
use super::startup;

#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about = "Registration and organization invitations")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the application (the default).
    Serve,
    /// Migrate the database and exit.
    Migrate,
}

/// Entry point of the server binary.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    startup::init_tracing(cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "fatal");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let state = startup::build_state(cli.config).await?;
            let server = startup::Server::bind(state).await?;
            server.run(startup::shutdown_signal()).await
        }
        Command::Migrate => {
            let db = super::db::Db::connect(&cli.config.database_url()).await?;
            db.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
    }
}
