//! Types that travel between the browser and the server functions.

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

pub use crate::model::{BulkStatus, InviteStatus, Refusal, Role};

/// The signed-in user as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
}

/// What a server function can answer instead of success. It crosses the wire as JSON
/// (and, for a form posted without JavaScript, in the redirect URL), so it carries only
/// what the user may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The form has errors: messages by field, and the values typed (never a password)
    /// so the form can be shown again as it was.
    #[error("{}", crate::model::FORM_HAS_ERRORS)]
    Invalid { fields: BTreeMap<String, Vec<String>>, values: BTreeMap<String, String> },
    /// A refusal with a sentence and a machine reason (`registration_closed`, …).
    #[error("{details}")]
    Refused { details: String, reason: String },
    /// Something failed on our side; the details are in the server log.
    #[error("Something went wrong on our side. Please try again.")]
    Unexpected,
}

impl AppError {
    pub fn refused(details: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Refused { details: details.into(), reason: reason.into() }
    }

    /// Messages for one field of an `Invalid` error.
    pub fn field(&self, name: &str) -> Vec<String> {
        match self {
            Self::Invalid { fields, .. } => fields.get(name).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The value typed into one field, as sent back with an `Invalid` error.
    pub fn value(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid { values, .. } => values.get(name).cloned(),
            _ => None,
        }
    }

    /// A sentence for the top of the form.
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        match err {
            // On the server these mean the request could not be read: the client's fault.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_)
                if cfg!(feature = "ssr") =>
            {
                #[cfg(feature = "ssr")]
                crate::server::server_fns::set_error_status(http::StatusCode::BAD_REQUEST);
                Self::refused("The form could not be read. Please reload the page and try again.", "bad_request")
            }
            ServerFnErrorErr::Request(_) => {
                Self::refused("The server could not be reached. Check your connection and try again.", "network")
            }
            _ => Self::Unexpected,
        }
    }
}

/// An organization as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub can_invite: bool,
    /// The getting-started step "Invite your team" is done (an invitee joined).
    pub invitee_joined: bool,
    pub members: Vec<MemberView>,
    /// Teams as `(slug, name)`.
    pub teams: Vec<(String, String)>,
}

/// A row of the member table: a membership or a pending invite. What the signed-in
/// member may do with it was decided by the server (`can_manage`, `last_owner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub pending: bool,
    pub expired: bool,
    pub inviter_name: Option<String>,
    /// Delivery state of the invite email: queued, sending, sent, failed.
    pub mail_status: Option<String>,
    /// A membership or invite (`Approved`), or a request.
    pub invite_status: InviteStatus,
    /// The slugs of the teams the member or invite is on.
    pub teams: Vec<String>,
    /// The signed-in member's own row.
    pub you: bool,
    /// The signed-in member may change this row's role and remove it (an invite: resend,
    /// regenerate, revoke).
    pub can_manage: bool,
    /// The organization's only owner: nobody may demote or remove them.
    pub last_owner: bool,
    /// When a pending invite's link stops working, `YYYY-MM-DD` (UTC).
    pub expires_on: Option<String>,
}

impl MemberView {
    /// The name, or the address when there is no name (an invite).
    pub fn display_name(&self) -> String {
        if self.name.is_empty() {
            self.email.clone()
        } else {
            self.name.clone()
        }
    }
}

/// The members page (SPEC §5.10): one page of members and invites, the requests, the
/// teams, and what the signed-in member may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersView {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub can_invite: bool,
    /// The role an invite gets unless another is chosen.
    pub default_role: Role,
    /// The roles the signed-in member may give, least first.
    pub grantable: Vec<Role>,
    /// Memberships on this page.
    pub members: Vec<MemberView>,
    /// Pending invites on this page.
    pub invites: Vec<MemberView>,
    /// Invite and join requests (owners and managers only).
    pub requests: Vec<MemberView>,
    /// Teams as `(slug, name)`.
    pub teams: Vec<(String, String)>,
    /// Why the signed-in member cannot leave (the last owner), or `None`.
    pub cannot_leave: Option<String>,
    /// Cursors of the neighbouring pages, when there are rows there.
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// What the invite page shows (SPEC §5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    /// What stands between this visitor and joining, as the server's §5.3 checks decided
    /// it (the first failing check), or why the link cannot be used at all; `None`: the
    /// visitor can join.
    pub refusal: Option<Refusal>,
    pub org_slug: String,
    pub org_name: String,
    pub invited_email: String,
    pub inviter_name: Option<String>,
    /// Signed in with another address than the invited one (allowed or not).
    pub email_mismatch: bool,
    pub signed_in_email: Option<String>,
    /// The organization's identity provider, when it has one.
    pub sso_provider: Option<String>,
    pub require_sso: bool,
}

