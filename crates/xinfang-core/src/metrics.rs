//! The rates of DESIGN.md section 4, defined once for the dashboard, the monthly report, the
//! unit assessment and the API.
//!
//! - 按期办结率 on-time conclusion rate = replied on or before the handling deadline / replied in
//!   the period;
//! - 及时受理率 timely acceptance rate = acceptance decided within its limit / decided in the
//!   period;
//! - 满意度 satisfaction rate = (满意 + 基本满意) / rated in the period;
//! - 重复信访率 repeat rate = repeat petitions / petitions registered in the period;
//! - 同比 / 环比 (YoY / MoM) relative change of any count;
//! - 化解率 early-resolution rate and 调解成功率 mediation success rate, from counts kept by the
//!   risk ledger and the mediation rooms.
//!
//! A matter belongs to a period by the time of the event the rate is about (replied, decided,
//! rated, registered), so a matter registered in March and replied in April counts towards
//! April's on-time rate. Periods are half-open `[from, to)` and months are Asia/Shanghai months.
//! "On or before the deadline" means strictly before the deadline instant (the end of the due
//! date, see [`crate::deadline::due_instant`]): a reply at that instant is late.

use crate::clock::{china_offset, start_of_local_day};
use crate::matter::Satisfaction;
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, Utc};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// A half-open interval of time `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// The first instant in the period.
    pub from: DateTime<Utc>,
    /// The first instant after the period.
    pub to: DateTime<Utc>,
}

impl Period {
    /// Whether `from <= t < to`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    /// The Asia/Shanghai calendar month: from 00:00 on its first day to 00:00 on the first day
    /// of the next month. `None` for a month outside 1–12 (or a year chrono cannot represent).
    pub fn month(year: i32, month: u32) -> Option<Period> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = first.checked_add_months(Months::new(1))?;
        Some(Period {
            from: start_of_local_day(first),
            to: start_of_local_day(next),
        })
    }

    /// The Asia/Shanghai calendar year.
    pub fn year(year: i32) -> Option<Period> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let next = NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?;
        Some(Period {
            from: start_of_local_day(first),
            to: start_of_local_day(next),
        })
    }

    /// The local days `first..=last` (from 00:00 on `first` to 00:00 after `last`).
    pub fn local_days(first: NaiveDate, last: NaiveDate) -> Period {
        Period {
            from: start_of_local_day(first),
            to: crate::deadline::due_instant(last),
        }
    }

    /// The period one month earlier (环比): both bounds moved back one month in local time, a
    /// day that does not exist in the earlier month becoming its last day. For a month this is
    /// the previous month.
    pub fn previous_month(&self) -> Period {
        self.shifted_back(Months::new(1))
    }

    /// The same period one year earlier (同比): both bounds moved back twelve months in local
    /// time (29 February becoming 28 February).
    pub fn same_period_last_year(&self) -> Period {
        self.shifted_back(Months::new(12))
    }

    fn shifted_back(&self, months: Months) -> Period {
        Period {
            from: shift_back(self.from, months),
            to: shift_back(self.to, months),
        }
    }
}

/// `t` moved back by `months` on the Shanghai wall clock; saturates at the earliest instant.
fn shift_back(t: DateTime<Utc>, months: Months) -> DateTime<Utc> {
    let offset = chrono::Duration::seconds(i64::from(china_offset().local_minus_utc()));
    let local: NaiveDateTime = t.naive_utc() + offset;
    local
        .checked_sub_months(months)
        .and_then(|shifted| shifted.checked_sub_signed(offset))
        .map(|naive| naive.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A ratio of two counts. Serializes as `{"numerator", "denominator", "value"}` with `value`
/// `null` when there is nothing to divide by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rate {
    /// What is counted (on time, satisfied, …).
    pub numerator: u64,
    /// What it is counted among; 0 gives no value.
    pub denominator: u64,
}

impl Rate {
    /// `numerator / denominator`.
    pub fn new(numerator: u64, denominator: u64) -> Rate {
        Rate {
            numerator,
            denominator,
        }
    }

    /// The ratio, or `None` when the denominator is 0 (no rate, which is not a rate of 0).
    pub fn value(&self) -> Option<f64> {
        (self.denominator != 0).then(|| self.numerator as f64 / self.denominator as f64)
    }

    /// The ratio in percent, or `None` when the denominator is 0.
    pub fn percent(&self) -> Option<f64> {
        self.value().map(|v| v * 100.0)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Rate", 3)?;
        s.serialize_field("numerator", &self.numerator)?;
        s.serialize_field("denominator", &self.denominator)?;
        s.serialize_field("value", &self.value())?;
        s.end()
    }
}

/// What the rates need to know about one matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatterFacts {
    /// When the matter was registered (the repeat rate and counts).
    pub registered_at: DateTime<Utc>,
    /// The acceptance deadline instant (`None` when it could not be computed).
    pub acceptance_due_at: Option<DateTime<Utc>>,
    /// When the acceptance decision was made: accepted or declined.
    pub decided_at: Option<DateTime<Utc>>,
    /// The handling deadline instant, extension included (`None` while the count stood still).
    pub handling_due_at: Option<DateTime<Utc>>,
    /// When the reply was delivered.
    pub replied_at: Option<DateTime<Utc>>,
    /// The petitioner's verdict, once rated.
    pub satisfaction: Option<Satisfaction>,
    /// When the verdict was recorded.
    pub rated_at: Option<DateTime<Utc>>,
    /// Flagged at registration as a repeat petition (same petitioner or group, same matter,
    /// while open or within N days of its reply).
    pub is_repeat: bool,
}

