//! The Chinese statutory holiday calendar, with its adjusted working days (调休).
//!
//! Working-day time limits (12345 work orders, "5 working days") and the holiday shift of
//! calendar-day limits need to know which dates are days off. The rule is:
//! - a date listed as [`DayKind::Holiday`] is a day off, a date listed as [`DayKind::Workday`] is
//!   a working day (a Saturday or Sunday swapped for a holiday);
//! - any other date is a working day from Monday to Friday and a day off on Saturday and Sunday.
//!
//! The State Council announces each year's holidays in the autumn before, so the data cannot be
//! complete: [`Calendar::builtin`] holds 2020–2026 (compiled in from `data/cn_holidays.csv`),
//! admins upload later years in the same CSV format ([`Calendar::parse_csv`],
//! [`Calendar::with_entries`]), and for a year with no data the calendar falls back to weekends
//! only. [`Calendar::missing_years`] tells the server which years to warn about.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

/// What a listed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off (法定节假日 or a day off in lieu).
    Holiday,
    /// A Saturday or Sunday that is a working day (调休上班).
    Workday,
}

impl DayKind {
    /// The code used in the CSV: `holiday` or `workday`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::Workday => "workday",
        }
    }

    /// Parses a CSV code; `None` for anything else.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "holiday" => Some(Self::Holiday),
            "workday" => Some(Self::Workday),
            _ => None,
        }
    }
}

/// One listed date of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// The listed date.
    pub date: NaiveDate,
    /// Day off or worked weekend day.
    pub kind: DayKind,
    /// The holiday's Chinese name (国庆节); for a workday, the holiday it was swapped for.
    pub name_zh: String,
}

/// An uploaded calendar file with bad rows. Nothing of the file is used: every problem is
/// listed so the admin can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the holiday calendar has {} bad row(s): {}", rows.len(), describe(rows))]
pub struct CalendarError {
    /// `(line number, message)`, line numbers counted from 1 (the header is line 1).
    pub rows: Vec<(usize, String)>,
}

