//! Time-limit rule sets and the deadline engine (DESIGN.md section 3).
//!
//! A [`RuleSet`] says how many days each step may take ([`Limit`]); the engine turns a starting
//! event into a due date and a status:
//! - days are Asia/Shanghai local dates counted from the day *after* the starting event (the
//!   starting day does not count); with [`DayCount::Working`] only working days of the
//!   [`Calendar`] count;
//! - a pause (waiting for the petitioner, 补充材料) removes the local dates `d` with
//!   `pause_from_date < d <= pause_until_date` from the count: the day of the pause counts, the
//!   days up to and including the resume day do not. An open pause stops the count, so the due
//!   date is unknown. Pauses only apply to a limit that is `pausable`;
//! - with `holiday_shift`, a calendar-day due date that is not a working day moves to the next
//!   working day;
//! - the deadline instant is the end of the due date (the start of the next local day): work
//!   done before it is on time, work done at it is late.
//!
//! The default rule set follows the 信访工作条例 (2022); [`RuleSet::hotline_12345`] is the
//! usual 12345 hotline work-order practice.

use crate::calendar::Calendar;
use crate::clock::{local_date, start_of_local_day};
use crate::ids::RuleSetId;
use crate::matter::{PauseSpan, coded_enum};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The largest number of days a single limit may have: a legal time limit beyond a year is
/// certainly a typo (and would make the engine count for a long time).
pub const MAX_LIMIT_DAYS: u32 = 366;

/// Which days a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Every day counts (自然日). The default of the regulation.
    Calendar,
    /// Only working days of the holiday calendar count (工作日).
    Working,
}

impl DayCount {
    /// The Simplified Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Calendar => "自然日",
            Self::Working => "工作日",
        }
    }
}

/// One time limit: how many days, which days count, and how holidays and pauses affect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// How many days the limit grants.
    pub days: u32,
    /// Which days count.
    pub count: DayCount,
    /// A calendar-day due date that is not a working day moves to the next working day.
    pub holiday_shift: bool,
    /// Waiting for the petitioner stops the count.
    pub pausable: bool,
}

impl Limit {
    /// `days` calendar days, shifted off holidays, not pausable.
    pub const fn calendar_days(days: u32) -> Limit {
        Limit {
            days,
            count: DayCount::Calendar,
            holiday_shift: true,
            pausable: false,
        }
    }

    /// `days` working days, not pausable.
    pub const fn working_days(days: u32) -> Limit {
        Limit {
            days,
            count: DayCount::Working,
            holiday_shift: true,
            pausable: false,
        }
    }

    /// The same limit, with the count stopping while waiting for the petitioner.
    pub const fn with_pauses(self) -> Limit {
        Limit {
            pausable: true,
            ..self
        }
    }
}

/// A versioned set of time limits. Matters record the id and version they were registered
/// under, so changing a rule set never silently moves the deadlines of running matters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rule set this is a version of.
    pub id: RuleSetId,
    /// Starts at 1; a change is saved as a new version.
    pub version: u32,
    /// A name for admins (信访工作条例（2022）).
    pub name: String,
    /// From registration to the acceptance decision (受理).
    pub acceptance: Limit,
    /// From acceptance to the delivered reply (办理), before any extension.
    pub handling: Limit,
    /// The one extension of the handling limit may add at most this many days (same day count
    /// as `handling`).
    pub max_extension_days: u32,
    /// From the reply, the petitioner's window to request a review (复查).
    pub review_request: Limit,
    /// From the review request to its answer.
    pub review_answer: Limit,
    /// From the review answer, the petitioner's window to request a re-check (复核).
    pub recheck_request: Limit,
    /// From the re-check request to its answer.
    pub recheck_answer: Limit,
    /// A deadline is "due soon" (临期) this many calendar days before its instant.
    pub due_soon_days: u32,
    /// From the assignment, how long the lead unit may return a matter that is not its own
    /// (退回交办错误). `None`: no limit (rule sets stored before this field existed).
    #[serde(default)]
    pub misroute_return: Option<Limit>,
}

impl RuleSet {
    /// The default of the 信访工作条例 (2022), as DESIGN.md section 3 reads it: acceptance within
    /// 15 days, handling within 60 days of acceptance, extendable once by at most 30 days;
    /// review and re-check each requested within 30 days and answered within 30 days. All
    /// calendar days, shifted off holidays; handling and the answers pause while waiting for
    /// the petitioner (hearing time is excluded from a re-check), the acceptance limit and the
    /// petitioner's windows do not. Due soon 3 days ahead. A misrouted matter is returned
    /// within 5 working days of its assignment.
    pub fn regulation_2022(id: RuleSetId) -> RuleSet {
        RuleSet {
            id,
            version: 1,
            name: "信访工作条例（2022）".to_string(),
            acceptance: Limit::calendar_days(15),
            handling: Limit::calendar_days(60).with_pauses(),
            max_extension_days: 30,
            review_request: Limit::calendar_days(30),
            review_answer: Limit::calendar_days(30).with_pauses(),
            recheck_request: Limit::calendar_days(30),
            recheck_answer: Limit::calendar_days(30).with_pauses(),
            due_soon_days: 3,
            // A unit objects within 5 working days when the matter is not its own.
            misroute_return: Some(Limit::working_days(5)),
        }
    }

