//! The server functions' side of the server: what the `#[server]` functions in
//! `crate::app` call besides the use cases.
//!
//! - [`context`]: the state, the session, the signed-in user and the client's address of
//!   the request being answered;
//! - [`answer`]: a use-case failure as an [`AppError`](crate::app::wire::AppError) with the
//!   HTTP status of its kind (`http::reply::status`), and the typed values a form gets back;
//! - [`views`]: rows and use-case results as the wire types the pages render.

pub mod answer;
pub mod context;
pub mod views;

pub use answer::{set_error_status, values, with_values};
pub use context::{allow_form_action, client_ip, context, user_context};
