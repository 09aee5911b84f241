//! The audit log as a person reads it: each entry as one sentence ("Ada Owner invited
//! bob@example.com as member"). The API gives it as `note`, the page shows it; the raw
//! data stays beside it.

use serde_json::Value;

/// What one entry says, with the names the log resolved.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub event: &'a str,
    /// The actor's name, or their address when the account is gone; `None` for no one.
    pub actor: Option<&'a str>,
    /// The target's name, or the address the entry names.
    pub target: Option<&'a str>,
    /// The inviter of the member row the entry names.
    pub inviter: Option<&'a str>,
    pub data: &'a Value,
}

/// The names of the settings an `org.edit` entry may record, as a person says them.
const SETTINGS: &[(&str, &str)] = &[
    ("name", "the name"),
    ("require2FA", "the two-factor requirement"),
    ("requireEmailVerification", "the email verification requirement"),
    ("allowJoinRequests", "join requests"),
    ("defaultRole", "the default role"),
    ("allowEmailMismatch", "joining with another address"),
    ("memberLimit", "the member limit"),
];

/// The entry as one sentence, without a final full stop.
pub fn sentence(e: &Entry<'_>) -> String {
    let text = |key: &str| e.data.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let email = text("email");
    let actor = e.actor.unwrap_or("Someone");
    let target =
        e.target.map(str::to_owned).unwrap_or_else(|| if email.is_empty() { "a member".into() } else { email.clone() });
    let role = text("role");
    let number = |key: &str| e.data.get(key).and_then(Value::as_i64).unwrap_or_default();
    // Entries name the team by its name; older ones only by its slug.
    let team_name = || Some(text("teamName")).filter(|n| !n.is_empty()).unwrap_or_else(|| text("team"));
    match e.event {
        "org.create" => format!("{actor} created the organization"),
        "org.edit" => format!("{actor} changed {}", changed_settings(e.data)),
        "org.transfer-ownership" => format!("{actor} made {target} an owner and became a manager"),
        "member.invite" => format!("{actor} invited {email} as {role}"),
        "member.reinvite" => format!("{actor} resent the invite to {email}"),
        "invite.regenerate" => format!("{actor} sent {email} a new invite link; the earlier link stopped working"),
        "invite.revoke" => format!("{actor} revoked the invite to {email}"),
        "invite.decline" => format!("{actor} declined the invite to {email}"),
        "member.accept-invite" => match e.inviter {
            Some(inviter) => format!("{actor} joined through an invite from {inviter}"),
            None => format!("{actor} joined through an invite"),
        },
        "member.join-link" => format!("{actor} joined as {role} through join link #{}", number("join_link")),
        "join-link.create" => {
            let domain = text("email_domain");
            let only = if domain.is_empty() { String::new() } else { format!(" for addresses at {domain}") };
            format!("{actor} created join link #{} for up to {} {role}s{only}", number("join_link"), number("max_uses"))
        }
        "join-link.revoke" => format!("{actor} revoked join link #{}", number("join_link")),
        "member.add" if e.data.get("single_org").is_some() => format!("{actor} joined as {role} on registering"),
        "member.add" => format!("{actor} joined through single sign-on as {role}"),
        "member.edit" => format!("{actor} changed the role of {target} from {} to {role}", text("from")),
        "member.remove" => format!("{actor} removed {target}"),
        "member.leave" => format!("{actor} left the organization"),
        "member.left" => format!("{actor} left the organization by deleting their account"),
        "team.create" => format!("{actor} created the team {}", text("name")),
        "team.add-member" => format!("{actor} added {target} to the team {}", team_name()),
        "team.remove-member" => format!("{actor} took {target} off the team {}", team_name()),
        "invite-request.create" => format!("{actor} asked for {email} to be invited"),
        "invite-request.approve" => format!("{actor} approved the invite request for {email}"),
        "invite-request.reject" => format!("{actor} rejected the invite request for {email}"),
        "join-request.create" => format!("{email} asked to join"),
        "join-request.approve" => format!("{actor} approved the request of {email} to join"),
        "join-request.reject" => format!("{actor} rejected the request of {email} to join"),
        "sso.enable" => format!("{actor} set up single sign-on"),
        "sso.edit" => format!("{actor} changed the single sign-on settings"),
        "sso.disable" => format!("{actor} turned single sign-on off"),
        "sso.identity-link" => format!("{actor} linked an identity at the organization's provider"),
        "sso.identity-unlink" => format!("{actor} unlinked their identity at the organization's provider"),
        "webhook.create" => format!("{actor} added the webhook endpoint {}", text("url")),
        "webhook.update" => format!("{actor} changed the webhook endpoint {}", text("url")),
        "webhook.delete" => format!("{actor} deleted the webhook endpoint {}", text("url")),
        "webhook.rotate-secret" => format!("{actor} made a new secret for webhook endpoint #{}", number("webhook")),
        "webhook.redeliver" => {
            format!("{actor} redelivered delivery #{} of webhook endpoint #{}", number("delivery"), number("webhook"))
        }
        "webhook.disable" if text("reason") == "gone" => {
            format!("The webhook endpoint {} was disabled: it answered 410 Gone", text("url"))
        }
        "webhook.disable" => format!("The webhook endpoint {} was disabled after failing for five days", text("url")),
        other => format!("{actor}: {other}"),
    }
}

