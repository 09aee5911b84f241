//! Single sign-on rules that need no I/O (SPEC §9.1, §9.10): what a provider's answer may
//! do to the accounts of this site, and how long a sign-in through the provider counts.

/// How long a sign-in through an organization's provider lets this session use an
/// organization that requires single sign-on (§9.10).
pub const FRESH_SIGN_IN_SECS: i64 = 20 * 3600;

/// Why a sign-in through the provider was started, chosen on this site's own page and
/// recorded in the flow (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Sign in (or, for someone new with a way in, create an account).
    #[default]
    Login,
    /// Link the provider identity to the signed-in account, which proved its password.
    Link,
}

impl Intent {
    /// The form field `intent`: `login` (the default when absent or empty) or `link`.
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        match raw.map(str::trim) {
            None | Some("" | "login") => Some(Self::Login),
            Some("link") => Some(Self::Link),
            Some(_) => None,
        }
    }
}

/// What the callback does with the identity the provider vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChoice {
    /// Link the identity to the signed-in account that asked for it.
    LinkCurrent,
    /// The identity is linked to this account: sign it in (or keep it signed in).
    Linked(i64),
    /// Nobody is signed in and the identity is new: an account may be created for it.
    New,
}

/// Why the callback does nothing with the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    /// A link flow whose account is no longer the one signed in here.
    LinkNotYours,
    /// The identity belongs to another account than the signed-in one.
    IdentityTaken,
    /// A signed-in account that is not linked used the plain sign-in: linking needs the
    /// link intent and the password.
    NotLinked,
}

/// Decides what a provider's answer may do (§9.1): only a `link` flow started by the
/// account still signed in links an identity, and a `login` flow only signs in the account
/// the identity is already linked to (or, anonymously, a new one).
///
/// `flow_user` started the flow (link intents only), `current` is signed in now,
/// `linked_to` holds the identity today.
pub fn choose_account(
    intent: Intent,
    flow_user: Option<i64>,
    current: Option<i64>,
    linked_to: Option<i64>,
) -> Result<AccountChoice, AccountRefusal> {
    match intent {
        Intent::Link => {
            let Some(current) = current.filter(|c| flow_user == Some(*c)) else {
                return Err(AccountRefusal::LinkNotYours);
            };
            match linked_to {
                None => Ok(AccountChoice::LinkCurrent),
                Some(owner) if owner == current => Ok(AccountChoice::Linked(owner)),
                Some(_) => Err(AccountRefusal::IdentityTaken),
            }
        }
        Intent::Login => match (linked_to, current) {
            (Some(owner), Some(current)) if owner != current => Err(AccountRefusal::IdentityTaken),
            (Some(owner), _) => Ok(AccountChoice::Linked(owner)),
            (None, Some(_)) => Err(AccountRefusal::NotLinked),
            (None, None) => Ok(AccountChoice::New),
        },
    }
}

/// Whether a sign-in through the provider at `at` still counts at `now`.
pub fn is_fresh(at: i64, now: i64) -> bool {
    at <= now && now - at < FRESH_SIGN_IN_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intent_is_login_unless_link_is_asked_for() {
        assert_eq!(Intent::parse(None), Some(Intent::Login));
        assert_eq!(Intent::parse(Some("")), Some(Intent::Login));
        assert_eq!(Intent::parse(Some("login")), Some(Intent::Login));
        assert_eq!(Intent::parse(Some("link")), Some(Intent::Link));
        assert_eq!(Intent::parse(Some("LINK; drop")), None);
    }

    #[test]
    fn only_the_account_that_asked_for_a_link_gets_one() {
        assert_eq!(choose_account(Intent::Link, Some(1), Some(1), None), Ok(AccountChoice::LinkCurrent));
        assert_eq!(choose_account(Intent::Link, Some(1), Some(2), None), Err(AccountRefusal::LinkNotYours));
        assert_eq!(choose_account(Intent::Link, Some(1), None, None), Err(AccountRefusal::LinkNotYours));
        assert_eq!(choose_account(Intent::Link, None, Some(1), None), Err(AccountRefusal::LinkNotYours));
        assert_eq!(choose_account(Intent::Link, Some(1), Some(1), Some(1)), Ok(AccountChoice::Linked(1)));
        assert_eq!(choose_account(Intent::Link, Some(1), Some(1), Some(3)), Err(AccountRefusal::IdentityTaken));
    }

    #[test]
    fn a_login_never_links_and_never_switches_accounts() {
        assert_eq!(choose_account(Intent::Login, None, Some(1), None), Err(AccountRefusal::NotLinked));
        assert_eq!(choose_account(Intent::Login, None, Some(1), Some(2)), Err(AccountRefusal::IdentityTaken));
        assert_eq!(choose_account(Intent::Login, None, Some(2), Some(2)), Ok(AccountChoice::Linked(2)));
        assert_eq!(choose_account(Intent::Login, None, None, Some(2)), Ok(AccountChoice::Linked(2)));
        assert_eq!(choose_account(Intent::Login, None, None, None), Ok(AccountChoice::New));
    }

    #[test]
    fn a_provider_sign_in_counts_for_twenty_hours() {
        assert!(is_fresh(1_000, 1_000));
        assert!(is_fresh(1_000, 1_000 + FRESH_SIGN_IN_SECS - 1));
        assert!(!is_fresh(1_000, 1_000 + FRESH_SIGN_IN_SECS));
        assert!(!is_fresh(2_000, 1_000), "a time in the future is not trusted");
    }
}
