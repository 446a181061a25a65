//! Petitioner identity values: phone numbers, ID documents and their masking.
//!
//! These are parsed once at the edge (HTTP, import, demo) and travel inside as valid values.
//! A resident ID number is checked against the GB 11643-1999 check digit, so a typo in one digit
//! is caught at registration instead of breaking the repeat detection later. Masking lives here
//! too, because "what a list shows of a phone number" is a domain rule, not a view detail.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a phone number or ID document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("not a mainland mobile or landline number")]
    Phone,
    #[error("resident ID number must be 18 characters: 17 digits and a check digit or X")]
    IdFormat,
    #[error("resident ID number has a wrong check digit")]
    IdCheckDigit,
    #[error("resident ID number has an impossible birth date")]
    IdBirthDate,
    #[error("document number has an invalid format")]
    DocumentFormat,
    #[error("unknown document kind")]
    DocumentKind,
}

/// A mainland mobile (`1[3-9]` + 9 digits) or landline (area code `0xx`/`0xxx`, 7–8 digits,
/// optional extension) number, stored in a canonical form without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a phone number, tolerating spaces, dashes and a leading `+86`/`86`.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{3000}' | '(' | ')' | '（' | '）'))
            .map(to_half_width)
            .collect();
        let cleaned = cleaned
            .strip_prefix("+86")
            .or_else(|| cleaned.strip_prefix("0086"))
            .unwrap_or(&cleaned)
            .to_string();
        let digits_only = cleaned.replace('-', "");
        // Mobile: 11 digits starting 1[3-9].
        if digits_only.len() == 11
            && digits_only.bytes().all(|b| b.is_ascii_digit())
            && digits_only.as_bytes()[0] == b'1'
            && (b'3'..=b'9').contains(&digits_only.as_bytes()[1])
        {
            return Ok(Self(digits_only));
        }
        // Landline: 0 + 2–3 digit area code, 7–8 digit subscriber, optional -ext.
        let mut parts = cleaned.split('-');
        let first = parts.next().unwrap_or("");
        let (area, subscriber, ext) = if first.starts_with('0') && first.len() <= 4 {
            (
                first.to_string(),
                parts.next().unwrap_or("").to_string(),
                parts.next(),
            )
        } else if first.starts_with('0') && (10..=12).contains(&first.len()) {
            // Written without a dash: guess the area code length (3 for 010/02x, else 4).
            let split = if first.starts_with("01") || first.starts_with("02") {
                3
            } else {
                4
            };
            (
                first[..split].to_string(),
                first[split..].to_string(),
                parts.next(),
            )
        } else {
            return Err(IdentityError::Phone);
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let area_ok = all_digits(&area) && (3..=4).contains(&area.len()) && area != "000";
        let sub_ok =
            all_digits(&subscriber) && (7..=8).contains(&subscriber.len()) && !subscriber.starts_with('0');
        let ext_ok = ext.is_none_or(|e| all_digits(e) && e.len() <= 6);
        if area_ok && sub_ok && ext_ok && parts.next().is_none() {
            let mut s = format!("{area}-{subscriber}");
            if let Some(e) = ext {
                s.push('-');
                s.push_str(e);
            }
            Ok(Self(s))
        } else {
            Err(IdentityError::Phone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form every list, export and log shows: `138****5678`, `010-****5678`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

impl fmt::Display for PhoneNumber {
    /// Displays the masked form, so a stray `{}` in a log line never leaks the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The kinds of identity document a petitioner may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 居民身份证 (GB 11643).
    ResidentId,
    /// 护照.
    Passport,
    /// 港澳居民来往内地通行证.
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::Passport => "passport",
            Self::HkMacaoPermit => "hk_macao_permit",
            Self::TaiwanPermit => "taiwan_permit",
        }
    }

    pub fn parse(code: &str) -> Result<Self, IdentityError> {
        Ok(match code {
            "resident_id" => Self::ResidentId,
            "passport" => Self::Passport,
            "hk_macao_permit" => Self::HkMacaoPermit,
            "taiwan_permit" => Self::TaiwanPermit,
            _ => return Err(IdentityError::DocumentKind),
        })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ResidentId => "居民身份证",
            Self::Passport => "护照",
            Self::HkMacaoPermit => "港澳居民来往内地通行证",
            Self::TaiwanPermit => "台湾居民来往大陆通行证",
        }
    }
}

/// An identity document: its kind and a validated, upper-cased number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdDocument {
    kind: DocumentKind,
    number: String,
}

