//! The JSON shapes of the API (SPEC §3): what a user, an organization, a member, an invite's
//! details and an audit entry look like on the wire.

use serde_json::{json, Value};

use crate::server::db::audit::EntryRow;
use crate::server::db::join_links::JoinLinkRow;
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::webhooks::{DeliveryRow, EndpointRow};
use crate::server::domain::invite::Visitor;
use crate::server::service::accept::{Details, SsoFacts};
use crate::server::service::account::SessionView;
use crate::server::service::invitations::Invitation;
use crate::server::service::join_links::JoinDetails;
use crate::server::service::organizations::MemberEntry;

/// A stored Unix time as RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The user as the API shows them (Sentry's shape, ids as strings).
pub fn user(user: &UserRow) -> Value {
    json!({
        "id": user.id.to_string(),
        "email": user.email,
        "username": user.email,
        "name": user.name,
        "isActive": user.is_active,
        "isSuperuser": user.is_superuser,
        "hasPasswordAuth": user.password_hash.is_some(),
        "emailVerified": user.email_verified,
        "dateJoined": rfc3339(user.created_at),
    })
}

pub fn organization(org: &OrgRow) -> Value {
    json!({
        "id": org.id.to_string(),
        "slug": org.slug,
        "name": org.name,
        "require2FA": org.require_2fa,
        "requireEmailVerification": org.require_email_verification,
        "allowJoinRequests": org.allow_join_requests,
        "defaultRole": org.default_role,
        "allowEmailMismatch": org.allow_email_mismatch,
        "memberLimit": org.member_limit,
        "dateCreated": rfc3339(org.created_at),
    })
}

/// The member JSON of SPEC §3. Never carries the token or the link.
pub fn member(entry: &MemberEntry) -> Value {
    let row = &entry.row;
    json!({
        "id": row.id,
        "email": row.email.clone().or_else(|| entry.user.as_ref().map(|u| u.email.clone())),
        "name": entry.user.as_ref().map(|u| u.name.clone()).or_else(|| row.email.clone()),
        "user": entry.user.as_ref().map(|u| json!({"id": u.id.to_string(), "email": u.email, "name": u.name})),
        "role": row.role,
        "pending": row.is_pending(),
        "expired": entry.expired,
        "inviteStatus": row.invite_status,
        "inviterName": entry.inviter_name,
        "teams": entry.teams,
        "mailStatus": entry.mail_state,
        "dateCreated": rfc3339(row.created_at),
    })
}

/// The details JSON of SPEC §5.2.
pub fn invite_details(d: &Details) -> Value {
    let body = json!({
        "orgSlug": d.org.slug,
        "orgName": d.org.name,
        "invitedEmail": d.invited_email,
        "inviterName": d.inviter_name,
        "emailMismatch": d.visitor.signed_in && !d.visitor.email_matches,
    });
    with_visitor(body, &d.visitor, d.sso.as_ref())
}

/// The facts about the visitor that an invite's and a join link's details both carry.
fn with_visitor(mut body: Value, v: &Visitor, sso: Option<&SsoFacts>) -> Value {
    let facts = json!({
        "needsAuthentication": !v.signed_in,
        "existingMember": v.existing_member,
        "needs2fa": v.needs_2fa,
        "needsEmailVerification": v.needs_email_verification,
        "needsSso": v.needs_sso,
        "hasAuthProvider": sso.is_some(),
        "requireSso": sso.is_some_and(|s| s.required),
        "ssoProvider": sso.map(|s| s.provider_name.clone()),
    });
    if let (Some(body), Value::Object(facts)) = (body.as_object_mut(), facts) {
        body.extend(facts);
    }
    body
}

