//! The shared enums as database values: stored as their names in TEXT columns
//! (`members.role`, `members.invite_status`, `organizations.default_role`). Queries bind
//! `as_str()`; rows read them back with `try_get::<Role, _>` and the like, which parse the
//! name: a stored name that is not one of the enum's is a decode error
//! (`sqlx::Error::ColumnDecode`), never a default.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

use crate::model::{InviteStatus, Role};

macro_rules! text_enum {
    ($($ty:ty),*) => {$(
        impl Type<Any> for $ty {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $ty {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                let name = <String as Decode<'r, Any>>::decode(value)?;
                Ok(name.parse::<$ty>()?)
            }
        }
    )*};
}

text_enum!(Role, InviteStatus);

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::server::db::Db;

    #[tokio::test]
    async fn stored_names_decode_and_unknown_names_are_decode_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("e.sqlite3").display())).await.unwrap();
        let row = sqlx::query("SELECT $1 AS role, $2 AS status, 'admin' AS bad")
            .bind(Role::Manager.as_str())
            .bind(InviteStatus::RequestedToJoin.as_str())
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(row.try_get::<String, _>("role").unwrap(), "manager");
        assert_eq!(row.try_get::<Role, _>("role").unwrap(), Role::Manager);
        assert_eq!(row.try_get::<InviteStatus, _>("status").unwrap(), InviteStatus::RequestedToJoin);
        assert!(matches!(row.try_get::<Role, _>("bad"), Err(sqlx::Error::ColumnDecode { .. })));
        assert!(matches!(row.try_get::<InviteStatus, _>("bad"), Err(sqlx::Error::ColumnDecode { .. })));
    }
}
