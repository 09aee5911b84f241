//! The OpenID Connect relying party: discovery, the authorization-code flow with PKCE,
//! `state` and `nonce`, and full validation of the ID token (signature against the
//! provider's JWKS, issuer, audience, expiry, nonce), built on the `openidconnect` crate.
//!
//! Discovery documents and key sets are cached per issuer for [`CACHE_TTL`]. An ID token
//! signed with a key the cached set does not have makes the set be fetched again once
//! (the provider rotated its keys); anything else that fails validation is refused.
//!
//! Claims: OpenID Connect lets a provider answer the `email` and `profile` scopes at the
//! UserInfo endpoint only (for the code flow, the ID token then carries little more than
//! `sub`; `oidc-provider` does so in its default configuration). So when the ID token lacks
//! `email`/`email_verified` or `name`, UserInfo is read with the access token, and its
//! answer counts only when its `sub` is the ID token's.
//!
//! Every request goes through the outbound guard (`server::outbound`, SPEC §9.9): the
//! issuer and every URL its discovery document names may reach only public addresses or
//! those `APP_OUTBOUND_ALLOWLIST` lists. Failures carry a [`Category`] for the owner and
//! the whole error chain for the logs.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, StandardClaims, SubjectIdentifier, TokenResponse, UserInfoError,
};

use crate::server::domain::outbound::Allowlist;
use crate::server::outbound::{Category, Outbound, OutboundError};

/// How long a discovery document and its key set are reused.
pub const CACHE_TTL: Duration = Duration::from_secs(600);
/// Time limit of each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from a provider (discovery, key set, token, UserInfo); real
/// ones are a few kilobytes.
const MAX_ANSWER: usize = 1 << 20;

/// What the relying party needs to know about one organization's provider.
#[derive(Clone)]
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A started sign-in: where to send the browser, and what the callback must check.
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The identity the provider vouched for, from a validated ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    pub subject: String,
    pub email: Option<String>,
    /// Only `true` when the provider says so (`email_verified`).
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why an ID token was refused; the machine word goes to logs and tests, the sentence to
/// the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Signature,
    Issuer,
    Audience,
    Expired,
    Nonce,
    Missing,
    /// The UserInfo answer is about another subject than the ID token.
    UserInfoSubject,
    Other,
}

impl TokenProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::Expired => "expired",
            Self::Nonce => "nonce",
            Self::Missing => "missing",
            Self::UserInfoSubject => "userinfo subject",
            Self::Other => "invalid",
        }
    }
}

/// A request to the provider that failed: the category an owner may see, and the detail
/// (the error chain, perhaps the provider's own words) for the logs only.
#[derive(Debug, Clone)]
pub struct Failure {
    pub category: Category,
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.category, self.detail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The discovery document or the key set could not be fetched or read.
    #[error("the identity provider's configuration could not be read ({0})")]
    Discovery(Failure),
    /// The token endpoint (or the UserInfo endpoint after it) refused or could not be
    /// reached.
    #[error("the identity provider did not exchange the code ({0})")]
    Exchange(Failure),
    /// The ID token failed validation (or UserInfo spoke of someone else).
    #[error("the identity provider's ID token was refused ({}): {detail}", problem.as_str())]
    IdToken { problem: TokenProblem, detail: String },
}

impl OidcError {
    /// What the owner of the organization may be told (SPEC §9.9).
    pub fn category(&self) -> Category {
        match self {
            Self::Discovery(failure) | Self::Exchange(failure) => failure.category,
            Self::IdToken { .. } => Category::BadAnswer,
        }
    }
}

struct Cached {
    metadata: CoreProviderMetadata,
    fetched: Instant,
}

/// The relying party, shared by every request (cheap to clone).
#[derive(Clone)]
pub struct Oidc {
    http: Outbound,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    /// Discoveries that failed lately: asked again within [`FAILURE_TTL`], they fail at
    /// once, so that visitors of a sign-in page cannot make the server knock on a dead or
    /// refused issuer for every view.
    failures: Arc<Mutex<HashMap<String, (Instant, Failure)>>>,
}

/// How long a failed discovery is answered from memory.
const FAILURE_TTL: Duration = Duration::from_secs(30);

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Oidc")
    }
}

impl Oidc {
    /// A relying party whose requests reach public addresses and those `allow` lists
    /// (`APP_OUTBOUND_ALLOWLIST`). Redirects from the provider's endpoints are not
    /// followed: discovery, keys and tokens are fetched from the URLs as published.
    pub fn new(allow: Allowlist) -> anyhow::Result<Self> {
        let http = Outbound::new(allow, HTTP_TIMEOUT, 0)?;
        Ok(Self { http, cache: Arc::default(), failures: Arc::default() })
    }

