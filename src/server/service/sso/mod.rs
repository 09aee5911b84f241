//! Single sign-on through an organization's OpenID Connect provider: the provider's
//! configuration (owners), the sign-in flow, identity linking and joining the organization
//! on the way back (SPEC §2, §3, §5.3 step 7, §9.1, §9.10).
//!
//! Rules, in the order the callback applies them:
//! 1. A flow starts only from a same-site `POST` with an intent (`login`, or `link` with
//!    the account's password), recorded in the session; the callback is trusted only with
//!    the `state` of that flow, once, within [`FLOW_TTL_SECS`]; the ID token is validated
//!    fully (`auth::oidc`).
//! 2. The account (`domain::sso::choose_account`): a `link` flow links the identity to the
//!    account that started it, if it is still the one signed in; a `login` flow signs in
//!    the account the identity is already linked to, or creates one for a verified email
//!    nobody has — never an existing account just because the email matches, and only
//!    when `APP_REGISTRATION` and the organization's invites allow it.
//! 3. The sign-in through the provider is recorded in the session: it is what lets the
//!    session use an organization that requires SSO, for 20 hours.
//! 4. The organization: the invite pending in the session when it was addressed to this
//!    account (or the address the provider proved), else an approved invite for the
//!    verified email, else just-in-time membership with the default role when the
//!    provider allows it. Requests stay requests until an owner or manager approves them.
//!
//! The parts: `settings` (the provider an owner manages), `flow` (starting a sign-in and
//! the provider's callback), `accounts` (rule 2, and the identities of an account),
//! `joining` (rule 4).

mod accounts;
mod flow;
mod joining;
mod settings;

pub use accounts::{identities, linkable, unlink, LinkedIdentity};
pub use flow::{callback, login_page, start, CallbackParams, Finished, LoginPage, FLOW_TTL_SECS};
pub use settings::{remove, save, settings, ProviderInput, ProviderSettings};

use super::accept::AcceptError;
use super::internal_errors;
use super::organizations::OrgError;
use crate::server::auth::oidc::ProviderConfig;
use crate::server::auth::sealed::SealingKey;
use crate::server::db::sso::ProviderRow;
use crate::server::domain::FieldErrors;
use crate::server::service::problem::{Failure, Kind, Problem, INVALID};
use crate::server::state::AppState;

/// The path the provider returns to; the one redirect URI an operator registers.
pub const CALLBACK_PATH: &str = "/auth/sso/callback/";

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No such organization, or it has no identity provider.
    #[error("This organization does not use single sign-on.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    /// The sign-in did not happen; the sentence tells the user why and what to do.
    #[error("{message}")]
    Refused { reason: &'static str, message: String },
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(SsoError: sqlx::Error, tower_sessions::session::Error);

impl Failure for SsoError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::Forbidden(_) => Problem::new(Kind::Forbidden, "forbidden", sentence),
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::Refused { reason, .. } => Problem::new(Kind::Refused, reason, sentence),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

impl From<OrgError> for SsoError {
    fn from(err: OrgError) -> Self {
        match err {
            OrgError::NotFound => Self::NotFound,
            OrgError::Forbidden(why) => Self::Forbidden(why),
            OrgError::Invalid(fields) => Self::Invalid(fields),
            other @ OrgError::SsoRequired { .. } => {
                Self::Refused { reason: "sso_required", message: other.to_string() }
            }
            OrgError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<AcceptError> for SsoError {
    fn from(err: AcceptError) -> Self {
        match err {
            AcceptError::Internal(err) => Self::Internal(err),
            refused => Self::Refused { reason: "invite_refused", message: refused.to_string() },
        }
    }
}

fn refused(reason: &'static str, message: impl Into<String>) -> SsoError {
    SsoError::Refused { reason, message: message.into() }
}

const STALE: &str = "This sign-in link has already been used or has expired. Please start again.";

/// The URL the provider sends the browser back to.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", state.config.public_url())
}

fn sealing_key(state: &AppState) -> SealingKey {
    SealingKey::derive(&state.secret)
}

fn provider_config(state: &AppState, provider: &ProviderRow) -> Result<ProviderConfig, SsoError> {
    let client_secret =
        sealing_key(state).open(provider.organization_id, &provider.client_secret_sealed).map_err(|err| {
            SsoError::Internal(anyhow::anyhow!("client secret of organization {}: {err}", provider.organization_id))
        })?;
    Ok(ProviderConfig { issuer: provider.issuer.clone(), client_id: provider.client_id.clone(), client_secret })
}
