//! The OpenID Connect relying party: discovery, the authorization-code flow with PKCE,
//! `state` and `nonce`, and full validation of the ID token (signature against the
//! provider's JWKS, issuer, audience, expiry, nonce), built on the `openidconnect` crate.
//!
//! Discovery documents and key sets are cached per issuer for [`CACHE_TTL`]. An ID token
//! signed with a key the cached set does not have makes the set be fetched again once
//! (the provider rotated its keys); anything else that fails validation is refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};

/// How long a discovery document and its key set are reused.
pub const CACHE_TTL: Duration = Duration::from_secs(600);
/// Time limit of each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the relying party needs to know about one organization's provider.
#[derive(Clone)]
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig").field("issuer", &self.issuer).field("client_id", &self.client_id).finish_non_exhaustive()
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
            Self::Other => "invalid",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The discovery document or the key set could not be fetched or read.
    #[error("the identity provider's configuration could not be read: {0}")]
    Discovery(String),
    /// The token endpoint refused the code or could not be reached.
    #[error("the identity provider did not exchange the code: {0}")]
    Exchange(String),
    /// The ID token failed validation.
    #[error("the identity provider's ID token was refused ({}): {detail}", problem.as_str())]
    IdToken { problem: TokenProblem, detail: String },
}

struct Cached {
    metadata: CoreProviderMetadata,
    fetched: Instant,
}

/// The relying party, shared by every request (cheap to clone).
#[derive(Clone)]
pub struct Oidc {
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Oidc")
    }
}

impl Oidc {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Never follow redirects from the provider's endpoints (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self { http, cache: Arc::default() })
    }

    /// The provider's discovery document and key set, from the cache when fresh.
    pub async fn metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        if let Some(hit) = self.cache.lock().expect("cache lock").get(issuer) {
            if hit.fetched.elapsed() < CACHE_TTL {
                return Ok(hit.metadata.clone());
            }
        }
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| OidcError::Discovery(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &self.http)
            .await
            .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
        self.remember(issuer, metadata.clone());
        Ok(metadata)
    }

    fn remember(&self, issuer: &str, metadata: CoreProviderMetadata) {
        self.cache.lock().expect("cache lock").insert(issuer.to_owned(), Cached { metadata, fetched: Instant::now() });
    }

    /// Forgets a provider (its configuration changed).
    pub fn forget(&self, issuer: &str) {
        self.cache.lock().expect("cache lock").remove(issuer);
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

    /// Exchanges the code (with the PKCE verifier) and validates the ID token.
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
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let Some(id_token) = response.id_token() else {
            return Err(OidcError::IdToken { problem: TokenProblem::Missing, detail: "no id_token in the token response".into() });
        };
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // A key the cached set does not have: the provider may have rotated its keys.
                let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
                    .await
                    .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
                let metadata = metadata.set_jwks(jwks);
                self.remember(&config.issuer, metadata.clone());
                let client = build_client(metadata, config, redirect_uri)?;
                let verifier = client.id_token_verifier();
                let claims = id_token.claims(&verifier, &nonce).map(|c| c.clone());
                claims
            }
            other => other.map(|c| c.clone()),
        }
        .map_err(refusal)?;
        Ok(VerifiedClaims {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().trim().to_lowercase()),
            email_verified: claims.email_verified() == Some(true),
            name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
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

fn build_client(metadata: CoreProviderMetadata, config: &ProviderConfig, redirect_uri: &str) -> Result<Client, OidcError> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| OidcError::Discovery(e.to_string()))?;
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
