//! Life-cycle enums stored as `TEXT` columns: the text in SQLite is the enum's `as_str()`, so
//! the schema and its `CHECK` constraints stay as they are.

/// Implements `Display` (padded, for tables), rusqlite's `ToSql` and `FromSql` for an enum with
/// `fn as_str(self) -> &'static str` and `fn parse(&str) -> Option<Self>`.
macro_rules! text_column {
    ($ty:ty, $what:literal) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> ::rusqlite::Result<::rusqlite::types::ToSqlOutput<'_>> {
                Ok(::rusqlite::types::ToSqlOutput::Borrowed(
                    ::rusqlite::types::ValueRef::Text(self.as_str().as_bytes()),
                ))
            }
        }

        impl ::rusqlite::types::FromSql for $ty {
            fn column_result(
                value: ::rusqlite::types::ValueRef<'_>,
            ) -> ::rusqlite::types::FromSqlResult<Self> {
                // The stored text is not echoed: an unknown state is a schema bug, not input.
                Self::parse(value.as_str()?).ok_or_else(|| {
                    ::rusqlite::types::FromSqlError::Other(concat!($what, " inconnu").into())
                })
            }
        }
    };
}

pub(crate) use text_column;
