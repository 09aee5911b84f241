//! Server functions behind the account forms. Each is an adapter: it takes the state and
//! the session, calls one use case of `crate::server::service::accounts` and maps its error.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::wire::{AppError, UserView};

/// What the registration page needs before it renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterPageInfo {
    /// Registration is possible for this browser session (SPEC §4.1).
    pub possible: bool,
    /// Someone is already signed in.
    pub signed_in: bool,
    /// The address to pre-fill (from a pending invite).
    pub email: Option<String>,
}

/// What the login page needs before it renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPageInfo {
    /// Show the link to the registration page.
    pub registration_possible: bool,
    /// How a single sign-on attempt that could not go back to its organization ended.
    pub notice: Option<String>,
}

/// The signed-in user, or `None`.
#[server(prefix = "/_fn", endpoint = "auth/current-user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::accounts::{self, CurrentUserError};
    let (state, session) = sfn::context().await?;
    match accounts::current_user(&state, &session).await {
        Ok(user) => Ok(Some(sfn::user_view(&user))),
        Err(CurrentUserError::Anonymous) => Ok(None),
        Err(CurrentUserError::Internal(err)) => Err(sfn::internal(err)),
    }
}

/// Where `/` takes the visitor: their first organization, the page to create one, or the
/// login page when anonymous.
#[server(prefix = "/_fn", endpoint = "auth/landing")]
pub async fn landing_path() -> Result<String, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::accounts::{self, CurrentUserError};
    let (state, session) = sfn::context().await?;
    match accounts::current_user(&state, &session).await {
        Ok(user) => accounts::landing_path(&state, &user).await.map_err(|e| sfn::internal(e.into())),
        Err(CurrentUserError::Anonymous) => Ok("/auth/login/".to_owned()),
        Err(CurrentUserError::Internal(err)) => Err(sfn::internal(err)),
    }
}

#[server(prefix = "/_fn", endpoint = "auth/register-page")]
pub async fn register_page_data() -> Result<RegisterPageInfo, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let possible = accounts::registration_possible(&state, &session).await.map_err(sfn::register_error)?;
    let signed_in = accounts::current_user(&state, &session).await.is_ok();
    let email = crate::server::auth::session::pending_invite(&session).await.ok().flatten().map(|p| p.email);
    Ok(RegisterPageInfo { possible, signed_in, email })
}

#[server(prefix = "/_fn", endpoint = "auth/login-page")]
pub async fn login_page_data() -> Result<LoginPageInfo, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let registration_possible = accounts::registration_possible(&state, &session).await.map_err(sfn::register_error)?;
    let notice = crate::server::auth::session::take_sso_notice(&session).await.map_err(|e| sfn::internal(e.into()))?;
    Ok(LoginPageInfo { registration_possible, notice })
}

/// The registration form. On success the browser lands where the use case says.
#[server(prefix = "/_fn", endpoint = "auth/register")]
pub async fn register(email: String, name: String, password: String) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::http::sfn;
    use crate::server::service::accounts::{self, RegisterInput};
    let (state, session) = sfn::context().await?;
    let values = sfn::values([("email", &email), ("name", &name)]);
    let input = RegisterInput { email, name, password: Password::new(password) };
    let ip = sfn::client_ip().await;
    match accounts::register(&state, &session, input, ip.as_deref()).await {
        Ok(signed) => {
            leptos_axum::redirect(&signed.redirect_to);
            Ok(())
        }
        Err(err) => Err(sfn::with_values(sfn::register_error(err), values)),
    }
}

/// The login form. `next` is honoured only for paths on this site.
#[server(prefix = "/_fn", endpoint = "auth/login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::http::sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let values = sfn::values([("username", &username)]);
    let ip = sfn::client_ip().await;
    match accounts::login(&state, &session, &username, &Password::new(password), next.as_deref(), ip.as_deref()).await {
        Ok(signed) => {
            leptos_axum::redirect(&signed.redirect_to);
            Ok(())
        }
        Err(err) => Err(sfn::with_values(sfn::login_error(err), values)),
    }
}

/// Signs out and goes to the login page.
#[server(prefix = "/_fn", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::http::sfn;
    use crate::server::service::accounts;
    let (_, session) = sfn::context().await?;
    accounts::logout(&session).await.map_err(|e| sfn::internal(e.into()))?;
    leptos_axum::redirect("/auth/login/");
    Ok(())
}
