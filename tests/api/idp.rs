//! A real OpenID Connect provider for the SSO tests: the npm package `oidc-provider`,
//! configured by `end2end/oidc/provider.mjs`, started on a free loopback port for one
//! test and stopped with it. Its test controls add users, alter the next ID tokens and
//! rotate its signing key.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::harness::TestApp;

pub const CLIENT_ID: &str = "gatehouse-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";

/// The provider process; killed when dropped (and it exits by itself when our end of
/// its stdin closes, should this process die first).
pub struct Idp {
    pub issuer: String,
    child: Child,
    http: Client,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// Starts a provider whose one client may redirect to `app`'s callback.
    pub async fn start(app: &TestApp) -> Idp {
        let root = env!("CARGO_MANIFEST_DIR");
        let script = format!("{root}/end2end/oidc/provider.mjs");
        assert!(
            std::path::Path::new(&format!("{root}/end2end/node_modules/oidc-provider")).exists(),
            "end2end/node_modules is missing: run scripts/setup (npm ci in end2end) first"
        );
        let mut child = Command::new("node")
            .arg(&script)
            .args(["--port", "0", "--exit-with-stdin", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(["--redirect-uri", &app.url("/auth/sso/callback/")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node end2end/oidc/provider.mjs");
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .unwrap()
        .expect("read the provider's READY line");
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected provider output {line:?}"))
            .to_owned();
        Idp { issuer, child, http: Client::new() }
    }

    async fn control(&self, path: &str, body: serde_json::Value) {
        let res = self.http.post(format!("{}{path}", self.issuer)).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{path}");
    }

    /// Adds a person to the provider's directory.
    pub async fn add_user(&self, sub: &str, email: &str, verified: bool, name: &str, password: &str) {
        self.control(
            "/__test/users",
            json!({"sub": sub, "email": email, "email_verified": verified, "name": name, "password": password}),
        )
        .await;
    }

    /// Alters the ID token of the following token responses (`none` stops).
    pub async fn tamper(&self, mode: &str) {
        self.control("/__test/tamper", json!({"mode": mode})).await;
    }

    /// A new signing key with a new `kid`; the old key leaves the JWKS.
    pub async fn rotate(&self) {
        self.control("/__test/rotate", json!({})).await;
    }

    /// The provider settings an owner saves to connect an organization to this provider.
    pub fn settings(&self, require_sso: bool, jit: bool) -> serde_json::Value {
        json!({
            "issuer": self.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "displayName": "Acme SSO", "requireSso": require_sso, "allowJitMembership": jit,
        })
    }
}

/// The end of a sign-in: the callback URL the provider sent the browser to, and the
/// app's answer to it.
pub struct Callback {
    pub url: String,
    pub status: StatusCode,
    pub location: String,
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// How a sign-in through the provider is started (SPEC §9.1).
#[derive(Clone, Copy)]
pub enum Intent<'a> {
    /// Sign in (or create an account) through the provider.
    Login,
    /// Link the provider identity to the signed-in account, proven by its password.
    Link { password: &'a str },
}

/// Submits the organization's "Continue with …" form the way a browser on this site does:
/// a same-origin `POST /auth/login/{slug}/start/`.
pub async fn start(app: &TestApp, client: &Client, slug: &str, intent: Intent<'_>) -> reqwest::Response {
    let form: Vec<(&str, &str)> = match intent {
        Intent::Login => vec![("intent", "login")],
        Intent::Link { password } => vec![("intent", "link"), ("password", password)],
    };
    client
        .post(app.url(&format!("/auth/login/{slug}/start/")))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Starts a sign-in for `slug` in `client` (intent `login`), signs in at the provider as
/// `login`/`password` and follows the redirects back to the app's callback.
pub async fn sign_in(app: &TestApp, idp: &Idp, client: &Client, slug: &str, login: &str, password: &str) -> Callback {
    begin(app, idp, client, slug, Intent::Login, login, password).await
}

/// Links the provider identity `login` to the account signed in in `client`, whose own
/// password is `account_password`.
pub async fn link(
    app: &TestApp,
    idp: &Idp,
    client: &Client,
    slug: &str,
    account_password: &str,
    login: &str,
    password: &str,
) -> Callback {
    begin(app, idp, client, slug, Intent::Link { password: account_password }, login, password).await
}

async fn begin(
    app: &TestApp,
    idp: &Idp,
    client: &Client,
    slug: &str,
    intent: Intent<'_>,
    login: &str,
    password: &str,
) -> Callback {
    let res = start(app, client, slug, intent).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "start: {}", res.text().await.unwrap_or_default());
    let url = location(&res);
    assert!(url.starts_with(&idp.issuer), "start leads to the provider: {url}");
    at_provider(app, idp, client, &url, login, password).await
}

/// From the provider's authorization URL: signs in there as `login`/`password` (unless
/// the provider remembers the browser), follows the redirects back to the app's callback
/// and requests it.
pub async fn at_provider(
    app: &TestApp,
    idp: &Idp,
    client: &Client,
    authorize_url: &str,
    login: &str,
    password: &str,
) -> Callback {
    let callback = callback_url(app, idp, client, authorize_url, login, password).await;
    let res = client.get(&callback).header("accept", "text/html").send().await.unwrap();
    Callback { url: callback.clone(), status: res.status(), location: location(&res) }
}

/// From the provider's authorization URL to the app's callback URL, which is not requested.
pub async fn callback_url(
    app: &TestApp,
    idp: &Idp,
    client: &Client,
    authorize_url: &str,
    login: &str,
    password: &str,
) -> String {
    let mut url = authorize_url.to_owned();
    let callback = loop {
        let res = client.get(&url).send().await.unwrap();
        if res.status() == StatusCode::OK && url.contains("/interaction/") {
            let res = client
                .post(format!("{url}/login"))
                .form(&[("login", login), ("password", password)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "provider login of {login}");
            url = absolute(idp, &location(&res));
            continue;
        }
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "provider step {url}: {}",
            res.text().await.unwrap_or_default()
        );
        let next = absolute(idp, &location(&res));
        if next.starts_with(&app.base) {
            break next;
        }
        url = next;
    };
    callback
}

fn absolute(idp: &Idp, location: &str) -> String {
    if location.starts_with('/') {
        format!("{}{location}", idp.issuer)
    } else {
        location.to_owned()
    }
}