    /// The provider's discovery document and key set, from the cache when fresh.
    pub async fn metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        if let Some(hit) = self.cache.lock().expect("cache lock").get(issuer) {
            if hit.fetched.elapsed() < CACHE_TTL {
                return Ok(hit.metadata.clone());
            }
        }
        if let Some((at, failure)) = self.failures.lock().expect("failures lock").get(issuer) {
            if at.elapsed() < FAILURE_TTL {
                return Err(OidcError::Discovery(failure.clone()));
            }
        }
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| OidcError::Discovery(bad_answer(&e)))?;
        let metadata = match CoreProviderMetadata::discover_async(issuer_url, &self.http).await {
            Ok(metadata) => metadata,
            Err(err) => {
                let failure = discovery_failure(&err);
                self.failures
                    .lock()
                    .expect("failures lock")
                    .insert(issuer.to_owned(), (Instant::now(), failure.clone()));
                return Err(OidcError::Discovery(failure));
            }
        };
        self.failures.lock().expect("failures lock").remove(issuer);
        self.remember(issuer, metadata.clone());
        Ok(metadata)
    }

    fn remember(&self, issuer: &str, metadata: CoreProviderMetadata) {
        self.cache.lock().expect("cache lock").insert(issuer.to_owned(), Cached { metadata, fetched: Instant::now() });
    }

    /// Forgets a provider (its configuration changed).
    pub fn forget(&self, issuer: &str) {
        self.cache.lock().expect("cache lock").remove(issuer);
        self.failures.lock().expect("failures lock").remove(issuer);
    }

    /// Starts the authorization-code flow: a fresh `state`, `nonce` and PKCE (S256) pair.
    pub async fn start(&self, config: &ProviderConfig, redirect_uri: &str) -> Result<Started, OidcError> {
        let metadata = self.metadata(&config.issuer).await?;
        let client = build_client(metadata, config, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier), validates the ID token, and completes
    /// its claims from UserInfo when it lacks the email or name.
    pub async fn finish(
        &self,
        config: &ProviderConfig,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, OidcError> {
        let metadata = self.metadata(&config.issuer).await?;
        let client = build_client(metadata.clone(), config, redirect_uri)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(bad_answer(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(exchange_failure(&e)))?;
        let Some(id_token) = response.id_token() else {
            return Err(OidcError::IdToken {
                problem: TokenProblem::Missing,
                detail: "no id_token in the token response".into(),
            });
        };
        let (client, claims) = self
            .id_token_claims(client, metadata, config, redirect_uri, id_token, &Nonce::new(nonce.to_owned()))
            .await?;
        let mut verified = VerifiedClaims {
            subject: claims.subject().as_str().to_owned(),
            email: None,
            email_verified: false,
            name: None,
        };
        let has_email = claims.email().is_some() && claims.email_verified().is_some();
        if has_email {
            take_email(&mut verified, &claims);
        }
        take_name(&mut verified, &claims);
        if !has_email || verified.name.is_none() {
            self.complete_from_user_info(&client, response.access_token(), &claims, has_email, &mut verified).await?;
        }
        Ok(verified)
    }

    /// The ID token's claims, checked against the cached key set, or — for a key the set
    /// does not have (the provider may have rotated its keys) — against the key set fetched
    /// again. Returns the client that verified them.
    async fn id_token_claims(
        &self,
        client: Client,
        metadata: CoreProviderMetadata,
        config: &ProviderConfig,
        redirect_uri: &str,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<(Client, CoreIdTokenClaims), OidcError> {
        match id_token.claims(&client.id_token_verifier(), nonce) {
            Ok(claims) => Ok((client.clone(), claims.clone())),
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
                    .await
                    .map_err(|e| OidcError::Discovery(discovery_failure(&e)))?;
                let metadata = metadata.set_jwks(jwks);
                self.remember(&config.issuer, metadata.clone());
                let client = build_client(metadata, config, redirect_uri)?;
                let claims = id_token.claims(&client.id_token_verifier(), nonce).map_err(refusal)?.clone();
                Ok((client, claims))
            }
            Err(err) => Err(refusal(err)),
        }
    }

    /// Fills the email (with whether it is verified, as a pair from one answer) and the name
    /// the ID token lacked from the UserInfo answer about the same subject.
    async fn complete_from_user_info(
        &self,
        client: &Client,
        access_token: &AccessToken,
        claims: &CoreIdTokenClaims,
        has_email: bool,
        verified: &mut VerifiedClaims,
    ) -> Result<(), OidcError> {
        match self.user_info(client, access_token, claims.subject()).await {
            Ok(Some(info)) => {
                if !has_email {
                    take_email(verified, &info);
                }
                if verified.name.is_none() {
                    take_name(verified, &info);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            // An answer about someone else is refused whatever was missing.
            Err(err @ OidcError::IdToken { .. }) => Err(err),
            Err(err) if !has_email => Err(err),
            // Only the name was missing: sign in without it rather than not at all.
            Err(err) => {
                tracing::warn!(error = %err, "UserInfo not read; signing in without a name");
                Ok(())
            }
        }
    }

    /// The provider's UserInfo answer about `subject`, or `None` when it publishes no
    /// UserInfo endpoint. An answer about another subject is refused.
    async fn user_info(
        &self,
        client: &Client,
        access_token: &AccessToken,
        subject: &SubjectIdentifier,
    ) -> Result<Option<StandardClaims<CoreGenderClaim>>, OidcError> {
        let Ok(request) = client.user_info(access_token.clone(), Some(subject.clone())) else {
            return Ok(None);
        };
        let info: CoreUserInfoClaims = request.request_async(&self.http).await.map_err(|err| match &err {
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(_)) => {
                OidcError::IdToken { problem: TokenProblem::UserInfoSubject, detail: error_chain(&err) }
            }
            UserInfoError::Request(request) => OidcError::Exchange(Failure {
                category: request.category(),
                detail: format!("userinfo: {}", error_chain(&err)),
            }),
            _ => OidcError::Exchange(Failure {
                category: Category::BadAnswer,
                detail: format!("userinfo: {}", error_chain(&err)),
            }),
        })?;
        // The crate checks this already; the rule is too important to rest on that alone.
        if info.subject() != subject {
            return Err(OidcError::IdToken {
                problem: TokenProblem::UserInfoSubject,
                detail: "userinfo: another subject".into(),
            });
        }
        Ok(Some(info.standard_claims().clone()))
    }
}

/// Claims that the ID token and the UserInfo answer share.
trait PersonClaims {
    fn email_claim(&self) -> Option<String>;
    fn email_verified_claim(&self) -> Option<bool>;
    fn name_claim(&self) -> Option<String>;
}

/// The two claim sets (UserInfo's and the ID token's) expose the same accessors.
macro_rules! person_claims {
    ($($ty:ty),+) => {$(
        impl PersonClaims for $ty {
            fn email_claim(&self) -> Option<String> {
                self.email().map(|e| e.as_str().to_owned())
            }
            fn email_verified_claim(&self) -> Option<bool> {
                self.email_verified()
            }
            fn name_claim(&self) -> Option<String> {
                self.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned())
            }
        }
    )+};
}
person_claims!(StandardClaims<CoreGenderClaim>, CoreIdTokenClaims);

fn take_email(verified: &mut VerifiedClaims, from: &impl PersonClaims) {
    verified.email = from.email_claim().map(|e| e.trim().to_lowercase());
    // Only `true` when the provider says so.
    verified.email_verified = from.email_verified_claim() == Some(true);
}

fn take_name(verified: &mut VerifiedClaims, from: &impl PersonClaims) {
    verified.name = from.name_claim();
}

/// Requests to the provider go through the outbound guard.
impl<'c> openidconnect::AsyncHttpClient<'c> for Outbound {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.send(reqwest::Request::try_from(request)?).await?;
            let mut answer = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = Outbound::body(response, MAX_ANSWER).await?;
            answer.body(body).map_err(|e| OutboundError::Answer(e.to_string()))
        })
    }
}