impl IdDocument {
    /// Validates `number` for `kind`: the GB 11643 check digit and birth date for resident IDs,
    /// the published shapes for passports (5–17 letters/digits) and the two permits
    /// (H/M + 8 or 10 digits; 8 or 10 digits for Taiwan).
    pub fn parse(kind: DocumentKind, number: &str) -> Result<Self, IdentityError> {
        let n: String = number
            .trim()
            .chars()
            .map(to_half_width)
            .collect::<String>()
            .to_ascii_uppercase();
        match kind {
            DocumentKind::ResidentId => check_resident_id(&n)?,
            DocumentKind::Passport => {
                if !(5..=17).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(IdentityError::DocumentFormat);
                }
            }
            DocumentKind::HkMacaoPermit => {
                let ok = (n.starts_with('H') || n.starts_with('M'))
                    && matches!(n.len(), 9 | 11)
                    && n[1..].bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(IdentityError::DocumentFormat);
                }
            }
            DocumentKind::TaiwanPermit => {
                if !matches!(n.len(), 8 | 10) || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IdentityError::DocumentFormat);
                }
            }
        }
        Ok(Self { kind, number: n })
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    /// `110105********1234`-style masking: the first 6 and last 4 characters stay.
    pub fn masked(&self) -> String {
        let keep_head = if self.number.len() >= 15 { 6 } else { 1 };
        mask_middle(
            &self.number,
            keep_head,
            4.min(self.number.len().saturating_sub(keep_head)),
        )
    }
}

/// The GB 11643-1999 check character for the first 17 digits of a resident ID number, or
/// `None` when the input is not 17 ASCII digits.
pub fn gb11643_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

fn check_resident_id(n: &str) -> Result<(), IdentityError> {
    if n.len() != 18 || !n.is_ascii() {
        return Err(IdentityError::IdFormat);
    }
    let (body, check) = n.split_at(17);
    let expected = gb11643_check_char(body).ok_or(IdentityError::IdFormat)?;
    if !check.starts_with(expected) {
        return Err(IdentityError::IdCheckDigit);
    }
    let birth = &body[6..14];
    let date = chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").map_err(|_| IdentityError::IdBirthDate)?;
    if date.format("%Y").to_string().as_str() < "1900" {
        return Err(IdentityError::IdBirthDate);
    }
    Ok(())
}

/// Replaces the middle of `s` with `*`, keeping `head` leading and `tail` trailing characters
/// (dashes in landlines are kept so the area code stays readable).
pub fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < head || i >= chars.len() - tail || c == '-' {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Maps full-width ASCII forms (ＡＢＣ１２３) to their half-width counterparts.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_parse_and_mask() {
        let p = PhoneNumber::parse("138 1234 5678").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p}"), "138****5678");
        assert_eq!(
            PhoneNumber::parse("+86 13912345678").unwrap().as_str(),
            "13912345678"
        );
        assert_eq!(
            PhoneNumber::parse("１３８１２３４５６７８").unwrap().as_str(),
            "13812345678"
        );
    }

    #[test]
    fn landlines_parse() {
        assert_eq!(
            PhoneNumber::parse("010-12345678").unwrap().as_str(),
            "010-12345678"
        );
        assert_eq!(
            PhoneNumber::parse("0755-8765432").unwrap().as_str(),
            "0755-8765432"
        );
        assert_eq!(
            PhoneNumber::parse("02012345678").unwrap().as_str(),
            "020-12345678"
        );
        assert_eq!(
            PhoneNumber::parse("010-12345678").unwrap().masked(),
            "010-****5678"
        );
    }

    #[test]
    fn bad_phone_numbers_are_refused() {
        for bad in [
            "12812345678",
            "1381234567",
            "138123456789",
            "abc",
            "",
            "010-123",
            "12345678",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(IdentityError::Phone), "{bad}");
        }
    }

    #[test]
    fn resident_id_check_digit() {
        // The standard's own worked example.
        assert_eq!(gb11643_check_char("11010519491231002"), Some('X'));
        assert!(IdDocument::parse(DocumentKind::ResidentId, "11010519491231002X").is_ok());
        assert!(IdDocument::parse(DocumentKind::ResidentId, "11010519491231002x").is_ok());
        assert_eq!(
            IdDocument::parse(DocumentKind::ResidentId, "110105194912310021"),
            Err(IdentityError::IdCheckDigit)
        );
        assert_eq!(
            IdDocument::parse(DocumentKind::ResidentId, "1101051949123100"),
            Err(IdentityError::IdFormat)
        );
        // Valid check digit over an impossible date (Feb 30).
        let body = "11010519490230002";
        let id = format!("{body}{}", gb11643_check_char(body).unwrap());
        assert_eq!(
            IdDocument::parse(DocumentKind::ResidentId, &id),
            Err(IdentityError::IdBirthDate)
        );
    }

    #[test]
    fn id_masking_keeps_region_and_tail() {
        let id = IdDocument::parse(DocumentKind::ResidentId, "11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn permits_and_passports() {
        assert!(IdDocument::parse(DocumentKind::HkMacaoPermit, "H12345678").is_ok());
        assert!(IdDocument::parse(DocumentKind::HkMacaoPermit, "X12345678").is_err());
        assert!(IdDocument::parse(DocumentKind::TaiwanPermit, "12345678").is_ok());
        assert!(IdDocument::parse(DocumentKind::Passport, "E12345678").is_ok());
        assert!(IdDocument::parse(DocumentKind::Passport, "E1").is_err());
    }
}
