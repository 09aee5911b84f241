//! The binary's command line: `serve` (default) and admin commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::config::Config;
use super::db::users::{self, UserRow};
use super::domain::Password;
use super::service::invites::{self, InviteInput};
use super::service::{accounts, organizations};
use super::startup;
use super::state::AppState;

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
    /// Create a user (asks nothing: the password comes from GATEHOUSE_PASSWORD or --password).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, env = "GATEHOUSE_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the user a superuser.
        #[arg(long)]
        superuser: bool,
    },
    /// Create an organization owned by an existing user.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
        /// Email of the owner.
        #[arg(long)]
        owner: String,
    },
    /// Invite an address to an organization; prints the invite link.
    Invite {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = crate::model::Role::Member.as_str())]
        role: String,
        /// Email of the inviting owner or manager.
        #[arg(long)]
        inviter: String,
        /// Do not queue the invite email.
        #[arg(long)]
        no_email: bool,
    },
    /// Delete pending invites that expired more than DAYS days ago.
    CleanupInvites {
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
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
        command => admin(startup::build_state(cli.config).await?, command).await,
    }
}

async fn user_by_email(state: &AppState, email: &str) -> anyhow::Result<UserRow> {
    users::find_by_email(&mut *state.db.conn().await?, &email.trim().to_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))
}

async fn admin(state: AppState, command: Command) -> anyhow::Result<()> {
    match command {
        Command::CreateUser { email, name, password, superuser } => {
            let user = accounts::create_user(&state, &email, &name, &Password::new(password), superuser)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!("created user {} ({}){}", user.id, user.email, if superuser { ", superuser" } else { "" });
        }
        Command::CreateOrg { name, slug, owner } => {
            let owner = user_by_email(&state, &owner).await?;
            let org = organizations::create(&state, &owner, &name, slug.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!("created organization {} owned by {}", org.slug, owner.email);
        }
        Command::Invite { org, email, role, inviter, no_email } => {
            let inviter = user_by_email(&state, &inviter).await?;
            let input = InviteInput { email, role: Some(role), send_invite: !no_email, ..InviteInput::default() };
            let (row, link) =
                invites::create(&state, &inviter, &org, input).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if !no_email {
                state.mailer.deliver_due(&state.db).await?;
            }
            println!("invited {} (member {}): {link}", row.email.unwrap_or_default(), row.id);
        }
        Command::CleanupInvites { days } => {
            let deleted = invites::cleanup_expired(&state, days).await?;
            println!("deleted {deleted} expired invite(s)");
        }
        Command::Serve | Command::Migrate => unreachable!("handled by run"),
    }
    state.db.close().await;
    Ok(())
}