    /// 12345 hotline work orders: acceptance within 1 working day, handling within 5 working
    /// days, extension up to 10 working days; review and re-check windows and answers 15
    /// working days each. Due soon 1 day ahead. A misrouted order is returned within 2 working
    /// days.
    pub fn hotline_12345(id: RuleSetId) -> RuleSet {
        RuleSet {
            id,
            version: 1,
            name: "12345热线工单".to_string(),
            acceptance: Limit::working_days(1),
            handling: Limit::working_days(5).with_pauses(),
            max_extension_days: 10,
            review_request: Limit::working_days(15),
            review_answer: Limit::working_days(15).with_pauses(),
            recheck_request: Limit::working_days(15),
            recheck_answer: Limit::working_days(15).with_pauses(),
            due_soon_days: 1,
            // A misrouted work order goes back within 2 working days.
            misroute_return: Some(Limit::working_days(2)),
        }
    }

    /// The limit that governs a deadline of this kind.
    pub fn limit_for(&self, kind: DeadlineKind) -> &Limit {
        match kind {
            DeadlineKind::Acceptance => &self.acceptance,
            DeadlineKind::Handling => &self.handling,
            DeadlineKind::ReviewAnswer => &self.review_answer,
            DeadlineKind::RecheckAnswer => &self.recheck_answer,
        }
    }

    /// Checks the rule set before it is saved.
    ///
    /// # Errors
    /// [`DeadlineError::InvalidRuleSet`] naming every problem: a version of 0, a blank name, a
    /// limit of 0 days or more than [`MAX_LIMIT_DAYS`], a maximum extension of more than
    /// [`MAX_LIMIT_DAYS`], or a due-soon warning that covers the whole handling limit.
    pub fn validate(&self) -> Result<(), DeadlineError> {
        let mut problems = Vec::new();
        if self.version == 0 {
            problems.push("the version starts at 1".to_string());
        }
        if self.name.trim().is_empty() {
            problems.push("the name is blank".to_string());
        }
        let limits = [
            ("acceptance", &self.acceptance),
            ("handling", &self.handling),
            ("review_request", &self.review_request),
            ("review_answer", &self.review_answer),
            ("recheck_request", &self.recheck_request),
            ("recheck_answer", &self.recheck_answer),
        ];
        for (name, limit) in limits {
            if limit.days == 0 {
                problems.push(format!("{name}: a limit needs at least 1 day"));
            } else if limit.days > MAX_LIMIT_DAYS {
                problems.push(format!(
                    "{name}: {} days is more than the maximum of {MAX_LIMIT_DAYS}",
                    limit.days
                ));
            }
        }
        // Not bounded by the handling limit itself: 12345 work orders take 5 working days and
        // may be extended by up to 10.
        if self.max_extension_days > MAX_LIMIT_DAYS {
            problems.push(format!(
                "max_extension_days: {} days is more than the maximum of {MAX_LIMIT_DAYS}",
                self.max_extension_days
            ));
        }
        if self.handling.days > 0 && self.due_soon_days >= self.handling.days {
            problems.push(format!(
                "due_soon_days: a warning {} days ahead covers the whole handling limit of {} days",
                self.due_soon_days, self.handling.days
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DeadlineError::InvalidRuleSet(problems.join("; ")))
        }
    }
}

/// Why an extension or a rule set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    /// 信访工作条例: the handling limit may be extended once only.
    #[error("the handling limit has already been extended once")]
    ExtensionAlreadyUsed,
    /// The requested extension is longer than the rule set allows.
    #[error("an extension may be at most {max} days")]
    ExtensionTooLong {
        /// The rule set's maximum extension.
        max: u32,
    },
    /// An extension of 0 days.
    #[error("an extension needs at least 1 day")]
    ExtensionZero,
    /// The rule set is inconsistent; the message names every problem.
    #[error("invalid rule set: {0}")]
    InvalidRuleSet(String),
}

impl DeadlineError {
    /// A stable machine code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ExtensionAlreadyUsed => "extension_already_used",
            Self::ExtensionTooLong { .. } => "extension_too_long",
            Self::ExtensionZero => "extension_zero",
            Self::InvalidRuleSet(_) => "invalid_rule_set",
        }
    }
}

/// 信访工作条例: the handling limit may be extended once, by at most `max_extension_days`.
/// Returns the days to add to the matter's `extension_days`.
///
/// # Errors
/// [`DeadlineError::ExtensionAlreadyUsed`] when the extension was used,
/// [`DeadlineError::ExtensionZero`] for 0 days, [`DeadlineError::ExtensionTooLong`] beyond the
/// rule set's maximum.
pub fn check_extension(
    requested_days: u32,
    already_extended: bool,
    rules: &RuleSet,
) -> Result<u32, DeadlineError> {
    if already_extended {
        Err(DeadlineError::ExtensionAlreadyUsed)
    } else if requested_days == 0 {
        Err(DeadlineError::ExtensionZero)
    } else if requested_days > rules.max_extension_days {
        Err(DeadlineError::ExtensionTooLong {
            max: rules.max_extension_days,
        })
    } else {
        Ok(requested_days)
    }
}

