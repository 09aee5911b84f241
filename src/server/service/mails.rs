//! Every mail the product sends, worded once (SPEC §8): a plain-text part and an HTML part
//! made from the same blocks, the HTML escaped, so that both say the same thing.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::server::db::{self, outbox};

/// A mail ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A mail being written: paragraphs and links, each added to both parts.
struct Compose {
    subject: String,
    text: String,
    html: String,
}

fn compose(subject: impl Into<String>, greeting: &str) -> Compose {
    let mut mail = Compose { subject: subject.into(), text: String::new(), html: String::new() };
    mail.text.push_str(&format!("{greeting}\n\n"));
    mail.html.push_str(&format!("<p>{}</p>\n", text(greeting)));
    mail
}

impl Compose {
    fn para(mut self, words: &str) -> Self {
        self.text.push_str(&format!("{words}\n\n"));
        self.html.push_str(&format!("<p>{}</p>\n", text(words)));
        self
    }

    /// A sentence leading to a link, the link as a button, and its address in full.
    fn link(mut self, lead: &str, label: &str, url: &str) -> Self {
        self.text.push_str(&format!("{lead}\n{url}\n\n"));
        self.html.push_str(&format!(
            "<p>{}</p>\n<p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#3b5bdb;\
             color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600\">{}</a></p>\n\
             <p style=\"font-size:13px;color:#555555;word-break:break-all\">Or open this address: <br>{}</p>\n",
            text(lead),
            attr(url),
            text(label),
            text(url)
        ));
        self
    }

    fn finish(self) -> Mail {
        let html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
             <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;\
             line-height:1.5;color:#1f2430;max-width:560px;margin:0 auto;padding:24px\">\n{}\
             <p style=\"font-size:13px;color:#555555\">Gatehouse</p>\n</body></html>\n",
            text(&self.subject),
            self.html
        );
        Mail { subject: self.subject, text: format!("{}-- \nGatehouse\n", self.text), html }
    }
}

/// Queues a mail in the caller's transaction; `member_id` ties it to an invite (its
/// delivery state is shown to the inviter).
pub async fn queue(
    conn: &mut db::Conn,
    to: &str,
    mail: &Mail,
    member_id: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    outbox::queue_mail(
        conn,
        outbox::NewMail { to, subject: &mail.subject, text: &mail.text, html: Some(&mail.html), member_id },
        now,
    )
    .await
}

fn hello(name: &str) -> String {
    format!("Hello {name},")
}

/// An invite (SPEC §5.1): names the inviter and the organization, carries the link.
pub fn invite(inviter: &str, org: &str, link: &str, days: i64) -> Mail {
    let s = if days == 1 { "" } else { "s" };
    compose(format!("{inviter} invited you to join {org} on Gatehouse"), "Hello,")
        .para(&format!("{inviter} invited you to join the organization {org} on Gatehouse."))
        .link("Accept the invite here:", "Accept the invite", link)
        .para(&format!(
            "The link works for {days} day{s}. If you did not expect this invite, you can ignore this email."
        ))
        .finish()
}

/// To the inviter: the person invited declined (SPEC §5.9).
pub fn invite_declined(inviter: &str, invitee: &str, org: &str, members_page: &str) -> Mail {
    compose(format!("{invitee} declined your invite to {org}"), &hello(inviter))
        .para(&format!("{invitee} declined your invite to join {org} on Gatehouse. The invite has been deleted."))
        .link("The organization's members and invites:", "Open the members page", members_page)
        .finish()
}

/// A webhook endpoint the server turned off (SPEC §8), to the organization's owners.
pub fn webhook_disabled(org: &str, url: &str, why: &str, webhooks_page: &str) -> Mail {
    compose(format!("Webhook endpoint disabled in {org}"), "Hello,")
        .para(&format!("Gatehouse stopped sending events of {org} to {url}: {why}"))
        .para("Events that happen while it is disabled are not sent to it. Enable it again once it answers; you can redeliver past deliveries from its page.")
        .link("The organization's webhooks:", "Open the webhooks page", webhooks_page)
        .finish()
}

/// A new invite or join request, to the organization's owners and managers (SPEC §5.7).
pub fn request_filed(subject: &str, asked: &str, members_page: &str) -> Mail {
    compose(subject, "Hello,")
        .para(asked)
        .link("Approve or reject the request on the members page:", "Open the members page", members_page)
        .finish()
}

