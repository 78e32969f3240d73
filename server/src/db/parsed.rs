//! Text columns read straight into the types that parse them (the status enums), so a query
//! macro can name the type and a value the code does not know fails the read.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, Postgres, Type};

use app::model::phases::DeliverableStatus;
use app::model::rollouts::ItemStatus;

/// A text column parsed with `T::try_from`. Used as a column's type override in the query
/// macros (`e.status AS "status!: Parsed<ItemStatus>"`); the row's field is the plain `T`.
pub struct Parsed<T>(pub T);

impl<T> Type<Postgres> for Parsed<T> {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r, T: TryFrom<String, Error = String>> Decode<'r, Postgres> for Parsed<T> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<Postgres>>::decode(value)?;
        Ok(Parsed(T::try_from(text)?))
    }
}

// The macros convert a column's value into the row's field with `Into`; these say how.
impl From<Parsed<ItemStatus>> for ItemStatus {
    fn from(parsed: Parsed<ItemStatus>) -> Self {
        parsed.0
    }
}

impl From<Parsed<DeliverableStatus>> for DeliverableStatus {
    fn from(parsed: Parsed<DeliverableStatus>) -> Self {
        parsed.0
    }
}
