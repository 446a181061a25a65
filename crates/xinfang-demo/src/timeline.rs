//! When matters come in: the date range, the seasonal and weekly rhythm, and the hour of day.
//!
//! Passenger traffic peaks around 春运 (the weeks around the Spring Festival), in the summer
//! holidays (July–August) and in the National Day week, and so do complaints. Walk-in visits,
//! calls to the office and letters follow the office's working days (the statutory calendar
//! with its adjusted working days) and office hours, with the most on Monday; the online
//! channels and the 12345 hotline run every day and at any hour.

use crate::vocab::pick_weighted;
use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use rand::Rng;
use xinfang_core::calendar::{Calendar, DayKind};
use xinfang_core::matter::Channel;

/// Whether a channel is staffed by the office (walk-in, phone, letter).
pub(crate) fn office_channel(c: Channel) -> bool {
    matches!(c, Channel::WalkIn | Channel::Phone | Channel::Letter)
}

/// The days of the demo period: `months` months ending at `end` (inclusive).
pub(crate) fn days(end: NaiveDate, months: u32) -> Vec<NaiveDate> {
    let start = end
        .checked_sub_months(Months::new(months.max(1)))
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .unwrap_or(end);
    start.iter_days().take_while(|d| *d <= end).collect()
}

/// The first day of the Spring Festival holiday of `year`, from the statutory calendar, or an
/// average date when the calendar does not cover the year.
fn spring_festival(cal: &Calendar, year: i32) -> Option<NaiveDate> {
    let from = NaiveDate::from_ymd_opt(year, 1, 15)?;
    from.iter_days()
        .take(45)
        .find(|d| {
            cal.entry(*d)
                .is_some_and(|e| e.kind == DayKind::Holiday && e.name_zh.contains("春节"))
        })
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 5))
}

/// The seasonal factor of a day: 春运, summer, National Day, May Day.
fn season(d: NaiveDate, festival: Option<NaiveDate>) -> f64 {
    if let Some(f) = festival {
        let off = (d - f).num_days();
        if (-15..=25).contains(&off) {
            return 1.5;
        }
    }
    match (d.month(), d.day()) {
        (10, 1..=8) => 1.7,
        (10, 9..=15) => 1.2,
        (7 | 8, _) => 1.35,
        (5, 1..=5) => 1.3,
        (3 | 11, _) => 0.85,
        _ => 1.0,
    }
}

/// Relative intake on day `d` for office channels and for the always-open channels.
fn day_weight(cal: &Calendar, d: NaiveDate, festival: Option<NaiveDate>, office: bool) -> f64 {
    let s = season(d, festival);
    let working = cal.is_working_day(d);
    let w = if office {
        if !working {
            0.1
        } else {
            match d.weekday() {
                Weekday::Mon => 1.45,
                Weekday::Tue => 1.15,
                Weekday::Fri => 0.9,
                _ => 1.0,
            }
        }
    } else {
        let base = match d.weekday() {
            Weekday::Mon => 1.2,
            Weekday::Sat => 0.85,
            Weekday::Sun => 0.8,
            _ => 1.0,
        };
        if working { base } else { base * 0.9 }
    };
    // The office works through its queue after a holiday; the public writes more during one.
    w * if office { s.sqrt() } else { s }
}

/// Samples registration dates for the two channel families.
pub(crate) struct DaySampler {
    days: Vec<NaiveDate>,
    office: Vec<f64>,
    online: Vec<f64>,
}

impl DaySampler {
    /// Builds the day weights of the period.
    pub(crate) fn new(end: NaiveDate, months: u32) -> Self {
        let cal = Calendar::builtin();
        let days = days(end, months);
        let mut festivals = std::collections::BTreeMap::new();
        let mut office = Vec::with_capacity(days.len());
        let mut online = Vec::with_capacity(days.len());
        for d in &days {
            let f = *festivals
                .entry(d.year())
                .or_insert_with(|| spring_festival(&cal, d.year()));
            office.push(day_weight(&cal, *d, f, true));
            online.push(day_weight(&cal, *d, f, false));
        }
        Self { days, office, online }
    }

    /// A registration date for `channel`.
    pub(crate) fn day<R: Rng + ?Sized>(&self, rng: &mut R, channel: Channel) -> NaiveDate {
        let w = if office_channel(channel) {
            &self.office
        } else {
            &self.online
        };
        self.days
            .get(pick_weighted(rng, w))
            .copied()
            .unwrap_or(NaiveDate::MIN)
    }
}

/// Relative intake per hour of day for the always-open channels.
const ONLINE_HOURS: [f64; 24] = [
    0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.6, 1.2, 2.2, 3.0, 3.2, 3.0, 2.2, 2.2, 2.8, 3.0, 2.9, 2.6, 2.0, 2.1,
    2.5, 2.6, 2.0, 1.2,
];

/// A local (Beijing time) registration time on `day` for `channel`: office hours
/// (8:30–12:00, 14:00–17:30) for walk-in, phone and letter, any hour otherwise.
pub(crate) fn time_of_day<R: Rng + ?Sized>(rng: &mut R, channel: Channel, day: NaiveDate) -> NaiveDateTime {
    let secs: u32 = if office_channel(channel) {
        if rng.random_bool(0.58) {
            rng.random_range(8 * 3600 + 1800..12 * 3600)
        } else {
            rng.random_range(14 * 3600..17 * 3600 + 1800)
        }
    } else {
        let h = pick_weighted(rng, &ONLINE_HOURS) as u32;
        h * 3600 + rng.random_range(0..3600)
    };
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn period_has_the_right_length() {
        let end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let d = days(end, 12);
        assert_eq!(d.first(), NaiveDate::from_ymd_opt(2025, 1, 1).as_ref());
        assert_eq!(d.last(), Some(&end));
        assert_eq!(d.len(), 365);
    }

    #[test]
    fn office_channels_keep_office_hours_and_days() {
        let end = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        let s = DaySampler::new(end, 12);
        let cal = Calendar::builtin();
        let mut rng = StdRng::seed_from_u64(3);
        let mut off_days = 0;
        for _ in 0..2000 {
            let d = s.day(&mut rng, Channel::WalkIn);
            if !cal.is_working_day(d) {
                off_days += 1;
            }
            let t = time_of_day(&mut rng, Channel::WalkIn, d);
            let h = t.time().format("%H%M").to_string();
            assert!(("0830".."1730").contains(&h.as_str()), "{h}");
        }
        assert!(off_days < 100, "{off_days}");
    }

    #[test]
    fn peaks_are_busier() {
        let cal = Calendar::builtin();
        let f = spring_festival(&cal, 2025);
        assert_eq!(f, NaiveDate::from_ymd_opt(2025, 1, 28));
        let national = NaiveDate::from_ymd_opt(2025, 10, 3).unwrap();
        let november = NaiveDate::from_ymd_opt(2025, 11, 12).unwrap();
        assert!(day_weight(&cal, national, f, false) > 1.5 * day_weight(&cal, november, f, false));
    }
}