/// The local date on which `days` days counted from `start` under `limit` are complete.
///
/// `days` is passed separately from `limit` so an extension can be added to it; `limit`
/// supplies the day count, the holiday shift and whether `pauses` apply. With `days == 0` the
/// due date is the starting day (shifted if the limit says so). `None` when an open pause
/// stops the count before it completes, or past the last representable date.
pub fn due_date(
    start: DateTime<Utc>,
    days: u32,
    limit: &Limit,
    pauses: &[PauseSpan],
    cal: &Calendar,
) -> Option<NaiveDate> {
    let stops: Vec<Stop> = if limit.pausable {
        pauses.iter().map(Stop::from_span).collect()
    } else {
        Vec::new()
    };
    let mut day = local_date(start);
    let mut counted = 0;
    while counted < days {
        day = day.succ_opt()?;
        match stops.iter().find(|stop| stop.covers(day)) {
            // An open pause covers every later day too: the count cannot complete.
            Some(stop) if stop.until.is_none() => return None,
            Some(_) => continue,
            None => {}
        }
        if limit.count == DayCount::Calendar || cal.is_working_day(day) {
            counted += 1;
        }
    }
    if limit.holiday_shift && limit.count == DayCount::Calendar {
        day = cal.next_working_day_on_or_after(day);
    }
    Some(day)
}

/// A pause in local dates.
struct Stop {
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl Stop {
    fn from_span(span: &PauseSpan) -> Stop {
        Stop {
            from: local_date(span.from),
            until: span.until.map(local_date),
        }
    }

    /// `from < d <= until` (an open pause: `from < d`). A pause that ends before it starts
    /// covers nothing.
    fn covers(&self, d: NaiveDate) -> bool {
        self.from < d && self.until.is_none_or(|until| d <= until)
    }
}

/// The deadline instant of a due date: the start of the next local day. Done before it is on
/// time. Saturates at `DateTime::<Utc>::MAX_UTC` for the last representable date.
pub fn due_instant(d: NaiveDate) -> DateTime<Utc> {
    d.succ_opt()
        .map(start_of_local_day)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the petitioner's window (to request a review or a re-check) closes: `limit.days` from
/// `start`, pauses never applying. `None` only past the last representable date.
pub fn window_closes(start: DateTime<Utc>, limit: &Limit, cal: &Calendar) -> Option<DateTime<Utc>> {
    due_date(start, limit.days, limit, &[], cal).map(due_instant)
}

coded_enum! {
    /// The deadlines the office is held to.
    DeadlineKind {
        /// Registration to the acceptance decision.
        Acceptance = "acceptance" / "受理期限",
        /// Acceptance to the delivered reply, including any extension.
        Handling = "handling" / "办理期限",
        /// Review request to its answer.
        ReviewAnswer = "review_answer" / "复查答复期限",
        /// Re-check request to its answer.
        RecheckAnswer = "recheck_answer" / "复核答复期限",
    }
}

coded_enum! {
    /// Where a deadline stands.
    DeadlineStatus {
        /// Running, not yet due soon; or finished on time.
        OnTrack = "on_track" / "正常",
        /// Within the rule set's due-soon days of its instant.
        DueSoon = "due_soon" / "临期",
        /// Its instant has passed (or it was finished at or after it).
        Overdue = "overdue" / "超期",
        /// The count is stopped while waiting for the petitioner.
        Paused = "paused" / "暂停计时",
    }
}

/// What the engine needs to know about a matter; `Matter` carries all of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineFacts {
    /// Registration: starts the acceptance limit.
    pub registered_at: DateTime<Utc>,
    /// Acceptance: starts the handling limit.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Days added by the (one) approved extension; 0 without.
    pub extension_days: u32,
    /// The reply was delivered: finishes the handling limit, opens the review window.
    pub replied_at: Option<DateTime<Utc>>,
    /// The review (复查) was requested: starts the review answer limit.
    pub review_requested_at: Option<DateTime<Utc>>,
    /// The review was answered: finishes it, opens the re-check window.
    pub review_answered_at: Option<DateTime<Utc>>,
    /// The re-check (复核) was requested: starts the re-check answer limit.
    pub recheck_requested_at: Option<DateTime<Utc>>,
    /// The re-check was answered: finishes it.
    pub recheck_answered_at: Option<DateTime<Utc>>,
    /// Waiting for the petitioner, in order; at most the last one is open.
    pub pauses: Vec<PauseSpan>,
}

impl DeadlineFacts {
    /// The facts of a matter just registered at `registered_at`.
    pub fn new(registered_at: DateTime<Utc>) -> DeadlineFacts {
        DeadlineFacts {
            registered_at,
            accepted_at: None,
            extension_days: 0,
            replied_at: None,
            review_requested_at: None,
            review_answered_at: None,
            recheck_requested_at: None,
            recheck_answered_at: None,
            pauses: Vec::new(),
        }
    }

    /// Whether some pause is still open.
    pub fn is_paused(&self) -> bool {
        self.pauses.iter().any(|p| p.until.is_none())
    }
}

/// One computed deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// Which deadline.
    pub kind: DeadlineKind,
    /// The starting event (the day after it is day 1).
    pub start: DateTime<Utc>,
    /// `None` while an open pause stops the count.
    pub due_date: Option<NaiveDate>,
    /// The end of `due_date` (exclusive bound).
    pub due_at: Option<DateTime<Utc>>,
    /// `due_at` minus the rule set's due-soon days.
    pub due_soon_at: Option<DateTime<Utc>>,
}

