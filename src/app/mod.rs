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
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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
    OrganizationPage,
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
                    <Route path=path!("/") view={Lazy::<StartRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/auth/login/") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/auth/register/") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/auth/login/:slug/") view={Lazy::<SsoLoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/new/") view={Lazy::<NewOrganizationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/") view={Lazy::<OrganizationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/members/") view={Lazy::<MembersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/audit-log/") view={Lazy::<AuditLogRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/settings/") view={Lazy::<OrgSettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/organizations/:slug/settings/auth/") view={Lazy::<AuthProviderRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/join-request/:slug/") view={Lazy::<JoinRequestRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/auth/2fa/") view={Lazy::<TwoFactorRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/auth/verify-email/:token/") view={Lazy::<VerifyEmailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/security/") view={Lazy::<SecurityRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/emails/") view={Lazy::<EmailsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/") view={Lazy::<AccountSettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/account/sessions/") view={Lazy::<SessionsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account/recover/") view={Lazy::<RecoverRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account/recover/confirm/:user_id/:token/") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/accept/:member_id/:token/") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/accept/:org_slug/:member_id/:token/") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/invitations/") view={Lazy::<InvitationsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/join/:token/") view={Lazy::<JoinLinkRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// A page whose code is downloaded when it is first shown: with `cargo leptos build
/// --split` its view is a WebAssembly chunk of its own (code two pages share goes to a
/// shared chunk), so a first visit downloads the runtime, the layout and that page only —
/// the sign-in page never carries the organization, settings and account pages, nor the
/// invite page. The chunk of the page being loaded is preloaded by the HTML and fetched
/// before hydration (`hydrate_lazy`). On the server nothing changes.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(StartRoute, StartPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(RegisterRoute, RegisterPage);
lazy_page!(SsoLoginRoute, SsoLoginPage);
lazy_page!(JoinLinkRoute, JoinLinkPage);
lazy_page!(InviteRoute, InvitePage);
lazy_page!(NewOrganizationRoute, NewOrganizationPage);
lazy_page!(OrganizationRoute, OrganizationPage);
lazy_page!(MembersRoute, MembersPage);
lazy_page!(AuditLogRoute, AuditLogPage);
lazy_page!(OrgSettingsRoute, OrgSettingsPage);
lazy_page!(AuthProviderRoute, AuthProviderPage);
lazy_page!(JoinRequestRoute, JoinRequestPage);
lazy_page!(TwoFactorRoute, TwoFactorPage);
lazy_page!(VerifyEmailRoute, VerifyEmailPage);
lazy_page!(SecurityRoute, SecurityPage);
lazy_page!(EmailsRoute, EmailsPage);
lazy_page!(AccountSettingsRoute, AccountSettingsPage);
lazy_page!(SessionsRoute, SessionsPage);
lazy_page!(RecoverRoute, RecoverPage);
lazy_page!(ResetPasswordRoute, ResetPasswordPage);
lazy_page!(InvitationsRoute, InvitationsPage);

/// Sets `<body data-hydrated="true">` once the app runs in the browser, so browser tests
/// know when the page is interactive. Effects never run on the server.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