/// The link that verifies an account's address (SPEC §7).
pub fn verify_address(name: &str, email: &str, link: &str, days: i64) -> Mail {
    compose("Confirm your email address", &hello(name))
        .link(&format!("Confirm that {email} is your email address by opening this link:"), "Confirm my address", link)
        .para(&format!(
            "The link works for {days} days. If you did not create an account on Gatehouse, ignore this email."
        ))
        .finish()
}

/// The link that moves an account to a new address, sent to that address (SPEC §4.7).
pub fn confirm_new_address(name: &str, email: &str, link: &str, days: i64) -> Mail {
    compose("Confirm your new email address", &hello(name))
        .para(&format!("You asked to change the email address of your Gatehouse account to {email}."))
        .link("Confirm the change by opening this link:", "Confirm my new address", link)
        .para(&format!(
            "Your address changes only when you open the link; it works for {days} days. If you did not ask for this, \
             ignore this email."
        ))
        .finish()
}

/// The notice to the old address that a change to `new_email` was asked for (SPEC §4.7).
pub fn address_change_asked(name: &str, new_email: &str, settings: &str) -> Mail {
    compose("Your email address is being changed", &hello(name))
        .para(&format!(
            "Someone signed in to your Gatehouse account asked to change its email address to {new_email}. The \
             address changes when the link sent to {new_email} is opened."
        ))
        .link(
            "If this was not you, change your password now and review your signed-in sessions:",
            "Review my account",
            settings,
        )
        .finish()
}

/// The password reset link (SPEC §4.5).
pub fn reset_password(name: &str, link: &str) -> Mail {
    compose("Reset your Gatehouse password", &hello(name))
        .para("Someone asked to reset the password of your Gatehouse account.")
        .link("Choose a new password here:", "Choose a new password", link)
        .para(
            "The link works for one hour and only once. If you did not ask for it, ignore this email: your \
             password stays as it is.",
        )
        .finish()
}

/// After a password was set by a reset or a change (SPEC §4.5).
pub fn password_changed(name: &str, recover: &str) -> Mail {
    compose("Your password was changed", &hello(name))
        .para("The password of your Gatehouse account was just changed, and every other signed-in session was signed out.")
        .link("If this was not you, reset your password at once:", "Reset my password", recover)
        .finish()
}

/// After two-factor authentication was turned off (SPEC §6).
pub fn two_factor_off(name: &str, security: &str) -> Mail {
    compose("Two-factor authentication was turned off", &hello(name))
        .para("Two-factor authentication was turned off for your Gatehouse account: signing in now needs only your password.")
        .link("If this was not you, change your password and turn it on again:", "Open security settings", security)
        .finish()
}

/// After new recovery codes replaced the old ones (SPEC §6).
pub fn recovery_codes_renewed(name: &str, security: &str) -> Mail {
    compose("Your recovery codes were renewed", &hello(name))
        .para("New recovery codes were made for your Gatehouse account; the previous codes no longer work.")
        .link("If this was not you, change your password at once:", "Open security settings", security)
        .finish()
}

/// After an account was deleted (SPEC §4.7).
pub fn account_deleted(name: &str) -> Mail {
    compose("Your Gatehouse account was deleted", &hello(name))
        .para(
            "Your Gatehouse account and its memberships were deleted, with every organization of which you were the \
             only member. This cannot be undone.",
        )
        .para("If you did not ask for this, reply to this email.")
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_the_link_and_the_html_is_escaped() {
        let mail = reset_password("<b>Ada</b> & co", "https://example.com/account/recover/confirm/1/abc/?a=1&b=2");
        assert!(mail.text.contains("Hello <b>Ada</b> & co,"));
        assert!(mail.text.contains("https://example.com/account/recover/confirm/1/abc/?a=1&b=2\n"));
        assert!(mail.html.contains("Hello &lt;b&gt;Ada&lt;/b&gt; &amp; co,"), "{}", mail.html);
        assert!(!mail.html.contains("<b>Ada"));
        assert!(mail.html.contains("href=\"https://example.com/account/recover/confirm/1/abc/?a=1&amp;b=2\""));
    }

    #[test]
    fn a_name_cannot_close_the_html_attribute_or_add_tags() {
        let mail = invite("\"><script>alert(1)</script>", "Org", "https://x.example/accept/1/t/", 3);
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
    }

    #[test]
    fn html_lines_stay_short_enough_for_plain_mail_transport() {
        let mail = confirm_new_address("Ada", "ada@example.com", "https://example.com/auth/verify-email/x/", 3);
        assert!(mail.html.lines().all(|l| l.len() < 900));
        assert!(mail.text.lines().all(|l| l.len() < 900));
    }
}
