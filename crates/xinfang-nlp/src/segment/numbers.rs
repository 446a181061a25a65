//! Personal numbers in free text: mainland mobile numbers, landlines, resident ID numbers.
//!
//! One detector serves two callers. The classifier's [`crate::features::feature_text`] replaces
//! every run of seven or more digits with a placeholder so no model holds a number. Intake uses
//! [`find_personal_numbers`] to lift the numbers a petitioner typed into the text (to store them
//! encrypted, keyed by hash) and [`mask_personal_numbers`] for the text shown in lists
//! (138****5678), as DESIGN.md section 9 asks.
//!
//! A number is a run of digits, full-width or not, joined by single hyphens or spaces
//! (138-1234-5678, 138 1234 5678), with the trailing X of an ID number. Kinds:
//! - mobile: 11 digits 1[3-9]…, optionally after 86 (+86 138…);
//! - ID: 18 characters (17 digits and a digit or X), or the old 15 digits;
//! - landline: 0 + area code + number, 10–12 digits (0731-88886666, (0731)88886666), or 7–8
//!   digits right after a word that announces a phone (电话, 座机, 联系…).
//!
//! Other runs (order numbers, amounts, dates) are left alone by the masking.

use std::ops::Range;

/// What a personal number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalNumberKind {
    /// A mainland mobile number.
    Mobile,
    /// A fixed-line number.
    Landline,
    /// A resident ID number.
    IdCard,
}

/// A personal number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalNumber {
    /// What it is.
    pub kind: PersonalNumberKind,
    /// Its bytes in the text (separators and full-width digits included).
    pub range: Range<usize>,
    /// Its digits, half-width, ID check character as upper-case X, no separators or 86 prefix.
    pub digits: String,
}

fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - 0xFEE0),
        _ => None,
    }
}

/// The digit run starting at `start` (see the module doc): the end index and the digits, an ID
/// number's check character as `x`. `chars` may be raw or normalised text.
pub(crate) fn digit_run(chars: &[char], start: usize) -> (usize, Vec<char>) {
    let mut digits = Vec::new();
    let mut i = start;
    let mut end = start;
    while i < chars.len() {
        let c = chars[i];
        if let Some(d) = digit(c) {
            digits.push(d);
            i += 1;
            end = i;
        } else if matches!(c, '-' | ' ' | '－' | '\u{3000}')
            && chars.get(i + 1).and_then(|c| digit(*c)).is_some()
        {
            i += 1;
        } else {
            break;
        }
    }
    if digits.len() == 17
        && chars
            .get(end)
            .is_some_and(|c| matches!(c, 'x' | 'X' | 'ｘ' | 'Ｘ'))
    {
        digits.push('x');
        end += 1;
    }
    (end, digits)
}

/// The feature placeholder of a run of seven or more digits.
pub(crate) fn classify_number(digits: &[char]) -> char {
    use crate::features::{MASK_ID, MASK_NUMBER, MASK_PHONE};
    let n = digits.len();
    if n == 11 && digits[0] == '1' && ('3'..='9').contains(&digits[1]) {
        MASK_PHONE
    } else if n == 18 || n == 15 {
        MASK_ID
    } else {
        MASK_NUMBER
    }
}

fn is_mobile(d: &[char]) -> bool {
    d.len() == 11 && d[0] == '1' && ('3'..='9').contains(&d[1])
}

/// Words that announce a phone number just before it.
const PHONE_WORDS: [&str; 8] = ["电话", "座机", "联系", "号码", "致电", "拨打", "tel", "热线"];

fn kind_of(digits: &[char], before: &str) -> Option<(PersonalNumberKind, usize)> {
    let n = digits.len();
    if is_mobile(digits) {
        return Some((PersonalNumberKind::Mobile, 0));
    }
    if n == 13 && digits[0] == '8' && digits[1] == '6' && is_mobile(&digits[2..]) {
        return Some((PersonalNumberKind::Mobile, 2));
    }
    if (n == 18 && digits[..17].iter().all(char::is_ascii_digit)) || (n == 15 && digits[0] != '0') {
        return Some((PersonalNumberKind::IdCard, 0));
    }
    if (10..=12).contains(&n) && digits[0] == '0' && digits[1] != '0' {
        return Some((PersonalNumberKind::Landline, 0));
    }
    let lower = before.to_lowercase();
    if (7..=8).contains(&n) && digits[0] != '0' && PHONE_WORDS.iter().any(|w| lower.contains(w)) {
        return Some((PersonalNumberKind::Landline, 0));
    }
    None
}