/// The deadline of `kind`, or `None` when its starting event has not happened: acceptance
/// starts at registration, handling at acceptance (with `handling.days + extension_days`),
/// the review answer at the review request, the re-check answer at the re-check request.
pub fn compute(
    kind: DeadlineKind,
    facts: &DeadlineFacts,
    rules: &RuleSet,
    cal: &Calendar,
) -> Option<Deadline> {
    let limit = rules.limit_for(kind);
    let (start, days) = match kind {
        DeadlineKind::Acceptance => (facts.registered_at, limit.days),
        DeadlineKind::Handling => (
            facts.accepted_at?,
            limit.days.saturating_add(facts.extension_days),
        ),
        DeadlineKind::ReviewAnswer => (facts.review_requested_at?, limit.days),
        DeadlineKind::RecheckAnswer => (facts.recheck_requested_at?, limit.days),
    };
    let due_date = due_date(start, days, limit, &facts.pauses, cal);
    let due_at = due_date.map(due_instant);
    let warning = Duration::days(i64::from(rules.due_soon_days));
    let due_soon_at = due_at.map(|at| at.checked_sub_signed(warning).unwrap_or(DateTime::<Utc>::MIN_UTC));
    Some(Deadline {
        kind,
        start,
        due_date,
        due_at,
        due_soon_at,
    })
}

/// A deadline's standing at one moment, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineAssessment {
    /// Which deadline.
    pub kind: DeadlineKind,
    /// The last day of the limit; `None` while unknown.
    pub due_date: Option<NaiveDate>,
    /// The deadline instant (exclusive); `None` while unknown.
    pub due_at: Option<DateTime<Utc>>,
    /// Seconds from now (or from the finishing event) to `due_at`; negative when late. `None`
    /// while the due date is unknown.
    pub remaining_seconds: Option<i64>,
    /// Where the deadline stands.
    pub status: DeadlineStatus,
}

