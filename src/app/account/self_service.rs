//! Server functions of account self-service (SPEC §4.5–§4.7, §6): the forgotten password,
//! the account settings, the signed-in sessions, the second factor's later life.
//! Adapters over `server::service::account`; each form's success ends in a redirect, so
//! a form posted without JavaScript lands on the same page as a hydrated one.

use leptos::prelude::*;

use crate::app::wire::{AccountView, AppError, SessionView};

// ---------------------------------------------------------------------------------------
// The forgotten password (SPEC §4.5)

/// Asks for a reset link. The answer is the same whether or not the address has an
/// account; the address is not echoed through the URL.
#[server(prefix = "/_fn", endpoint = "account/recover")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, _) = sfn::context().await?;
    let values = sfn::values([("email", &email)]);
    let ip = sfn::client_ip().await;
    account::request_reset(&state, &email, ip.as_deref()).await.map_err(|err| sfn::with_values(err, values))?;
    leptos_axum::redirect("/account/recover/?sent=1");
    Ok(())
}

/// The address of the account a reset link is for, when the link can still be used
/// (opening the link changes nothing).
#[server(prefix = "/_fn", endpoint = "account/recover-check")]
pub async fn reset_link(user_id: i64, token: String) -> Result<String, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, _) = sfn::context().await?;
    Ok(account::check_reset_link(&state, user_id, &token).await?.email)
}

/// Sets a new password through a reset link, then signs in (or goes to the second step).
#[server(prefix = "/_fn", endpoint = "account/recover-confirm")]
pub async fn reset_password(user_id: i64, token: String, password: String) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, session) = sfn::context().await?;
    let signed = account::reset_password(&state, &session, user_id, &token, &Password::new(password)).await?;
    leptos_axum::redirect(&signed.redirect_to);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Name, address, password, leaving (SPEC §4.5, §4.7)

/// The account settings page.
#[server(prefix = "/_fn", endpoint = "account/settings")]
pub async fn account_settings() -> Result<AccountView, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    let (_, _, user) = sfn::user_context().await?;
    Ok(views::account(&user))
}

#[server(prefix = "/_fn", endpoint = "account/rename")]
pub async fn rename_account(name: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("name", &name)]);
    account::rename(&state, &user, &name).await.map_err(|err| sfn::with_values(err, values))?;
    leptos_axum::redirect("/settings/account/?done=name");
    Ok(())
}

/// Sends the link that moves the account to `email`. Returns the new address (the
/// hydrated page names it in its notice).
#[server(prefix = "/_fn", endpoint = "account/email-change")]
pub async fn change_email(email: String, password: String) -> Result<String, AppError> {
    use crate::server::domain::{EmailAddress, Password};
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("email", &email)]);
    let ip = sfn::client_ip().await;
    account::request_email_change(&state, &user, &email, &Password::new(password), ip.as_deref())
        .await
        .map_err(|err| sfn::with_values(err, values))?;
    leptos_axum::redirect("/settings/account/?done=email");
    Ok(EmailAddress::parse(&email).map(|e| e.as_str().to_owned()).unwrap_or(email))
}

/// The current password (errors under `password`) and the new one (`passwordNew`).
#[server(prefix = "/_fn", endpoint = "account/password-change")]
pub async fn change_password(password: String, password_new: String) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, session, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    let (current, new) = (Password::new(password), Password::new(password_new));
    account::change_password(&state, &session, &user, &current, &new, ip.as_deref()).await?;
    leptos_axum::redirect("/settings/account/?done=password");
    Ok(())
}

/// What the unticked confirmation box says.
pub const CONFIRM_DELETE: &str = "Tick this box to confirm that you want to delete your account.";

/// Deletes the account; `confirm` is the ticked box ("I understand…"), posted as `on`.
#[server(prefix = "/_fn", endpoint = "account/delete")]
pub async fn delete_account(password: String, confirm: Option<String>) -> Result<(), AppError> {
    use crate::server::domain::{FieldErrors, Password};
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    use crate::server::service::problem::Problem;
    let (state, session, user) = sfn::user_context().await?;
    if confirm.as_deref() != Some("on") {
        return Err(Problem::invalid(FieldErrors::single("confirm", CONFIRM_DELETE)).into());
    }
    let ip = sfn::client_ip().await;
    account::delete_account(&state, &session, &user, &Password::new(password), ip.as_deref()).await?;
    leptos_axum::redirect("/auth/login/");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sessions (SPEC §4.6)

/// The user's signed-in sessions, this one first.
#[server(prefix = "/_fn", endpoint = "account/sessions")]
pub async fn account_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::account;
    let (state, session, user) = sfn::user_context().await?;
    Ok(account::sessions(&state, &session, &user).await?.into_iter().map(views::session).collect())
}

/// Signs out one session, named by its public id; signing out this one is signing out.
#[server(prefix = "/_fn", endpoint = "account/session-end")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::{account, accounts};
    let (state, session, user) = sfn::user_context().await?;
    account::end_session(&state, &session, &user, &id).await?;
    if accounts::signed_in(&state, &session).await?.is_none() {
        leptos_axum::redirect("/auth/login/");
    } else {
        leptos_axum::redirect("/settings/account/sessions/?ended=1");
    }
    Ok(())
}

/// Signs out every other session. Returns how many ended.
#[server(prefix = "/_fn", endpoint = "account/sessions-end-others")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, session, user) = sfn::user_context().await?;
    let ended = account::end_other_sessions(&state, &session, &user).await?;
    leptos_axum::redirect(&format!("/settings/account/sessions/?ended={ended}"));
    Ok(ended)
}

// ---------------------------------------------------------------------------------------
// The second factor's later life (SPEC §6)

/// New recovery codes; the security page shows them once, as after an enrolment.
#[server(prefix = "/_fn", endpoint = "account/recovery-codes-renew")]
pub async fn renew_recovery_codes(password: String) -> Result<(), AppError> {
    use crate::server::auth::session::{self, EnrolmentResult};
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, session, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    let recovery_codes = account::renew_recovery_codes(&state, &user, &Password::new(password), ip.as_deref()).await?;
    session::set_enrolment_result(&session, &EnrolmentResult { recovery_codes, joined: None }).await?;
    leptos_axum::redirect("/settings/account/security/?renewed=1");
    Ok(())
}

/// Turns two-factor authentication off (refused while an organization requires it).
#[server(prefix = "/_fn", endpoint = "account/totp-disable")]
pub async fn disable_two_factor(password: String) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::account;
    let (state, _, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    account::disable_two_factor(&state, &user, &Password::new(password), ip.as_deref()).await?;
    leptos_axum::redirect("/settings/account/security/?off=1");
    Ok(())
}