/// Whether an event at `at` met the deadline instant `due`. Without a deadline (the count
/// stood still when the event happened) there was nothing to miss.
fn in_time(at: DateTime<Utc>, due: Option<DateTime<Utc>>) -> bool {
    due.is_none_or(|due| at < due)
}

/// 按期办结率: of the matters replied in `period`, those replied before their handling
/// deadline instant. A matter replied without a known deadline counts as on time.
pub fn on_time_conclusion_rate(matters: &[MatterFacts], period: &Period) -> Rate {
    rate_over(matters, |m| {
        let replied = m.replied_at.filter(|t| period.contains(*t))?;
        Some(in_time(replied, m.handling_due_at))
    })
}

/// 及时受理率: of the matters whose acceptance was decided (accepted or declined) in `period`,
/// those decided before their acceptance deadline instant.
pub fn timely_acceptance_rate(matters: &[MatterFacts], period: &Period) -> Rate {
    rate_over(matters, |m| {
        let decided = m.decided_at.filter(|t| period.contains(*t))?;
        Some(in_time(decided, m.acceptance_due_at))
    })
}

/// 满意度: of the matters rated in `period`, those rated 满意 or 基本满意.
pub fn satisfaction_rate(matters: &[MatterFacts], period: &Period) -> Rate {
    rate_over(matters, |m| {
        m.rated_at.filter(|t| period.contains(*t))?;
        Some(m.satisfaction?.is_positive())
    })
}

/// 重复信访率: of the matters registered in `period`, those flagged as repeats.
pub fn repeat_rate(matters: &[MatterFacts], period: &Period) -> Rate {
    rate_over(matters, |m| {
        period.contains(m.registered_at).then_some(m.is_repeat)
    })
}

/// The number of matters registered in `period`.
pub fn count_registered(matters: &[MatterFacts], period: &Period) -> u64 {
    count(matters, |m| period.contains(m.registered_at))
}

/// The number of matters replied in `period`.
pub fn count_replied(matters: &[MatterFacts], period: &Period) -> u64 {
    count(matters, |m| m.replied_at.is_some_and(|t| period.contains(t)))
}

/// 同比 / 环比: the relative change from `previous` to `current` (-0.123 for -12.3%), or
/// `None` when `previous` is 0.
pub fn change(current: u64, previous: u64) -> Option<f64> {
    (previous != 0).then(|| (current as f64 - previous as f64) / previous as f64)
}

/// 化解率: risk items defused early / risk items.
pub fn early_resolution_rate(defused: u64, total: u64) -> Rate {
    Rate::new(defused, total)
}

/// 调解成功率: mediations that succeeded / mediations.
pub fn mediation_success_rate(succeeded: u64, total: u64) -> Rate {
    Rate::new(succeeded, total)
}

/// Counts the matters where `judge` says `Some` (the denominator) and `Some(true)` (the
/// numerator).
fn rate_over(matters: &[MatterFacts], judge: impl Fn(&MatterFacts) -> Option<bool>) -> Rate {
    matters
        .iter()
        .filter_map(judge)
        .fold(Rate::default(), |rate, hit| Rate {
            numerator: rate.numerator + u64::from(hit),
            denominator: rate.denominator + 1,
        })
}