/// Where `d` stands at `now`.
///
/// - Finished (`finished_at` given): `Overdue` when it was finished at or after `due_at`,
///   otherwise `OnTrack`; `remaining_seconds` is frozen at `due_at - finished_at` (the margin
///   it was met or missed by).
/// - Running: `Overdue` once `now >= due_at` (even while paused: a pause never hides a missed
///   deadline), then `Paused` when `paused` or the due date is unknown, `DueSoon` once
///   `now >= due_soon_at`, otherwise `OnTrack`; `remaining_seconds = due_at - now`.
///
/// Pass `paused` only for a limit that is pausable (`limit.pausable && facts.is_paused()`): a
/// non-pausable limit keeps running while the office waits for the petitioner.
pub fn assess(
    d: &Deadline,
    paused: bool,
    finished_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DeadlineAssessment {
    let (status, remaining_seconds) = match (finished_at, d.due_at) {
        (Some(done), Some(due)) => {
            let status = if done >= due {
                DeadlineStatus::Overdue
            } else {
                DeadlineStatus::OnTrack
            };
            (status, Some((due - done).num_seconds()))
        }
        // Finished while the count stood still: there was no deadline to miss.
        (Some(_), None) => (DeadlineStatus::OnTrack, None),
        (None, None) => (DeadlineStatus::Paused, None),
        (None, Some(due)) => {
            let status = if now >= due {
                DeadlineStatus::Overdue
            } else if paused {
                DeadlineStatus::Paused
            } else if d.due_soon_at.is_some_and(|soon| now >= soon) {
                DeadlineStatus::DueSoon
            } else {
                DeadlineStatus::OnTrack
            };
            (status, Some((due - now).num_seconds()))
        }
    };
    DeadlineAssessment {
        kind: d.kind,
        due_date: d.due_date,
        due_at: d.due_at,
        remaining_seconds,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Weekday};
    use proptest::prelude::*;

    /// An instant given in Shanghai local time.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        crate::clock::china_offset()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
            .with_timezone(&Utc)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn rules() -> RuleSet {
        RuleSet::regulation_2022(RuleSetId::new())
    }

    fn pause(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> PauseSpan {
        PauseSpan { from, until }
    }

    fn accepted(at: DateTime<Utc>) -> DeadlineFacts {
        DeadlineFacts {
            accepted_at: Some(at),
            ..DeadlineFacts::new(at - Duration::days(3))
        }
    }

    #[test]
    fn sixty_calendar_days_from_acceptance() {
        let cal = Calendar::builtin();
        let facts = accepted(sh(2024, 9, 20, 10, 0));
        let d = compute(DeadlineKind::Handling, &facts, &rules(), &cal).expect("accepted");
        assert_eq!(d.start, sh(2024, 9, 20, 10, 0));
        assert_eq!(d.due_date, Some(date(2024, 11, 19)));
        assert_eq!(d.due_at, Some(sh(2024, 11, 20, 0, 0)));
        assert_eq!(d.due_soon_at, Some(sh(2024, 11, 17, 0, 0)));
    }

    #[test]
    fn an_extension_adds_to_the_handling_days() {
        let cal = Calendar::builtin();
        let facts = DeadlineFacts {
            extension_days: 30,
            ..accepted(sh(2024, 9, 20, 10, 0))
        };
        let d = compute(DeadlineKind::Handling, &facts, &rules(), &cal).expect("accepted");
        // 2024-11-19 + 30 = 2024-12-19, a Thursday.
        assert_eq!(d.due_date, Some(date(2024, 12, 19)));
    }

    #[test]
    fn a_calendar_day_deadline_in_the_national_day_week_shifts() {
        let cal = Calendar::builtin();
        // Registered 2024-09-20: 15 days end on 2024-10-05, a holiday; next working day 10-08.
        let facts = DeadlineFacts::new(sh(2024, 9, 20, 9, 0));
        let d = compute(DeadlineKind::Acceptance, &facts, &rules(), &cal).expect("registered");
        assert_eq!(d.due_date, Some(date(2024, 10, 8)));
        let no_shift = Limit {
            holiday_shift: false,
            ..Limit::calendar_days(15)
        };
        assert_eq!(
            due_date(sh(2024, 9, 20, 9, 0), 15, &no_shift, &[], &cal),
            Some(date(2024, 10, 5))
        );
        // A worked Sunday is a working day: no shift.
        assert_eq!(
            due_date(sh(2024, 9, 28, 9, 0), 1, &Limit::calendar_days(1), &[], &cal),
            Some(date(2024, 9, 29))
        );
    }

    #[test]
    fn five_working_days_across_national_day() {
        let cal = Calendar::builtin();
        let rules = RuleSet::hotline_12345(RuleSetId::new());
        // Accepted Friday 2024-09-27: Sun 09-29 (worked) 1, Mon 09-30 2, then 10-01..07 off,
        // 10-08 3, 10-09 4, 10-10 5.
        let facts = accepted(sh(2024, 9, 27, 15, 0));
        let d = compute(DeadlineKind::Handling, &facts, &rules, &cal).expect("accepted");
        assert_eq!(d.due_date, Some(date(2024, 10, 10)));
        // Without holiday data the same count ends on Friday 10-04.
        assert_eq!(
            due_date(
                sh(2024, 9, 27, 15, 0),
                5,
                &rules.handling,
                &[],
                &Calendar::weekends_only()
            ),
            Some(date(2024, 10, 4))
        );
    }

    #[test]
    fn three_working_days_across_spring_festival_2026() {
        let cal = Calendar::builtin();
        // Thu 02-12: Fri 02-13 1, Sat 02-14 (worked) 2, 02-15..23 off, Tue 02-24 3.
        assert_eq!(
            due_date(sh(2026, 2, 12, 11, 0), 3, &Limit::working_days(3), &[], &cal),
            Some(date(2026, 2, 24))
        );
    }

    #[test]
    fn a_pause_of_five_days_moves_the_deadline_by_five_days() {
        let cal = Calendar::builtin();
        let start = sh(2024, 9, 21, 10, 0);
        let limit = rules().handling;
        assert_eq!(due_date(start, 60, &limit, &[], &cal), Some(date(2024, 11, 20)));
        // Paused on 10-10, resumed on 10-15: 10-11..10-15 do not count.
        let pauses = [pause(sh(2024, 10, 10, 14, 0), Some(sh(2024, 10, 15, 9, 0)))];
        assert_eq!(
            due_date(start, 60, &limit, &pauses, &cal),
            Some(date(2024, 11, 25))
        );
        // The same pause does not move a limit that is not pausable.
        assert_eq!(
            due_date(start, 60, &Limit::calendar_days(60), &pauses, &cal),
            Some(date(2024, 11, 20))
        );
        // Accepted 09-20, the paused deadline ends on Sunday 11-24 and shifts to Monday 11-25.
        let facts = DeadlineFacts {
            pauses: pauses.to_vec(),
            ..accepted(sh(2024, 9, 20, 10, 0))
        };
        let d = compute(DeadlineKind::Handling, &facts, &rules(), &cal).expect("accepted");
        assert_eq!(d.due_date, Some(date(2024, 11, 25)));
    }

    #[test]
    fn a_pause_within_one_day_changes_nothing() {
        let cal = Calendar::builtin();
        let start = sh(2024, 9, 21, 10, 0);
        let pauses = [pause(sh(2024, 10, 10, 9, 0), Some(sh(2024, 10, 10, 17, 0)))];
        assert_eq!(
            due_date(start, 60, &rules().handling, &pauses, &cal),
            Some(date(2024, 11, 20))
        );
    }

    #[test]
    fn an_open_pause_makes_the_due_date_unknown() {
        let cal = Calendar::builtin();
        let facts = DeadlineFacts {
            pauses: vec![pause(sh(2024, 10, 10, 14, 0), None)],
            ..accepted(sh(2024, 9, 21, 10, 0))
        };
        assert!(facts.is_paused());
        let d = compute(DeadlineKind::Handling, &facts, &rules(), &cal).expect("accepted");
        assert_eq!(d.due_date, None);
        assert_eq!(d.due_at, None);
        assert_eq!(d.due_soon_at, None);
        let a = assess(&d, true, None, sh(2024, 12, 1, 0, 0));
        assert_eq!(a.status, DeadlineStatus::Paused);
        assert_eq!(a.remaining_seconds, None);
        // The acceptance limit does not pause.
        let acc = compute(DeadlineKind::Acceptance, &facts, &rules(), &cal).expect("registered");
        assert!(acc.due_date.is_some());
    }

    #[test]
    fn a_pause_after_the_count_completed_does_not_help() {
        let cal = Calendar::builtin();
        // Due 2024-11-20; paused on the due day itself, which still counts.
        let pauses = [pause(sh(2024, 11, 20, 9, 0), None)];
        let start = sh(2024, 9, 21, 10, 0);
        assert_eq!(
            due_date(start, 60, &rules().handling, &pauses, &cal),
            Some(date(2024, 11, 20))
        );
        // Paused on the day before: the due day no longer counts, and the count never ends.
        let pauses = [pause(sh(2024, 11, 19, 9, 0), None)];
        assert_eq!(due_date(start, 60, &rules().handling, &pauses, &cal), None);
    }

    #[test]
    fn the_starting_day_does_not_count() {
        let cal = Calendar::builtin();
        // Registered at 23:00 on Monday 2024-03-04: 1 day is Tuesday 03-05, ending at midnight.
        let start = sh(2024, 3, 4, 23, 0);
        let limit = Limit::calendar_days(1);
        assert_eq!(due_date(start, 1, &limit, &[], &cal), Some(date(2024, 3, 5)));
        assert_eq!(due_instant(date(2024, 3, 5)), utc(2024, 3, 5, 16, 0));
        assert_eq!(due_date(start, 0, &limit, &[], &cal), Some(date(2024, 3, 4)));
    }

    #[test]
    fn late_evening_utc_is_the_next_day_in_shanghai() {
        let cal = Calendar::builtin();
        let limit = Limit::calendar_days(15);
        // 17:30 UTC on 03-04 is 01:30 on 03-05 in Shanghai: counting starts on 03-06.
        assert_eq!(
            due_date(utc(2024, 3, 4, 17, 30), 15, &limit, &[], &cal),
            Some(date(2024, 3, 20))
        );
        // 15:59 UTC is still 23:59 on 03-04.
        assert_eq!(
            due_date(utc(2024, 3, 4, 15, 59), 15, &limit, &[], &cal),
            Some(date(2024, 3, 19))
        );
        // Pauses are local dates too: paused 16:30 UTC on 03-09 is 03-10 in Shanghai.
        let pauses = [pause(utc(2024, 3, 9, 16, 30), Some(utc(2024, 3, 10, 17, 0)))];
        // Excluded: 03-11 (resume day, local 03-11 01:00). One day later.
        assert_eq!(
            due_date(utc(2024, 3, 4, 15, 59), 15, &limit.with_pauses(), &pauses, &cal),
            Some(date(2024, 3, 20))
        );
    }

    #[test]
    fn deadlines_start_with_their_events() {
        let cal = Calendar::builtin();
        let rules = rules();
        let mut facts = DeadlineFacts::new(sh(2024, 5, 6, 9, 0));
        assert!(compute(DeadlineKind::Acceptance, &facts, &rules, &cal).is_some());
        for kind in [
            DeadlineKind::Handling,
            DeadlineKind::ReviewAnswer,
            DeadlineKind::RecheckAnswer,
        ] {
            assert_eq!(compute(kind, &facts, &rules, &cal), None, "{kind}");
        }
        facts.review_requested_at = Some(sh(2024, 8, 1, 9, 0));
        facts.recheck_requested_at = Some(sh(2024, 9, 16, 9, 0));
        let review = compute(DeadlineKind::ReviewAnswer, &facts, &rules, &cal).expect("requested");
        assert_eq!(
            review.due_date,
            Some(date(2024, 8, 31)).map(|d| cal.next_working_day_on_or_after(d))
        );
        assert_eq!(review.due_date, Some(date(2024, 9, 2))); // 08-31 is a Saturday
        let recheck = compute(DeadlineKind::RecheckAnswer, &facts, &rules, &cal).expect("requested");
        assert_eq!(recheck.due_date, Some(date(2024, 10, 16)));
    }

    #[test]
    fn review_window_closes_at_the_end_of_its_last_day() {
        let cal = Calendar::builtin();
        let rules = rules();
        // Reply delivered 2024-09-20: 30 days end on Sunday 10-20, shifted to Monday 10-21.
        let closes = window_closes(sh(2024, 9, 20, 16, 0), &rules.review_request, &cal);
        assert_eq!(closes, Some(sh(2024, 10, 22, 0, 0)));
        let hotline = RuleSet::hotline_12345(RuleSetId::new());
        // 15 working days from Friday 2024-09-27: 09-29, 09-30, 10-08..12 (7), 10-14..18 (12),
        // 10-21, 10-22, 10-23 (15).
        let closes = window_closes(sh(2024, 9, 27, 16, 0), &hotline.recheck_request, &cal);
        assert_eq!(closes, Some(sh(2024, 10, 24, 0, 0)));
    }

    fn deadline_due(due: NaiveDate) -> Deadline {
        let due_at = due_instant(due);
        Deadline {
            kind: DeadlineKind::Handling,
            start: due_at - Duration::days(60),
            due_date: Some(due),
            due_at: Some(due_at),
            due_soon_at: Some(due_at - Duration::days(3)),
        }
    }

    #[test]
    fn assessment_boundaries() {
        let d = deadline_due(date(2024, 11, 19));
        let due_at = sh(2024, 11, 20, 0, 0);
        let at = |now| assess(&d, false, None, now);

        assert_eq!(at(sh(2024, 11, 16, 23, 59)).status, DeadlineStatus::OnTrack);
        assert_eq!(at(sh(2024, 11, 17, 0, 0)).status, DeadlineStatus::DueSoon);
        let last_second = at(due_at - Duration::seconds(1));
        assert_eq!(last_second.status, DeadlineStatus::DueSoon);
        assert_eq!(last_second.remaining_seconds, Some(1));
        let overdue = at(due_at + Duration::hours(1));
        assert_eq!(at(due_at).status, DeadlineStatus::Overdue);
        assert_eq!(overdue.status, DeadlineStatus::Overdue);
        assert_eq!(overdue.remaining_seconds, Some(-3600));
        assert_eq!(overdue.due_date, Some(date(2024, 11, 19)));
        assert_eq!(overdue.kind, DeadlineKind::Handling);
    }

    #[test]
    fn assessment_of_finished_and_paused_deadlines() {
        let d = deadline_due(date(2024, 11, 19));
        let due_at = sh(2024, 11, 20, 0, 0);
        let later = sh(2025, 3, 1, 0, 0);

        let on_time = assess(&d, false, Some(due_at - Duration::minutes(1)), later);
        assert_eq!(on_time.status, DeadlineStatus::OnTrack);
        assert_eq!(on_time.remaining_seconds, Some(60));
        let at_instant = assess(&d, false, Some(due_at), later);
        assert_eq!(at_instant.status, DeadlineStatus::Overdue);
        assert_eq!(at_instant.remaining_seconds, Some(0));

        // Paused with a known due date: paused until it passes, then overdue all the same.
        assert_eq!(
            assess(&d, true, None, sh(2024, 11, 19, 12, 0)).status,
            DeadlineStatus::Paused
        );
        assert_eq!(assess(&d, true, None, due_at).status, DeadlineStatus::Overdue);

        // Replied while the count stood still.
        let unknown = Deadline {
            due_date: None,
            due_at: None,
            due_soon_at: None,
            ..d
        };
        assert_eq!(
            assess(&unknown, false, Some(later), later).status,
            DeadlineStatus::OnTrack
        );
        assert_eq!(
            assess(&unknown, false, None, later).status,
            DeadlineStatus::Paused
        );
    }

    #[test]
    fn extension_rules() {
        let rules = rules();
        assert_eq!(check_extension(30, false, &rules), Ok(30));
        assert_eq!(check_extension(1, false, &rules), Ok(1));
        assert_eq!(
            check_extension(31, false, &rules),
            Err(DeadlineError::ExtensionTooLong { max: 30 })
        );
        assert_eq!(
            check_extension(0, false, &rules),
            Err(DeadlineError::ExtensionZero)
        );
        assert_eq!(
            check_extension(10, true, &rules),
            Err(DeadlineError::ExtensionAlreadyUsed)
        );
        assert_eq!(
            DeadlineError::ExtensionTooLong { max: 30 }.to_string(),
            "an extension may be at most 30 days"
        );
        let hotline = RuleSet::hotline_12345(RuleSetId::new());
        assert_eq!(
            check_extension(11, false, &hotline).map_err(|e| e.code()),
            Err("extension_too_long")
        );
    }

    #[test]
    fn default_rule_sets_are_valid() {
        let id = RuleSetId::new();
        let reg = RuleSet::regulation_2022(id);
        assert_eq!(reg.validate(), Ok(()));
        assert_eq!(RuleSet::hotline_12345(id).validate(), Ok(()));
        assert_eq!(
            (reg.acceptance.days, reg.handling.days, reg.max_extension_days),
            (15, 60, 30)
        );
        assert!(reg.handling.pausable && reg.review_answer.pausable && reg.recheck_answer.pausable);
        assert!(!reg.review_request.pausable && !reg.recheck_request.pausable);
        assert_eq!(reg.limit_for(DeadlineKind::RecheckAnswer), &reg.recheck_answer);
    }

    #[test]
    fn invalid_rule_sets_name_every_problem() {
        let mut bad = rules();
        bad.version = 0;
        bad.name = " ".into();
        bad.acceptance.days = 0;
        bad.review_answer.days = 400;
        bad.max_extension_days = 400;
        bad.due_soon_days = 60;
        let Err(DeadlineError::InvalidRuleSet(message)) = bad.validate() else {
            panic!("expected an invalid rule set");
        };
        for part in [
            "version",
            "name",
            "acceptance",
            "review_answer",
            "max_extension_days",
            "due_soon_days",
        ] {
            assert!(message.contains(part), "{part} missing from {message}");
        }
    }

    #[test]
    fn kind_and_status_codes() {
        assert_eq!(DeadlineKind::Handling.code(), "handling");
        assert_eq!(DeadlineKind::ReviewAnswer.label_zh(), "复查答复期限");
        assert_eq!(DeadlineKind::RecheckAnswer.label_zh(), "复核答复期限");
        for s in DeadlineStatus::ALL {
            assert_eq!(DeadlineStatus::parse(s.code()), Some(*s));
        }
        assert_eq!(DeadlineStatus::DueSoon.code(), "due_soon");
        assert_eq!(DeadlineStatus::Paused.label_zh(), "暂停计时");
        assert_eq!(DeadlineStatus::parse("late"), None);
        assert_eq!(DayCount::Working.label_zh(), "工作日");
    }

    // --- property tests -------------------------------------------------------------------

    /// An instant between 2020-01-01 and 2026-12-31 (UTC).
    fn instant_2020_2026() -> impl Strategy<Value = DateTime<Utc>> {
        (1_577_836_800i64..1_798_761_600i64)
            .prop_map(|secs| DateTime::from_timestamp(secs, 0).expect("in range"))
    }

    /// A pause starting between 10 days before and 120 days after `start`, closed after up to
    /// 20 days, or (one time in eight) open.
    fn pause_near(start: DateTime<Utc>) -> impl Strategy<Value = PauseSpan> {
        (-10 * 86_400i64..120 * 86_400, 0i64..20 * 86_400, 0u8..8).prop_map(move |(offset, length, open)| {
            let from = start + Duration::seconds(offset);
            PauseSpan {
                from,
                until: (open != 0).then(|| from + Duration::seconds(length)),
            }
        })
    }

    fn any_limit() -> impl Strategy<Value = Limit> {
        (1u32..=90, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(days, working, holiday_shift, pausable)| Limit {
                days,
                count: if working {
                    DayCount::Working
                } else {
                    DayCount::Calendar
                },
                holiday_shift,
                pausable,
            },
        )
    }

    proptest! {
        /// (1) A working-day deadline lands on a working day: never on a listed holiday, never
        /// on a Saturday or Sunday unless it is a listed adjusted working day.
        #[test]
        fn working_day_deadlines_land_on_working_days(
            start in instant_2020_2026(),
            days in 1u32..=40,
            holiday_shift in any::<bool>(),
        ) {
            let cal = Calendar::builtin();
            let limit = Limit { days, count: DayCount::Working, holiday_shift, pausable: false };
            let due = due_date(start, days, &limit, &[], &cal).expect("no pauses");
            let entry = cal.entry(due).map(|e| e.kind);
            prop_assert_ne!(entry, Some(crate::calendar::DayKind::Holiday));
            if matches!(due.weekday(), Weekday::Sat | Weekday::Sun) {
                prop_assert_eq!(entry, Some(crate::calendar::DayKind::Workday));
            }
            // And exactly `days` working days lie in (start day, due].
            let first = local_date(start);
            let counted = first
                .iter_days()
                .skip(1)
                .take_while(|d| *d <= due)
                .filter(|d| cal.is_working_day(*d))
                .count();
            prop_assert_eq!(counted, days as usize);
        }

        /// (2) Under the default rule set, without pauses and without the holiday shift, no
        /// extension that `check_extension` accepts puts the handling due date more than 90 days
        /// after the acceptance date.
        #[test]
        fn accepted_extensions_stay_within_ninety_days(
            accepted_at in instant_2020_2026(),
            requested in 0u32..=200,
            already_extended in any::<bool>(),
        ) {
            let cal = Calendar::builtin();
            let mut rules = rules();
            rules.handling.holiday_shift = false;
            if let Ok(extension_days) = check_extension(requested, already_extended, &rules) {
                let facts = DeadlineFacts { extension_days, ..accepted(accepted_at) };
                let d = compute(DeadlineKind::Handling, &facts, &rules, &cal).expect("accepted");
                let due = d.due_date.expect("no pauses");
                prop_assert!(due <= local_date(accepted_at) + Duration::days(90));
            }
        }

        /// (3) Adding a pause never moves a deadline earlier (an unknown due date counting as
        /// later than every date).
        #[test]
        fn a_pause_never_moves_a_deadline_earlier(
            (start, existing, added) in instant_2020_2026().prop_flat_map(|start| (
                Just(start),
                prop::collection::vec(pause_near(start), 0..3),
                pause_near(start),
            )),
            limit in any_limit(),
            extra_days in 0u32..=30,
        ) {
            let cal = Calendar::builtin();
            let limit = Limit { pausable: true, ..limit };
            let days = limit.days + extra_days;
            let before = due_date(start, days, &limit, &existing, &cal);
            let mut more = existing.clone();
            more.push(added);
            let after = due_date(start, days, &limit, &more, &cal);
            match (before, after) {
                (Some(b), Some(a)) => prop_assert!(a >= b, "{a} earlier than {b}"),
                (None, Some(a)) => {
                    prop_assert!(false, "an added pause made the unknown due date {a} known")
                }
                (_, None) => {}
            }
        }

        /// A calendar-day count without pauses or shift is plain date arithmetic.
        #[test]
        fn calendar_days_are_date_arithmetic(start in instant_2020_2026(), days in 0u32..=366) {
            let limit = Limit { holiday_shift: false, ..Limit::calendar_days(days) };
            let due = due_date(start, days, &limit, &[], &Calendar::builtin());
            prop_assert_eq!(due, Some(local_date(start) + Duration::days(i64::from(days))));
        }
    }
}