/// The personal numbers in `text`, in order.
pub fn find_personal_numbers(text: &str) -> Vec<PersonalNumber> {
    let chars: Vec<char> = text.chars().collect();
    let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    offsets.push(text.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let (end, digits) = digit_run(&chars, i);
        let preceded_by_digit = i > 0 && digit(chars[i - 1]).is_some();
        let context: String = chars[i.saturating_sub(6)..i].iter().collect();
        let mut start = i;
        // (0731)88886666: the area code in brackets before the number.
        let bracketed = bracketed_area_code(&chars, i, &digits);
        let found = match bracketed {
            Some((open, ref all)) => {
                start = open;
                Some((PersonalNumberKind::Landline, 0, all.clone()))
            }
            None => kind_of(&digits, &context).map(|(k, skip)| (k, skip, digits[skip..].to_vec())),
        };
        if let (Some((kind, _, ds)), false) = (found, preceded_by_digit) {
            let mut s: String = ds.iter().collect();
            if kind == PersonalNumberKind::IdCard {
                s = s.to_uppercase();
            }
            out.push(PersonalNumber {
                kind,
                range: offsets[start]..offsets[end],
                digits: s,
            });
        }
        i = end.max(i + 1);
    }
    out
}

/// `(0731)88886666` or `（0731）8888-6666`: when `chars[at..]` is the number after a bracketed
/// area code, the index of the opening bracket and all the digits.
fn bracketed_area_code(chars: &[char], at: usize, number: &[char]) -> Option<(usize, Vec<char>)> {
    if !(7..=8).contains(&number.len()) || at < 5 || !matches!(chars[at - 1], ')' | '）') {
        return None;
    }
    let mut j = at - 1;
    let mut area = Vec::new();
    while j > 0 {
        j -= 1;
        match digit(chars[j]) {
            Some(d) => area.push(d),
            None => break,
        }
    }
    area.reverse();
    if !matches!(chars[j], '(' | '（') || !(3..=4).contains(&area.len()) || area[0] != '0' {
        return None;
    }
    area.extend_from_slice(number);
    Some((j, area))
}

/// `text` with each personal number masked for display: mobile 138****5678, landline
/// 0731****6666, ID 430105********123X (the first six and last four kept, as lists show them).
/// Other text, separators around the number included, is unchanged.
pub fn mask_personal_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for n in find_personal_numbers(text) {
        out.push_str(&text[last..n.range.start]);
        let d: Vec<char> = n.digits.chars().collect();
        let (head, tail) = match n.kind {
            PersonalNumberKind::Mobile => (3, 4),
            PersonalNumberKind::IdCard => (6, 4),
            PersonalNumberKind::Landline => (d.len().saturating_sub(8).clamp(0, 4), 4),
        };
        out.extend(&d[..head]);
        out.extend(std::iter::repeat_n('*', d.len() - head - tail));
        out.extend(&d[d.len() - tail..]);
        last = n.range.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use PersonalNumberKind::*;

    fn kinds(text: &str) -> Vec<(PersonalNumberKind, String)> {
        find_personal_numbers(text)
            .into_iter()
            .map(|n| (n.kind, n.digits))
            .collect()
    }

    #[test]
    fn mobile_numbers_are_masked() {
        assert_eq!(
            mask_personal_numbers("我的电话13812345678"),
            "我的电话138****5678"
        );
        assert_eq!(
            mask_personal_numbers("请回电 138-1234-5678。"),
            "请回电 138****5678。"
        );
        assert_eq!(
            mask_personal_numbers("手机：１３９１２３４５６７８"),
            "手机：139****5678"
        );
        assert_eq!(kinds("+86 13812345678"), vec![(Mobile, "13812345678".into())]);
        // 12345678901 does not start 1[3-9]; 2019 and 3栋 are not numbers of anyone.
        assert_eq!(
            mask_personal_numbers("编号12345678901，2019年3栋"),
            "编号12345678901，2019年3栋"
        );
    }

    #[test]
    fn id_numbers_are_masked() {
        assert_eq!(
            mask_personal_numbers("身份证43010519900307123x，"),
            "身份证430105********123X，"
        );
        assert_eq!(kinds("430105900307123"), vec![(IdCard, "430105900307123".into())]);
        let found = find_personal_numbers("号43010519900307123X止");
        assert_eq!(
            &"号43010519900307123X止"[found[0].range.clone()],
            "43010519900307123X"
        );
    }

    #[test]
    fn landlines_are_masked() {
        assert_eq!(mask_personal_numbers("座机0731-88886666"), "座机0731****6666");
        assert_eq!(mask_personal_numbers("(0731)88886666"), "0731****6666");
        assert_eq!(kinds("联系电话：88886666"), vec![(Landline, "88886666".into())]);
        // Seven or eight digits with nothing saying they are a phone: an order or an amount.
        assert!(kinds("订单88886666已付").is_empty());
        assert!(kinds("罚款2000000元").is_empty());
    }

    #[test]
    fn a_number_inside_a_longer_run_is_not_a_phone() {
        assert!(kinds("卡号6222021234567890123").is_empty());
    }
}