/// "the name and the member limit": the settings an `org.edit` entry records.
fn changed_settings(data: &Value) -> String {
    let Some(changed) = data.as_object() else { return "the settings".into() };
    let names: Vec<&str> =
        SETTINGS.iter().filter(|(key, _)| changed.contains_key(*key)).map(|(_, name)| *name).collect();
    match names.as_slice() {
        [] => "the settings".into(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn say(event: &str, actor: Option<&str>, target: Option<&str>, inviter: Option<&str>, data: Value) -> String {
        sentence(&Entry { event, actor, target, inviter, data: &data })
    }

    #[test]
    fn an_invite_and_its_acceptance_read_as_sentences_naming_the_people() {
        let invited =
            say("member.invite", Some("Ada Owner"), None, None, json!({"email": "bob@example.com", "role": "member"}));
        assert_eq!(invited, "Ada Owner invited bob@example.com as member");
        let joined = say("member.accept-invite", Some("Bob"), None, Some("Ada Owner"), json!({}));
        assert_eq!(joined, "Bob joined through an invite from Ada Owner");
        assert_eq!(say("member.accept-invite", Some("Bob"), None, None, json!({})), "Bob joined through an invite");
    }

    #[test]
    fn role_changes_and_settings_changes_say_what_changed() {
        let edit = say("member.edit", Some("Ada"), Some("Bob"), None, json!({"from": "member", "role": "manager"}));
        assert_eq!(edit, "Ada changed the role of Bob from member to manager");
        let settings =
            say("org.edit", Some("Ada"), None, None, json!({"name": {}, "memberLimit": {}, "require2FA": {}}));
        assert_eq!(settings, "Ada changed the name, the two-factor requirement and the member limit");
    }

    #[test]
    fn team_changes_name_the_team_by_its_name_or_else_its_slug() {
        let data = json!({"team": "design", "teamName": "Design Crew"});
        assert_eq!(
            say("team.add-member", Some("Ada"), Some("Bob"), None, data),
            "Ada added Bob to the team Design Crew"
        );
        let old = json!({"team": "design"});
        assert_eq!(say("team.remove-member", Some("Ada"), Some("Bob"), None, old), "Ada took Bob off the team design");
    }

    #[test]
    fn an_entry_without_an_actor_or_of_an_unknown_event_still_reads() {
        assert_eq!(say("join-request.create", None, None, None, json!({"email": "c@x.io"})), "c@x.io asked to join");
        assert_eq!(say("made.up", None, None, None, json!({})), "Someone: made.up");
    }
}
