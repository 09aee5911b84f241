//! Joining the organization on the way back from the provider (rule 4 of the module), and
//! whether someone new may join it at all.

use serde_json::json;
use tower_sessions::Session;

use super::SsoError;
use crate::model::InviteStatus;
use crate::server::db::organizations::OrgRow;
use crate::server::db::sso::ProviderRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, members, organizations};
use crate::server::domain::invite::{first_refusal, Refusal, Visitor};
use crate::server::domain::seats;
use crate::server::service::accept::{self, AcceptError};
use crate::server::state::AppState;

/// Where the callback leaves the user in the organization.
pub(super) enum Joined {
    Member,
    InvitePage(String),
    NotMember(String),
}

/// Rule 4 of the module.
pub(super) async fn join(
    state: &AppState,
    session: &Session,
    org: &OrgRow,
    provider: &ProviderRow,
    user: &UserRow,
    proven: Option<&str>,
    ip: Option<&str>,
) -> Result<Joined, SsoError> {
    // The invite this browser opened, for this organization: accepted on the way back only
    // when it was addressed to this account or to the address the provider just proved
    // (§4.3 step 4); otherwise the invite page offers the user's own Join click.
    if let Some(pending) = accept::pending_link(state, session).await? {
        if pending.pending.org_id == org.id {
            if !accept::may_accept_implicitly(&pending.pending, user, proven) {
                return Ok(Joined::InvitePage(pending.link.page_path()));
            }
            return match accept::accept_as(state, session, &pending.link, Some(user.clone()), proven, ip).await {
                Ok(_) => Ok(Joined::Member),
                Err(AcceptError::Refused(Refusal::ExistingMember)) => Ok(Joined::Member),
                Err(AcceptError::Internal(err)) => Err(SsoError::Internal(err)),
                Err(_) => Ok(Joined::InvitePage(pending.link.page_path())),
            };
        }
    }
    if members::membership(&mut *state.db.conn().await?, org.id, user.id).await?.is_some() {
        return Ok(Joined::Member);
    }
    let Some(email) = proven else {
        return Ok(Joined::NotMember(not_member(org, provider)));
    };
    // A pending invite for the address the provider verified.
    match accept::accept_for_email(state, session, org.id, email, user.clone(), ip).await {
        Ok(Some(_)) => return Ok(Joined::Member),
        Ok(None) => {}
        Err(AcceptError::Internal(err)) => return Err(SsoError::Internal(err)),
        Err(refusal) => return Ok(Joined::NotMember(format!("You could not join {} yet: {refusal}", org.name))),
    }
    add_member(state, org, provider, user, email, ip).await
}

fn not_member(org: &OrgRow, provider: &ProviderRow) -> String {
    format!(
        "You signed in with {}, but you are not a member of {} and it does not add members automatically. Ask an owner of {} to invite you.",
        provider.display_name, org.name, org.name
    )
}

/// Whether someone new with this verified address has a way into the organization, so
/// that creating their account is worth it: an approved, unexpired invite for the address
/// (read from the database, never from the session, whose copy may be stale), or
/// just-in-time membership — the latter only while registration is open (§9.10: with
/// `invite_only` or `closed`, the provider creates accounts only for addresses holding an
/// invite). Requests are not a way in (§5.7).
pub(super) async fn may_join(
    tx: &mut db::Conn,
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    email: &str,
) -> Result<bool, SsoError> {
    let invited = members::pending_for_email(tx, org.id, email).await?.is_some_and(|r| {
        r.invite_status == InviteStatus::Approved
            && !crate::server::domain::invite::is_expired(r.token_expires_at, db::now())
    });
    let registration_open = state.config.registration == crate::server::domain::RegistrationMode::Open;
    Ok(invited || (provider.allow_jit_membership && registration_open))
}

/// Just-in-time membership with the organization's default role, when the provider allows
/// it (accounts themselves are created only while registration is open: [`may_join`]). An
/// invite request or join request for the address never becomes the membership (§5.7):
/// it is deleted, since it is pointless once the person is a member with the default role.
async fn add_member(
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    user: &UserRow,
    email: &str,
    ip: Option<&str>,
) -> Result<Joined, SsoError> {
    if !provider.allow_jit_membership {
        return Ok(Joined::NotMember(not_member(org, provider)));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), org.id).await?;
    let org = organizations::find_by_id(&mut tx, org.id).await?.ok_or(SsoError::NotFound)?;
    if let Some(why) = cannot_join_yet(&mut tx, &org, provider, user).await? {
        return Ok(Joined::NotMember(why));
    }
    if let Some(request) =
        members::pending_for_email(&mut tx, org.id, email).await?.filter(|r| r.invite_status != InviteStatus::Approved)
    {
        members::delete_pending(&mut tx, request.id).await?;
    }
    let role = org.default_role;
    let row = match members::insert_membership(&mut tx, org.id, user.id, role, None, now).await {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Ok(Joined::Member),
        Err(err) => return Err(err.into()),
    };
    let data = json!({"email": email, "role": role, "via": "sso", "invite_status": "just_in_time"});
    crate::server::service::organizations::record_member_added(&mut tx, &row, user, email, ip, data, now).await?;
    tx.commit().await?;
    tracing::info!(member_id = row.id, user_id = user.id, org_id = org.id, "member added through SSO");
    Ok(Joined::Member)
}

/// Why the user cannot become a member now, if they cannot: the §5.3 checks
/// (`first_refusal`) for a just-in-time member — signed in, the address just proven by the
/// provider, through the provider — on the organization read under its seat lock, so
/// what is left is two-factor authentication and a free seat.
async fn cannot_join_yet(
    tx: &mut db::Conn,
    org: &OrgRow,
    provider: &ProviderRow,
    user: &UserRow,
) -> Result<Option<String>, SsoError> {
    let visitor = Visitor {
        signed_in: true,
        existing_member: false,
        email_matches: true,
        allow_email_mismatch: org.allow_email_mismatch,
        domain_mismatch: false,
        needs_2fa: crate::server::service::accept::needs_2fa(tx, org, user).await?,
        needs_email_verification: false,
        needs_sso: false,
        at_seat_limit: !seats::fit(org.member_limit, members::seats_used(tx, org.id).await? + 1),
    };
    Ok(first_refusal(&visitor).map(|refusal| match refusal {
        Refusal::Needs2fa => format!(
            "{} requires two-factor authentication. Set it up under Security, then sign in with {} again.",
            org.name, provider.display_name
        ),
        Refusal::SeatLimit => format!("{} has no seats left. Ask an owner to make room.", org.name),
        other => format!("You could not join {} yet: {}", org.name, other.details()),
    }))
}