impl InviteView {
    /// A link that cannot be used: only the refusal is known.
    pub fn unusable(refusal: Refusal) -> Self {
        Self {
            refusal: Some(refusal),
            org_slug: String::new(),
            org_name: String::new(),
            invited_email: String::new(),
            inviter_name: None,
            email_mismatch: false,
            signed_in_email: None,
            sso_provider: None,
            require_sso: false,
        }
    }
}

/// One audit-log entry, written out on the server so that the page reads the same
/// rendered and hydrated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub event: String,
    /// The entry as a sentence.
    pub note: String,
    pub actor: Option<String>,
    /// The entry's data, pretty-printed JSON.
    pub data: String,
    pub ip: Option<String>,
    /// RFC 3339, for `<time datetime>`.
    pub date: String,
    /// "2026-11-30 09:12 UTC".
    pub utc: String,
    /// "5 minutes ago", "yesterday", or the date.
    pub ago: String,
}

/// The audit-log page: one page of entries, the filters offered and chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub can_invite: bool,
    pub entries: Vec<AuditView>,
    /// The events in the log, for the event filter.
    pub events: Vec<String>,
    /// `(user id, name)` of everyone who acted, for the person filter.
    pub people: Vec<(i64, String)>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// An organization's policy settings as its settings page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettingsView {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub can_edit: bool,
    pub can_invite: bool,
    pub require_2fa: bool,
    pub require_email_verification: bool,
    pub allow_join_requests: bool,
    pub default_role: Role,
    pub allow_email_mismatch: bool,
    pub member_limit: Option<i64>,
    /// Members plus pending invites.
    pub seats_used: i64,
    /// For an owner: the members ownership can be handed to, `(member id, "Name <email>")`.
    pub transfer_to: Vec<(i64, String)>,
}

/// The account security page: second-factor state, or an enrolment in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    pub email: String,
    pub enrolled: bool,
    pub unused_recovery_codes: i64,
    /// The secret offered for enrolment (base32) and its QR code (SVG markup).
    pub secret: Option<String>,
    pub qr_svg: Option<String>,
    /// Recovery codes of an enrolment just confirmed: shown once.
    pub fresh_recovery_codes: Vec<String>,
    /// `(slug, name)` of the organization joined when the enrolment accepted a pending invite.
    pub joined: Option<(String, String)>,
    /// Identities at organizations' providers linked to this account.
    pub identities: Vec<IdentityView>,
    /// Organizations of this account whose provider it could link.
    pub linkable: Vec<LinkableView>,
}

/// An organization whose identity provider the account could link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkableView {
    pub org_slug: String,
    pub org_name: String,
    pub provider_name: String,
}

/// The email settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailsView {
    pub email: String,
    pub verified: bool,
}

/// The join-request page: the organization asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinView {
    pub slug: String,
    pub name: String,
    pub accepts_requests: bool,
}

/// An organization's single sign-on page (`/auth/login/{slug}/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLoginView {
    pub slug: String,
    pub org_name: String,
    pub provider_name: String,
    pub require_sso: bool,
    /// The signed-in account, when there is one (the form then links it).
    pub signed_in_email: Option<String>,
    /// Whether that account has a password (a link needs it).
    pub has_password: bool,
    pub linked: bool,
    /// How the last attempt ended, shown once.
    pub notice: Option<String>,
}

/// An organization's identity-provider settings as its owners see them (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthProviderView {
    pub slug: String,
    pub org_name: String,
    pub configured: bool,
    pub issuer: String,
    pub client_id: String,
    pub display_name: String,
    pub require_sso: bool,
    pub allow_jit_membership: bool,
    /// The redirect URI to register with the provider.
    pub redirect_uri: String,
    /// Whether the owner looking at it has linked their own identity.
    pub you_are_linked: bool,
}

/// An identity linked to the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    pub org_slug: String,
    pub org_name: String,
    pub provider_name: String,
    pub email: Option<String>,
}

/// The account settings page (`/settings/account/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// An account made through an identity provider may have no password yet.
    pub has_password: bool,
}

/// One signed-in session of the user (SPEC §4.6), dates already written out (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The session's public id (a digest, never the session id).
    pub id: String,
    /// The session of this browser.
    pub current: bool,
    /// "Firefox on Windows".
    pub device: String,
    pub ip: Option<String>,
    /// When it signed in and was last used, `None` when not recorded.
    pub signed_in: Option<String>,
    pub last_active: Option<String>,
}

/// One pending invite addressed to the signed-in user's verified address (`/invitations/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// The invite's member id: what Join and Decline name.
    pub member_id: i64,
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
    pub inviter_name: Option<String>,
    /// The address it was sent to.
    pub email: String,
    /// When it stops working, `YYYY-MM-DD` (UTC).
    pub expires_on: String,
    /// What §5.3 would refuse now (`needs_2fa`, …), as the server decided it; `None`: Join works.
    pub needs: Option<Refusal>,
}

/// The invitations page: the user's address, whether it is verified (an unverified
/// address is shown no invitations), and the invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationsView {
    pub email: String,
    pub verified: bool,
    pub invitations: Vec<InvitationView>,
}

