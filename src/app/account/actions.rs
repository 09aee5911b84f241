//! Server functions of the account pages: second factor, email verification, the second
//! login step. Adapters over `server::service::{two_factor, emails}`.

use leptos::prelude::*;

use crate::app::wire::{AppError, EmailsView, SecurityView};

/// The security page: the second-factor state, an enrolment to confirm, or the recovery
/// codes of an enrolment just confirmed (shown once).
#[server(prefix = "/_fn", endpoint = "account/security")]
pub async fn security_page() -> Result<SecurityView, AppError> {
    use crate::server::auth::session;
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::{sso, two_factor};
    let (state, session, user) = sfn::user_context().await?;
    let status = two_factor::status(&state, &user).await?;
    let identities = sso::identities(&state, &user).await?.into_iter().map(views::identity).collect();
    let linkable = sso::linkable(&state, &user).await?.into_iter().map(views::linkable).collect();
    let fresh = session::take_enrolment_result(&session).await?;
    let mut view = SecurityView {
        email: user.email.clone(),
        enrolled: status.enrolled,
        unused_recovery_codes: status.unused_recovery_codes,
        secret: None,
        qr_svg: None,
        fresh_recovery_codes: Vec::new(),
        joined: None,
        identities,
        linkable,
    };
    if let Some(fresh) = fresh {
        view.fresh_recovery_codes = fresh.recovery_codes;
        view.joined = fresh.joined;
    }
    if !status.enrolled {
        let enrolment = two_factor::start_enrolment(&state, &session, &user).await?;
        view.secret = Some(enrolment.secret);
        view.qr_svg = Some(enrolment.qr_svg);
    }
    Ok(view)
}

/// Unlinks the account's identity at an organization's provider (security page).
#[server(prefix = "/_fn", endpoint = "account/identity-unlink")]
pub async fn unlink_identity(slug: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    let (state, _, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    crate::server::service::sso::unlink(&state, &user, &slug, ip.as_deref()).await?;
    leptos_axum::redirect("/settings/account/security/");
    Ok(())
}

/// Confirms the enrolment offered on the security page with a current code.
#[server(prefix = "/_fn", endpoint = "account/totp-confirm")]
pub async fn confirm_totp(otp: String) -> Result<(), AppError> {
    use crate::server::auth::session::{self, EnrolmentResult};
    use crate::server::server_fns as sfn;
    use crate::server::service::two_factor;
    let (state, session, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    let enrolled = two_factor::confirm_enrolment(&state, &session, &user, "", &otp, ip.as_deref()).await?;
    let result =
        EnrolmentResult { recovery_codes: enrolled.recovery_codes, joined: enrolled.joined.map(|o| (o.slug, o.name)) };
    session::set_enrolment_result(&session, &result).await?;
    leptos_axum::redirect("/settings/account/security/");
    Ok(())
}

/// Whether a login waits for its second factor in this session.
#[server(prefix = "/_fn", endpoint = "auth/2fa-page")]
pub async fn second_factor_pending() -> Result<bool, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::two_factor;
    let (_, session) = sfn::context().await?;
    Ok(two_factor::pending_login(&session).await?.is_some())
}

/// The second login step: a code or a recovery code.
#[server(prefix = "/_fn", endpoint = "auth/2fa")]
pub async fn second_factor(otp: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::two_factor;
    let (state, session) = sfn::context().await?;
    let signed = two_factor::second_step(&state, &session, &otp).await?;
    leptos_axum::redirect(&signed.redirect_to);
    Ok(())
}

/// The email settings page.
#[server(prefix = "/_fn", endpoint = "account/emails")]
pub async fn emails_page() -> Result<EmailsView, AppError> {
    use crate::server::server_fns as sfn;
    let (_, _, user) = sfn::user_context().await?;
    Ok(EmailsView { email: user.email, verified: user.email_verified })
}

/// Sends a new verification email.
#[server(prefix = "/_fn", endpoint = "account/emails-resend")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::emails;
    let (state, _, user) = sfn::user_context().await?;
    emails::resend(&state, &user).await?;
    leptos_axum::redirect("/settings/account/emails/?sent=1");
    Ok(())
}

/// The address a verification link would confirm (changes nothing).
#[server(prefix = "/_fn", endpoint = "account/verify-inspect")]
pub async fn inspect_verification(token: String) -> Result<String, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::emails;
    let (state, _) = sfn::context().await?;
    Ok(emails::inspect(&state, &token).await?)
}

/// Confirms an address from its link; with an invite pending that this unblocks, joins.
#[server(prefix = "/_fn", endpoint = "account/verify")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::emails;
    let (state, session) = sfn::context().await?;
    let user = emails::verify(&state, &token).await?;
    let ip = sfn::client_ip().await;
    let joined = emails::accept_pending(&state, &session, &user, ip.as_deref()).await?;
    match joined {
        Some(org) => leptos_axum::redirect(&format!("/organizations/{}/", org.slug)),
        None => leptos_axum::redirect("/settings/account/emails/?verified=1"),
    }
    Ok(())
}
