//! The Leptos application: compiled for the browser (hydrate, csr) and for the server (ssr).
//!
//! Pages live in feature folders (`auth`, …); each folder's `actions.rs` holds its
//! `#[server]` functions, thin adapters that call `crate::server::service`.

pub mod account;
pub mod auth;
pub mod components;
pub mod home;
pub mod invitations;
pub mod invite;
pub mod join_link;
pub mod layout;
pub mod orgs;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use self::account::{
    AccountSettingsPage, EmailsPage, RecoverPage, ResetPasswordPage, SecurityPage, SessionsPage, TwoFactorPage,
    VerifyEmailPage,
};
use self::auth::{LoginPage, RegisterPage, SsoLoginPage};
use self::home::StartPage;
use self::invitations::InvitationsPage;
use self::invite::InvitePage;
use self::join_link::JoinLinkPage;
use self::layout::{Layout, NotFound};
use self::orgs::{
    AuditLogPage, AuthProviderPage, JoinRequestPage, MembersPage, NewOrganizationPage, OrgSettingsPage,
    OrganizationPage, WebhooksPage,
};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // The build's stylesheet and bundle, by their hashed names (`hash.txt`).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: routes inside the shared layout. Every route renders fully on the
/// server before the response is sent (`SsrMode::Async`), so pages work without
/// JavaScript and redirects decided while rendering are real HTTP redirects.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Title formatter=|text| format!("{text} · Gatehouse")/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=StartPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/login/") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/register/") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/login/:slug/") view=SsoLoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/new/") view=NewOrganizationPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/") view=OrganizationPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/members/") view=MembersPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/audit-log/") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/settings/") view=OrgSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/settings/auth/") view=AuthProviderPage ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/settings/webhooks/") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/join-request/:slug/") view=JoinRequestPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/2fa/") view=TwoFactorPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/verify-email/:token/") view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/security/") view=SecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/emails/") view=EmailsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/") view=AccountSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/sessions/") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/recover/") view=RecoverPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/recover/confirm/:user_id/:token/") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/accept/:member_id/:token/") view=InvitePage ssr=SsrMode::Async/>
                    <Route path=path!("/accept/:org_slug/:member_id/:token/") view=InvitePage ssr=SsrMode::Async/>
                    <Route path=path!("/invitations/") view=InvitationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/join/:token/") view=JoinLinkPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Sets `<body data-hydrated="true">` once the app runs in the browser, so browser tests
/// know when the page is interactive. Effects never run on the server.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