fn describe(rows: &[(usize, String)]) -> String {
    rows.iter()
        .map(|(line, message)| format!("line {line}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The header of the calendar CSV.
const HEADER: [&str; 5] = ["date", "kind", "name", "name_zh", "in_lieu"];

/// The compiled-in data, 2020–2026.
const BUILTIN_CSV: &str = include_str!("../data/cn_holidays.csv");

/// The compiled-in calendar, parsed once. The file is checked by a unit test, so the rows it
/// would drop on a parse error never exist in practice.
static BUILTIN: LazyLock<Calendar> =
    LazyLock::new(|| Calendar::weekends_only().with_entries(parse_rows(BUILTIN_CSV).0));

/// A holiday calendar: the listed dates, and the years they cover. Cloning is cheap (the data
/// is shared), so services can hand out copies freely.
#[derive(Clone, Debug)]
pub struct Calendar {
    entries: Arc<BTreeMap<NaiveDate, CalendarEntry>>,
    years: Arc<BTreeSet<i32>>,
}

impl Calendar {
    /// The statutory holidays and adjusted working days of 2020–2026, compiled into the binary.
    pub fn builtin() -> Calendar {
        BUILTIN.clone()
    }

    /// A calendar without holidays: Monday to Friday are working days. Covers no year.
    pub fn weekends_only() -> Calendar {
        Calendar {
            entries: Arc::new(BTreeMap::new()),
            years: Arc::new(BTreeSet::new()),
        }
    }

    /// Parses a calendar file: a header `date,kind,name,name_zh,in_lieu`, then one row per date
    /// (`2027-10-01,holiday,National Day,国庆节,0`). Accepts a UTF-8 byte order mark, CRLF line
    /// ends, blank lines and double-quoted fields (as spreadsheets write them).
    ///
    /// # Errors
    /// A [`CalendarError`] listing every bad row with its line number: a missing or wrong
    /// header, a wrong number of columns, a bad date, a kind other than `holiday`/`workday`, a
    /// `workday` that is not a Saturday or Sunday, an `in_lieu` other than 0/1, or a date listed
    /// twice.
    pub fn parse_csv(text: &str) -> Result<Vec<CalendarEntry>, CalendarError> {
        let (entries, rows) = parse_rows(text);
        if rows.is_empty() {
            Ok(entries)
        } else {
            Err(CalendarError { rows })
        }
    }

    /// This calendar with `entries` added. An entry for a date already listed replaces it (the
    /// last one wins), so an admin can correct the built-in data as well as add years. Every
    /// year with at least one entry counts as covered.
    pub fn with_entries(mut self, entries: impl IntoIterator<Item = CalendarEntry>) -> Calendar {
        let map = Arc::make_mut(&mut self.entries);
        let years = Arc::make_mut(&mut self.years);
        for entry in entries {
            years.insert(entry.date.year());
            map.insert(entry.date, entry);
        }
        self
    }

    /// Whether `d` is a working day: a listed date by its kind, otherwise Monday to Friday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.entries.get(&d) {
            Some(entry) => entry.kind == DayKind::Workday,
            None => !is_weekend(d),
        }
    }

    /// The entry listed for `d`, if any.
    pub fn entry(&self, d: NaiveDate) -> Option<&CalendarEntry> {
        self.entries.get(&d)
    }

    /// Whether the calendar has data for `year` (at least one entry).
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years with data, in ascending order.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The years from `from`'s to `to`'s (inclusive) without data, in ascending order; empty
    /// when `from` is after `to`. For those years working days are counted as Monday to Friday,
    /// which the server reports to admins.
    pub fn missing_years(&self, from: NaiveDate, to: NaiveDate) -> Vec<i32> {
        (from.year()..=to.year())
            .filter(|year| !self.covers_year(*year))
            .collect()
    }

    /// `d` if it is a working day, otherwise the first working day after it. Returns the last
    /// representable date if the calendar has no working day before it.
    pub fn next_working_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        while !self.is_working_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        day
    }

    /// The listed dates, in date order.
    pub fn entries(&self) -> impl Iterator<Item = &CalendarEntry> {
        self.entries.values()
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Parses every row it can and lists the problems of the others.
fn parse_rows(text: &str) -> (Vec<CalendarEntry>, Vec<(usize, String)>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut header_seen = false;

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let fields = match split_csv_line(line) {
            Ok(fields) => fields,
            Err(message) => {
                errors.push((line_no, message));
                header_seen = true;
                continue;
            }
        };
        if !header_seen {
            header_seen = true;
            let names: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
            if names.iter().map(String::as_str).eq(HEADER) {
                continue;
            }
            errors.push((line_no, format!("expected the header `{}`", HEADER.join(","))));
            // Still try the line as data: a file without header gets its rows checked too.
            if names.first().is_some_and(|n| n == "date") {
                continue;
            }
        }
        match parse_entry(&fields) {
            Ok(entry) => {
                if let Some(first) = first_line_of.get(&entry.date) {
                    errors.push((
                        line_no,
                        format!("{} is already listed on line {first}", entry.date),
                    ));
                } else {
                    first_line_of.insert(entry.date, line_no);
                    entries.push(entry);
                }
            }
            Err(problems) => errors.push((line_no, problems.join(", "))),
        }
    }
    (entries, errors)
}

/// Checks one data row; every problem of the row is reported.
fn parse_entry(fields: &[String]) -> Result<CalendarEntry, Vec<String>> {
    if fields.len() != HEADER.len() {
        return Err(vec![format!(
            "expected {} columns ({}), found {}",
            HEADER.len(),
            HEADER.join(","),
            fields.len()
        )]);
    }
    let mut problems = Vec::new();
    let date_text = fields[0].trim();
    let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(format!("`{date_text}` is not a date like 2027-10-01"));
    }
    let kind_text = fields[1].trim();
    let kind = DayKind::parse(&kind_text.to_lowercase());
    if kind.is_none() {
        problems.push(format!("kind `{kind_text}` is neither `holiday` nor `workday`"));
    }
    if let (Some(d), Some(DayKind::Workday)) = (date, kind)
        && !is_weekend(d)
    {
        problems.push(format!(
            "{d} is not a Saturday or Sunday: a `workday` row marks a weekend day that is worked"
        ));
    }
    let in_lieu = fields[4].trim();
    if !matches!(in_lieu, "" | "0" | "1") {
        problems.push(format!("in_lieu `{in_lieu}` is neither 0 nor 1"));
    }
    let name_zh = match fields[3].trim() {
        "" => fields[2].trim(),
        zh => zh,
    };
    match (date, kind) {
        (Some(date), Some(kind)) if problems.is_empty() => Ok(CalendarEntry {
            date,
            kind,
            name_zh: name_zh.to_string(),
        }),
        _ => Err(problems),
    }
}