type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn build_client(
    metadata: CoreProviderMetadata,
    config: &ProviderConfig,
    redirect_uri: &str,
) -> Result<Client, OidcError> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| OidcError::Discovery(bad_answer(&e)))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

fn refusal(err: ClaimsVerificationError) -> OidcError {
    let problem = match &err {
        ClaimsVerificationError::SignatureVerification(_) => TokenProblem::Signature,
        ClaimsVerificationError::InvalidIssuer(_) => TokenProblem::Issuer,
        ClaimsVerificationError::InvalidAudience(_) => TokenProblem::Audience,
        ClaimsVerificationError::Expired(_) => TokenProblem::Expired,
        ClaimsVerificationError::InvalidNonce(_) => TokenProblem::Nonce,
        _ => TokenProblem::Other,
    };
    OidcError::IdToken { problem, detail: error_chain(&err) }
}

fn bad_answer(err: &dyn std::error::Error) -> Failure {
    Failure { category: Category::BadAnswer, detail: error_chain(err) }
}

/// Discovery and key-set failures: the guard's category when the request itself failed,
/// else the answer was wrong.
fn discovery_failure(err: &DiscoveryError<OutboundError>) -> Failure {
    let category = match err {
        DiscoveryError::Request(request) => request.category(),
        _ => Category::BadAnswer,
    };
    Failure { category, detail: error_chain(err) }
}

fn exchange_failure<T: openidconnect::ErrorResponse + 'static>(err: &RequestTokenError<OutboundError, T>) -> Failure {
    let category = match err {
        RequestTokenError::Request(request) => request.category(),
        _ => Category::BadAnswer,
    };
    Failure { category, detail: error_chain(err) }
}

/// An error and its sources on one line (the crate's top-level messages are terse).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