fn count(matters: &[MatterFacts], pred: impl Fn(&MatterFacts) -> bool) -> u64 {
    matters.iter().filter(|m| pred(m)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        china_offset()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
            .with_timezone(&Utc)
    }

    fn month(y: i32, m: u32) -> Period {
        Period::month(y, m).expect("valid month")
    }

    fn registered(at: DateTime<Utc>) -> MatterFacts {
        MatterFacts {
            registered_at: at,
            acceptance_due_at: None,
            decided_at: None,
            handling_due_at: None,
            replied_at: None,
            satisfaction: None,
            rated_at: None,
            is_repeat: false,
        }
    }

    fn replied(at: DateTime<Utc>, due: DateTime<Utc>) -> MatterFacts {
        MatterFacts {
            replied_at: Some(at),
            handling_due_at: Some(due),
            ..registered(at - Duration::days(30))
        }
    }

    #[test]
    fn months_are_shanghai_months() {
        let oct = month(2024, 10);
        assert_eq!(oct.from, sh(2024, 10, 1, 0, 0));
        assert_eq!(oct.to, sh(2024, 11, 1, 0, 0));
        assert!(oct.contains(sh(2024, 10, 1, 0, 0)));
        assert!(oct.contains(sh(2024, 10, 31, 23, 59)));
        assert!(!oct.contains(sh(2024, 11, 1, 0, 0)));
        // 20:00 UTC on 30 September is already October in Shanghai.
        assert!(
            oct.contains(
                Utc.with_ymd_and_hms(2024, 9, 30, 20, 0, 0)
                    .single()
                    .expect("valid")
            )
        );
        assert_eq!(month(2024, 12).to, sh(2025, 1, 1, 0, 0));
        assert_eq!(Period::month(2024, 13), None);
        assert_eq!(Period::month(2024, 0), None);
        assert_eq!(
            Period::year(2024),
            Some(Period {
                from: sh(2024, 1, 1, 0, 0),
                to: sh(2025, 1, 1, 0, 0)
            })
        );
        let days = Period::local_days(
            NaiveDate::from_ymd_opt(2024, 10, 1).expect("valid"),
            NaiveDate::from_ymd_opt(2024, 10, 31).expect("valid"),
        );
        assert_eq!(days, oct);
    }

    #[test]
    fn previous_and_same_period_last_year() {
        assert_eq!(month(2024, 10).previous_month(), month(2024, 9));
        assert_eq!(month(2024, 1).previous_month(), month(2023, 12));
        assert_eq!(month(2024, 3).previous_month(), month(2024, 2));
        assert_eq!(month(2024, 2).same_period_last_year(), month(2023, 2));
        assert_eq!(
            Period::year(2024).map(|p| p.same_period_last_year()),
            Period::year(2023)
        );
        // A period ending on 31 March: its previous month ends on the last day of February.
        let q = Period {
            from: sh(2024, 3, 1, 0, 0),
            to: sh(2024, 3, 31, 12, 0),
        };
        assert_eq!(
            q.previous_month(),
            Period {
                from: sh(2024, 2, 1, 0, 0),
                to: sh(2024, 2, 29, 12, 0)
            }
        );
        let leap = Period {
            from: sh(2024, 2, 29, 0, 0),
            to: sh(2024, 3, 1, 0, 0),
        };
        assert_eq!(
            leap.same_period_last_year(),
            Period {
                from: sh(2023, 2, 28, 0, 0),
                to: sh(2023, 3, 1, 0, 0)
            }
        );
    }

    #[test]
    fn three_of_four_replied_on_time() {
        let due = sh(2024, 10, 20, 0, 0);
        let matters = vec![
            replied(sh(2024, 10, 3, 10, 0), due),
            replied(sh(2024, 10, 19, 23, 59), due),
            replied(sh(2024, 10, 10, 10, 0), due),
            // Exactly at the deadline instant: late.
            replied(due, due),
            // Replied in September and November: other periods.
            replied(sh(2024, 9, 30, 23, 59), due),
            replied(sh(2024, 11, 1, 0, 0), due),
            // Not replied yet.
            registered(sh(2024, 10, 5, 9, 0)),
        ];
        let rate = on_time_conclusion_rate(&matters, &month(2024, 10));
        assert_eq!(rate, Rate::new(3, 4));
        assert_eq!(rate.value(), Some(0.75));
        assert_eq!(count_replied(&matters, &month(2024, 10)), 4);
        assert_eq!(on_time_conclusion_rate(&matters, &month(2024, 8)).value(), None);
    }

    #[test]
    fn a_reply_without_a_known_deadline_is_on_time() {
        let m = MatterFacts {
            handling_due_at: None,
            ..replied(sh(2024, 10, 3, 10, 0), sh(2024, 10, 1, 0, 0))
        };
        assert_eq!(on_time_conclusion_rate(&[m], &month(2024, 10)), Rate::new(1, 1));
    }

    #[test]
    fn timely_acceptance_counts_declines_too() {
        let decided = |at, due| MatterFacts {
            decided_at: Some(at),
            acceptance_due_at: Some(due),
            ..registered(sh(2024, 10, 1, 9, 0))
        };
        let due = sh(2024, 10, 16, 0, 0);
        let matters = vec![
            decided(sh(2024, 10, 2, 9, 0), due),
            decided(sh(2024, 10, 16, 0, 0), due),
            decided(sh(2024, 10, 15, 23, 0), due),
            registered(sh(2024, 10, 2, 9, 0)),
        ];
        assert_eq!(
            timely_acceptance_rate(&matters, &month(2024, 10)),
            Rate::new(2, 3)
        );
    }

    #[test]
    fn satisfaction_counts_satisfied_and_basically_satisfied() {
        let rated = |s, at| MatterFacts {
            satisfaction: Some(s),
            rated_at: Some(at),
            ..registered(sh(2024, 9, 1, 9, 0))
        };
        let matters = vec![
            rated(Satisfaction::Satisfied, sh(2024, 10, 2, 9, 0)),
            rated(Satisfaction::BasicallySatisfied, sh(2024, 10, 3, 9, 0)),
            rated(Satisfaction::Dissatisfied, sh(2024, 10, 4, 9, 0)),
            rated(Satisfaction::Satisfied, sh(2024, 11, 4, 9, 0)),
            // A rating time without a verdict is not a rating.
            MatterFacts {
                rated_at: Some(sh(2024, 10, 5, 9, 0)),
                ..registered(sh(2024, 9, 1, 9, 0))
            },
        ];
        assert_eq!(satisfaction_rate(&matters, &month(2024, 10)), Rate::new(2, 3));
    }

    #[test]
    fn the_design_figures() {
        // 98.6% satisfaction: 2,343 positive of 2,376 rated.
        let rate = Rate::new(2343, 2376);
        let percent = rate.percent().expect("rated");
        assert_eq!(format!("{percent:.1}"), "98.6");
        // 2,376 matters, -12.3% YoY: the year before had about 2,709.
        let yoy = change(2376, 2709).expect("previous year has matters");
        assert_eq!(format!("{:.1}", yoy * 100.0), "-12.3");
        assert!(change(2376, 2700).is_some_and(|c| format!("{:.1}", c * 100.0) != "-12.3"));
        // 43 of 47 risk items defused early: 91.5%.
        let early = early_resolution_rate(43, 47).percent().expect("items");
        assert_eq!(format!("{early:.1}"), "91.5");
        assert_eq!(mediation_success_rate(23, 25).percent(), Some(92.0));
        assert_eq!(change(5, 0), None);
        assert_eq!(change(0, 4), Some(-1.0));
        assert_eq!(change(6, 4), Some(0.5));
    }

    #[test]
    fn repeat_rate_and_registered_count() {
        let repeat = |at| MatterFacts {
            is_repeat: true,
            ..registered(at)
        };
        let mut matters: Vec<MatterFacts> = (0..30)
            .map(|i| registered(sh(2024, 10, 1, 9, 0) + Duration::hours(i)))
            .collect();
        matters.push(repeat(sh(2024, 10, 20, 9, 0)));
        matters.push(repeat(sh(2024, 9, 20, 9, 0)));
        assert_eq!(count_registered(&matters, &month(2024, 10)), 31);
        assert_eq!(repeat_rate(&matters, &month(2024, 10)), Rate::new(1, 31));
        assert_eq!(repeat_rate(&[], &month(2024, 10)).value(), None);
    }

    #[test]
    fn rate_without_denominator_has_no_value() {
        assert_eq!(Rate::new(0, 0).value(), None);
        assert_eq!(Rate::new(0, 5).value(), Some(0.0));
        assert_eq!(Rate::default().percent(), None);
    }
}