/// One audit-log entry.
pub fn audit_entry(e: &EntryRow) -> Value {
    json!({
        "id": e.id.to_string(),
        "event": e.event,
        // An actor whose account was deleted keeps their address (SPEC §4.7), without an id.
        "actor": match (e.actor_id, &e.actor_email) {
            (Some(id), _) => json!({"id": id.to_string(), "name": e.actor_name, "email": e.actor_email}),
            (None, Some(email)) => json!({"id": null, "name": email, "email": email}),
            (None, None) => Value::Null,
        },
        "targetObject": e.target_member_id,
        "targetUser": e.target_user_id.map(|id| id.to_string()),
        "ipAddress": e.ip,
        "note": crate::server::service::organizations::audit_note(e),
        "data": e.data,
        "dateCreated": rfc3339(e.created_at),
    })
}

/// One signed-in session of the user (SPEC §4.6); `id` is the public digest, never the
/// session id.
pub fn session(s: &SessionView) -> Value {
    json!({
        "id": s.id,
        "current": s.current,
        "browser": s.device.browser,
        "os": s.device.os,
        "device": s.device.line(),
        "ipAddress": s.ip,
        "dateCreated": (s.created_at > 0).then(|| rfc3339(s.created_at)),
        "lastActive": (s.last_seen_at > 0).then(|| rfc3339(s.last_seen_at)),
    })
}

/// One of the user's invitations (SPEC §5.9); `needs` is the §5.3 reason Join would answer
/// now, `null` when it would join.
pub fn invitation(i: &Invitation) -> Value {
    json!({
        "id": i.member_id,
        "orgSlug": i.org.slug,
        "orgName": i.org.name,
        "role": i.role,
        "email": i.email,
        "inviterName": i.inviter_name,
        "expiresAt": rfc3339(i.expires_at),
        "dateCreated": rfc3339(i.created_at),
        "needs": i.needs.map(|r| r.reason()),
    })
}

/// A join link as its organization's owners and managers see it. Never the token: that is
/// only in the `url` of the answer that created it.
pub fn join_link(link: &JoinLinkRow, now: i64) -> Value {
    json!({
        "id": link.id,
        "role": link.role,
        "emailDomain": link.email_domain,
        "maxUses": link.max_uses,
        "uses": link.uses,
        "usesLeft": link.uses_left(),
        "expiresAt": rfc3339(link.expires_at),
        "dateCreated": rfc3339(link.created_at),
        "createdBy": link.created_by_name,
        "state": link.state(now).as_str(),
    })
}

/// A webhook endpoint (SPEC §8). Never its secret: the answers that give one add it.
pub fn webhook(row: &EndpointRow, now: i64) -> Value {
    json!({
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "enabled": row.enabled,
        "disabledReason": row.disabled_reason.map(|r| r.as_str()),
        "failingSince": row.failing_since.map(rfc3339),
        "previousSecretUntil": row.previous_until(now).map(rfc3339),
        "dateCreated": rfc3339(row.created_at),
    })
}

/// A webhook delivery with the log of its attempts, oldest first.
pub fn webhook_delivery(d: &DeliveryRow) -> Value {
    let waiting = matches!(d.status.as_str(), "queued" | "delivering");
    json!({
        "id": d.id,
        "webhookId": d.msg_id,
        "type": d.event_type,
        "state": d.status,
        "attempts": d.attempts,
        "dateCreated": rfc3339(d.created_at),
        "nextAttempt": waiting.then(|| rfc3339(d.next_attempt_at)),
        "dateDelivered": d.delivered_at.map(rfc3339),
        "log": d.log.iter().map(|a| json!({
            "dateAttempted": rfc3339(a.attempted_at),
            "status": a.status_code,
            "error": a.error,
            "durationMs": a.duration_ms,
            "response": a.response,
        })).collect::<Vec<_>>(),
    })
}

/// What a join link's page is rendered from.
pub fn join_details(d: &JoinDetails) -> Value {
    let body = json!({
        "orgSlug": d.org.slug,
        "orgName": d.org.name,
        "role": d.link.role,
        "emailDomain": d.link.email_domain,
        "expiresAt": rfc3339(d.link.expires_at),
        "domainMismatch": d.visitor.domain_mismatch,
        "needs": d.refusal.map(|r| r.reason()),
    });
    with_visitor(body, &d.visitor, d.sso.as_ref())
}
