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
    /// The organization of the join link pending in this session (SPEC §5.9).
    pub joining: Option<String>,
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
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    Ok(accounts::signed_in(&state, &session).await?.as_ref().map(views::user))
}

/// Where `/` takes the visitor: their first organization, the page to create one, or the
/// login page when anonymous.
#[server(prefix = "/_fn", endpoint = "auth/landing")]
pub async fn landing_path() -> Result<String, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    match accounts::signed_in(&state, &session).await? {
        Some(user) => Ok(accounts::landing_path(&state, &user).await?),
        None => Ok("/auth/login/".to_owned()),
    }
}

#[server(prefix = "/_fn", endpoint = "auth/register-page")]
pub async fn register_page_data() -> Result<RegisterPageInfo, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let page = accounts::register_page(&state, &session).await?;
    Ok(RegisterPageInfo {
        possible: page.possible,
        signed_in: page.signed_in,
        email: page.invited_email,
        joining: page.joining,
    })
}

#[server(prefix = "/_fn", endpoint = "auth/login-page")]
pub async fn login_page_data() -> Result<LoginPageInfo, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let page = accounts::login_page(&state, &session).await?;
    Ok(LoginPageInfo { registration_possible: page.registration_possible, notice: page.notice })
}

/// The registration form. On success the browser lands where the use case says. `join`
/// (the checkbox shown with a join link pending, posted as `on` when ticked) joins the
/// link's organization in the same step.
#[server(prefix = "/_fn", endpoint = "auth/register")]
pub async fn register(email: String, name: String, password: String, join: Option<String>) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts::{self, RegisterInput};
    let (state, session) = sfn::context().await?;
    let mut values = sfn::values([("email", &email), ("name", &name)]);
    if join.is_some() {
        values.insert("join".to_owned(), "on".to_owned());
    }
    let input = RegisterInput { email, name, password: Password::new(password), join_link: join.is_some() };
    let ip = sfn::client_ip().await;
    match accounts::register(&state, &session, input, ip.as_deref()).await {
        Ok(signed) => {
            leptos_axum::redirect(&signed.redirect_to);
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// The login form. `next` is honoured only for paths on this site.
#[server(prefix = "/_fn", endpoint = "auth/login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (state, session) = sfn::context().await?;
    let values = sfn::values([("username", &username)]);
    let ip = sfn::client_ip().await;
    match accounts::login(&state, &session, &username, &Password::new(password), next.as_deref(), ip.as_deref()).await {
        Ok(signed) => {
            leptos_axum::redirect(&signed.redirect_to);
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Signs out and goes to the login page.
#[server(prefix = "/_fn", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (_, session) = sfn::context().await?;
    accounts::logout(&session).await?;
    leptos_axum::redirect("/auth/login/");
    Ok(())
}