/// Splits one CSV line into fields. Fields may be double-quoted; `""` inside quotes is a quote.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err("a quoted field is not closed".to_string());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn builtin_data_parses_without_errors() {
        let entries = Calendar::parse_csv(BUILTIN_CSV).expect("the compiled-in calendar is valid");
        assert_eq!(entries.len(), 256);
        let cal = Calendar::builtin();
        assert_eq!(cal.entries().count(), 256);
        assert_eq!(
            cal.covered_years().collect::<Vec<_>>(),
            (2020..=2026).collect::<Vec<_>>()
        );
    }

    #[test]
    fn national_day_2024() {
        let cal = Calendar::builtin();
        for day in 1..=7 {
            assert!(!cal.is_working_day(date(2024, 10, day)), "2024-10-0{day} is off");
        }
        assert_eq!(
            cal.entry(date(2024, 10, 1)).map(|e| e.name_zh.as_str()),
            Some("国庆节")
        );
        // The swapped weekend days before and after are worked.
        assert_eq!(date(2024, 9, 29).weekday(), Weekday::Sun);
        assert!(cal.is_working_day(date(2024, 9, 29)));
        assert_eq!(date(2024, 10, 12).weekday(), Weekday::Sat);
        assert!(cal.is_working_day(date(2024, 10, 12)));
        assert!(cal.is_working_day(date(2024, 10, 8)));
        assert_eq!(
            cal.next_working_day_on_or_after(date(2024, 10, 1)),
            date(2024, 10, 8)
        );
        assert_eq!(
            cal.next_working_day_on_or_after(date(2024, 9, 30)),
            date(2024, 9, 30)
        );
    }

    #[test]
    fn spring_festival_2026() {
        let cal = Calendar::builtin();
        // 2026-02-15 (Sunday) to 2026-02-23 (Monday) off; Saturdays 02-14 and 02-28 worked.
        for day in 15..=23 {
            assert!(!cal.is_working_day(date(2026, 2, day)), "2026-02-{day} is off");
        }
        assert!(cal.is_working_day(date(2026, 2, 13)));
        assert!(cal.is_working_day(date(2026, 2, 14)));
        assert!(cal.is_working_day(date(2026, 2, 24)));
        assert!(cal.is_working_day(date(2026, 2, 28)));
        assert_eq!(
            cal.next_working_day_on_or_after(date(2026, 2, 15)),
            date(2026, 2, 24)
        );
    }

    #[test]
    fn ordinary_weekend() {
        let cal = Calendar::builtin();
        assert!(cal.is_working_day(date(2024, 10, 18))); // Friday
        assert!(!cal.is_working_day(date(2024, 10, 19))); // Saturday
        assert!(!cal.is_working_day(date(2024, 10, 20))); // Sunday
        assert_eq!(
            cal.next_working_day_on_or_after(date(2024, 10, 19)),
            date(2024, 10, 21)
        );
    }

    #[test]
    fn a_year_without_data_counts_weekends_only() {
        let cal = Calendar::builtin();
        assert!(cal.covers_year(2026));
        assert!(!cal.covers_year(2027));
        // 2027-10-01 is a Friday: a working day as far as the calendar knows.
        assert!(cal.is_working_day(date(2027, 10, 1)));
        assert!(!cal.is_working_day(date(2027, 10, 2)));
        assert_eq!(
            cal.missing_years(date(2026, 12, 1), date(2028, 2, 1)),
            vec![2027, 2028]
        );
        assert_eq!(
            cal.missing_years(date(2024, 1, 1), date(2026, 12, 31)),
            Vec::<i32>::new()
        );
        assert_eq!(
            cal.missing_years(date(2028, 1, 1), date(2027, 1, 1)),
            Vec::<i32>::new()
        );
        assert_eq!(
            Calendar::weekends_only().missing_years(date(2024, 5, 1), date(2024, 5, 1)),
            vec![2024]
        );
    }

    #[test]
    fn admin_entries_extend_and_override() {
        let upload = "date,kind,name,name_zh,in_lieu\n\
                      2027-10-01,holiday,National Day,国庆节,0\n\
                      2027-09-26,workday,National Day,国庆节,0\n\
                      2024-10-08,holiday,Typhoon,台风停工,0\n";
        let entries = Calendar::parse_csv(upload).expect("valid upload");
        let cal = Calendar::builtin().with_entries(entries);
        assert!(cal.covers_year(2027));
        assert!(!cal.is_working_day(date(2027, 10, 1)));
        assert!(cal.is_working_day(date(2027, 9, 26))); // a Sunday
        assert!(!cal.is_working_day(date(2024, 10, 8)));
        assert_eq!(
            cal.next_working_day_on_or_after(date(2024, 10, 1)),
            date(2024, 10, 9)
        );
        // The built-in calendar itself is untouched.
        assert!(Calendar::builtin().is_working_day(date(2024, 10, 8)));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let upload = "date,kind,name,name_zh,in_lieu\n\
                      2027-10-01,holiday,National Day,国庆节,0\n\
                      2027-13-01,holiday,National Day,国庆节,0\n\
                      2027-10-02,vacation,National Day,国庆节,0\n\
                      \n\
                      2027-10-04,workday,National Day,国庆节,0\n\
                      2027-10-01,holiday,National Day,国庆节,0\n\
                      2027-10-05,holiday,National Day\n\
                      2027-10-06,holiday,National Day,国庆节,yes\n";
        let err = Calendar::parse_csv(upload).expect_err("bad rows");
        let lines: Vec<usize> = err.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![3, 4, 6, 7, 8, 9]);
        assert!(err.rows[0].1.contains("2027-13-01"));
        assert!(err.rows[1].1.contains("vacation"));
        assert!(err.rows[2].1.contains("Saturday or Sunday"));
        assert!(err.rows[3].1.contains("line 2"));
        assert!(err.rows[4].1.contains("columns"));
        assert!(err.rows[5].1.contains("in_lieu"));
        assert!(
            err.to_string()
                .starts_with("the holiday calendar has 6 bad row(s): line 3:")
        );
    }

    #[test]
    fn header_is_required() {
        let err = Calendar::parse_csv("2027-10-01,holiday,National Day,国庆节,0\n").expect_err("no header");
        assert_eq!(err.rows.len(), 1);
        assert_eq!(err.rows[0].0, 1);
        assert!(err.rows[0].1.contains("header"));
        assert_eq!(Calendar::parse_csv(""), Ok(Vec::new()));
    }

    #[test]
    fn spreadsheet_exports_are_accepted() {
        let upload = "\u{feff}date,kind,name,name_zh,in_lieu\r\n\
                      \"2027-10-01\",\"holiday\",\"National Day, \"\"Golden Week\"\"\",\"国庆节\",\"0\"\r\n\
                      2027-10-02,Holiday,National Day,,\r\n";
        let entries = Calendar::parse_csv(upload).expect("valid upload");
        assert_eq!(
            entries,
            vec![
                CalendarEntry {
                    date: date(2027, 10, 1),
                    kind: DayKind::Holiday,
                    name_zh: "国庆节".into()
                },
                CalendarEntry {
                    date: date(2027, 10, 2),
                    kind: DayKind::Holiday,
                    name_zh: "National Day".into()
                },
            ]
        );
        let err = Calendar::parse_csv("date,kind,name,name_zh,in_lieu\n\"2027-10-01,holiday\n")
            .expect_err("unclosed quote");
        assert_eq!(err.rows, vec![(2, "a quoted field is not closed".to_string())]);
    }

    #[test]
    fn day_kind_codes() {
        assert_eq!(DayKind::parse(DayKind::Workday.code()), Some(DayKind::Workday));
        assert_eq!(DayKind::parse("weekend"), None);
    }
}