/// What a bulk invite did with one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcomeView {
    pub email: String,
    pub status: BulkStatus,
    /// The sentence for an address that was not invited.
    pub reason: Option<String>,
}

/// A join link of an organization as its owners and managers see it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinLinkView {
    pub id: i64,
    pub role: Role,
    pub email_domain: Option<String>,
    pub max_uses: i64,
    pub uses: i64,
    pub uses_left: i64,
    /// When it stops working, "2026-11-30 09:12 UTC".
    pub expires: String,
    pub created_by: Option<String>,
    /// `active`, `used_up`, `expired` or `revoked`.
    pub state: String,
}

/// The members page's tools for owners and managers: the join links, the URL of the link
/// just created (shown once), the outcome of the last bulk invite (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteToolsView {
    pub links: Vec<JoinLinkView>,
    /// The roles a join link created by the reader may give, least first.
    pub link_roles: Vec<Role>,
    pub created_url: Option<String>,
    pub bulk_outcome: Option<Vec<BulkOutcomeView>>,
}

/// What the join-link page (`/join/{token}/`) shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinLinkPageView {
    /// What stands between this visitor and joining (the server's check order), or why
    /// the link cannot be used at all (`invalid`, `revoked`, `expired`, `used_up`); `None`:
    /// the visitor can join.
    pub refusal: Option<Refusal>,
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
    /// The email domain the link is limited to.
    pub email_domain: Option<String>,
    /// When it stops working, `YYYY-MM-DD` (UTC).
    pub expires_on: String,
    pub signed_in_email: Option<String>,
    /// The organization's identity provider, when it has one.
    pub sso_provider: Option<String>,
}

impl JoinLinkPageView {
    /// A link that cannot be used: only the refusal is known.
    pub fn unusable(refusal: Refusal) -> Self {
        Self {
            refusal: Some(refusal),
            org_slug: String::new(),
            org_name: String::new(),
            role: Role::Member,
            email_domain: None,
            expires_on: String::new(),
            signed_in_email: None,
            sso_provider: None,
        }
    }
}

/// Why an endpoint receives deliveries or not, as its owner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookState {
    Enabled,
    /// Turned off by an owner.
    Disabled,
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt failed for five days.
    Failing,
}

impl WebhookState {
    /// The machine name (`enabled`, `disabled`, `gone`, `failing`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Gone => "gone",
            Self::Failing => "failing",
        }
    }

    /// The words a person reads for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled by you",
            Self::Gone => "Disabled: answered 410 Gone",
            Self::Failing => "Disabled: failing for 5 days",
        }
    }
}

/// One attempt at sending a delivery, times written out (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttemptView {
    /// "2026-11-30 09:12:05 UTC".
    pub at: String,
    /// RFC 3339, for `<time datetime>`.
    pub date: String,
    /// The HTTP status answered, when an answer came.
    pub status: Option<i64>,
    /// Why no answer came (`unreachable`, `not allowed`, `bad answer`, `timed out`).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The start of the answer's body (at most 1 KiB).
    pub response: String,
}

/// A delivery of one event to one endpoint, with its attempts (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveryView {
    pub id: i64,
    /// The `webhook-id` header, the same on every attempt: `msg_…`.
    pub webhook_id: String,
    pub event_type: String,
    /// `queued`, `delivering`, `delivered` or `failed`.
    pub state: String,
    /// When it was made, "2026-11-30 09:12:05 UTC", and as RFC 3339.
    pub created: String,
    pub date: String,
    /// When the next attempt is due, while one is.
    pub next_attempt: Option<String>,
    pub log: Vec<WebhookAttemptView>,
    /// Whether it may be sent again now (its endpoint enabled, no attempt under way).
    pub can_redeliver: bool,
}

/// A webhook endpoint as its owners see it (never its secret), with its newest deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub state: WebhookState,
    /// Since when every attempt has failed (UTC), if it has.
    pub failing_since: Option<String>,
    /// Until when the secret replaced by the last rotation still signs (UTC).
    pub previous_secret_until: Option<String>,
    /// When it was added, `YYYY-MM-DD` (UTC).
    pub created_on: String,
    /// The newest deliveries, newest first.
    pub deliveries: Vec<WebhookDeliveryView>,
    /// There are older deliveries than those listed.
    pub more_deliveries: bool,
}

/// A signing secret just made (an endpoint added or its secret rotated): shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhookSecretView {
    pub endpoint_id: i64,
    /// `whsec_…`.
    pub secret: String,
}

/// The webhooks page of an organization (owners, SPEC §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPageView {
    pub slug: String,
    pub org_name: String,
    /// The event types an endpoint may ask for, in the order the form lists them.
    pub event_types: Vec<String>,
    /// Newest first.
    pub endpoints: Vec<WebhookView>,
    pub new_secret: Option<NewWebhookSecretView>,
}
