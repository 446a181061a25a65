//! Free-text fields with their limits: titles, contents, names, reasons.
//!
//! Parsing trims surrounding white space, refuses control characters (except line breaks and
//! tabs in long texts) and counts *characters*, not bytes, since a Chinese character is three
//! bytes of UTF-8 and a limit of "200" means 200 characters to the person typing.

use serde::Serialize;

/// Why a text field was refused; carries the field name so the API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
}

impl TextError {
    pub fn field(&self) -> &'static str {
        match self {
            Self::Required { field } | Self::TooLong { field, .. } | Self::ControlCharacters { field } => {
                field
            }
        }
    }
}

/// Checks a free-text value: trimmed, non-empty when `required`, at most `max` characters.
/// Returns `None` for an empty optional value.
pub fn bounded(
    field: &'static str,
    raw: &str,
    max: usize,
    multiline: bool,
    required: bool,
) -> Result<Option<String>, TextError> {
    let s = raw.trim();
    if s.is_empty() {
        return if required {
            Err(TextError::Required { field })
        } else {
            Ok(None)
        };
    }
    if s.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if s.chars().any(bad) {
        return Err(TextError::ControlCharacters { field });
    }
    Ok(Some(s.to_string()))
}

macro_rules! text_type {
    ($(#[$m:meta])* $name:ident, $field:literal, $max:expr, $multiline:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX: usize = $max;

            /// Parses a required value.
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                bounded($field, raw, $max, $multiline, true)?
                    .map(Self)
                    .ok_or(TextError::Required { field: $field })
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

text_type!(
    /// The title of a matter (标题): one line, at most 200 characters.
    Title, "title", 200, false
);
text_type!(
    /// The content of a matter (诉求内容): up to 20,000 characters with line breaks.
    Content, "content", 20_000, true
);
text_type!(
    /// A person's name: at most 50 characters.
    PersonName, "name", 50, false
);
text_type!(
    /// A reason or note given with a transition (退回理由, 延期理由, …): up to 2,000 characters.
    Reason, "reason", 2_000, true
);
text_type!(
    /// A reply text (处理意见): up to 20,000 characters.
    ReplyText, "text", 20_000, true
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let t = "机".repeat(200);
        assert!(Title::parse(&t).is_ok());
        let t = "机".repeat(201);
        assert_eq!(
            Title::parse(&t),
            Err(TextError::TooLong {
                field: "title",
                max: 200
            })
        );
    }

    #[test]
    fn trims_and_requires() {
        assert_eq!(Title::parse("  大巴停运  ").unwrap().as_str(), "大巴停运");
        assert_eq!(Title::parse("   "), Err(TextError::Required { field: "title" }));
        assert!(Title::parse("a\nb").is_err());
        assert!(Content::parse("第一行\n第二行").is_ok());
        assert_eq!(bounded("location", " ", 10, false, false), Ok(None));
    }
}
