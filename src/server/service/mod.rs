//! Use cases. Each public function is one thing a user or an operator does; it opens the
//! transaction when it writes, applies the domain rules and returns a use-case error.
//! Adapters (server functions, REST handlers) call these and only map errors.

pub mod accept;
pub mod account;
pub mod accounts;
pub mod emails;
pub mod invitations;
pub mod invites;
pub mod join_links;
pub mod limits;
pub mod mails;
pub mod members;
pub mod organizations;
pub mod problem;
pub mod requests;
pub mod sso;
pub mod two_factor;
pub mod webhooks;

/// Declares `From` conversions into a use-case error's `Internal` variant for errors that
/// are never the user's fault (database, hashing, session store). The conversion records
/// where it happened (the `?` that failed), so the log names the step and not only the
/// cause.
macro_rules! internal_errors {
    ($target:ty: $($source:ty),+ $(,)?) => {
        $(impl From<$source> for $target {
            #[track_caller]
            fn from(err: $source) -> Self {
                Self::Internal($crate::server::service::failed_at(anyhow::Error::new(err)))
            }
        })+
    };
}

/// `err` with the caller's source location as context: which step failed.
#[track_caller]
pub fn failed_at(err: anyhow::Error) -> anyhow::Error {
    let at = std::panic::Location::caller();
    err.context(format!("at {}:{}", at.file(), at.line()))
}
pub(crate) use internal_errors;

/// Declares `From<limits::LimitError>` for a use-case error with `RateLimited(&'static str)`
/// and `Internal` variants.
macro_rules! rate_limited_errors {
    ($($target:ty),+ $(,)?) => {
        $(impl From<$crate::server::service::limits::LimitError> for $target {
            fn from(err: $crate::server::service::limits::LimitError) -> Self {
                match err {
                    $crate::server::service::limits::LimitError::Limited(why) => Self::RateLimited(why),
                    $crate::server::service::limits::LimitError::Internal(err) => Self::Internal(err),
                }
            }
        })+
    };
}
pub(crate) use rate_limited_errors;

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    enum StepError {
        #[error(transparent)]
        Internal(anyhow::Error),
    }
    internal_errors!(StepError: std::io::Error);

    fn read_the_disk() -> Result<(), StepError> {
        let read: Result<(), std::io::Error> = Err(std::io::Error::other("disk unreadable"));
        read?;
        Ok(())
    }

    #[test]
    fn an_internal_error_names_the_step_that_failed_and_its_cause() {
        let Err(StepError::Internal(err)) = read_the_disk() else { panic!("the read fails") };
        let logged = format!("{err:#}");
        assert!(logged.starts_with(&format!("at {}:", file!())), "{logged}");
        assert!(logged.ends_with("disk unreadable"), "{logged}");
        let read_line =
            include_str!("mod.rs").lines().position(|line| line.trim() == "read?;").expect("the `?` below") + 1;
        assert!(logged.starts_with(&format!("at {}:{read_line}:", file!())), "the `?` that failed: {logged}");
    }
}
