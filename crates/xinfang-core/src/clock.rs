//! Injectable time, and the one place that knows the office's time zone.
//!
//! Nothing in the core reads the system clock except [`SystemClock`]: rules take the time as an
//! argument, and services hold an `Arc<dyn Clock>`. Tests use [`FixedClock`] and move it forward
//! explicitly, so no test ever sleeps.
//!
//! Days (for time limits, for monthly reports) are local dates in Asia/Shanghai. China has not
//! observed daylight saving time since 1991, so a fixed +08:00 offset *is* Asia/Shanghai for
//! every date this system handles, and no time-zone database is needed.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock: `Utc::now()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, for tests and simulations.
///
/// Shared between threads (`Arc<FixedClock>`); every method takes `&self`.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<DateTime<Utc>>,
}

impl FixedClock {
    /// A clock standing at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(t) }
    }

    /// Moves the clock to `t` (backwards too).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.lock() = t;
    }

    /// Moves the clock forward by `by` (backwards when negative). Saturates at the limits of
    /// `DateTime<Utc>` instead of overflowing.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now = now.checked_add_signed(by).unwrap_or(if by < Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        });
    }

    /// The guarded instant. A poisoned lock still holds a valid instant (a `DateTime` cannot be
    /// left half-written), so poisoning is ignored.
    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

/// +08:00, evaluated at compile time.
const CHINA_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// The offset of Asia/Shanghai (+08:00, all year: China has no daylight saving time).
pub fn china_offset() -> FixedOffset {
    CHINA_OFFSET
}

/// The local date in Asia/Shanghai of the instant `t`.
///
/// 2024-03-04T16:30:00Z is 00:30 on 2024-03-05 in Shanghai, so its local date is 2024-03-05.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&CHINA_OFFSET).date_naive()
}

/// 00:00 Asia/Shanghai on `d`, as an instant (16:00 UTC the day before). Saturates at
/// `DateTime::<Utc>::MIN_UTC` for the first representable date.
pub fn start_of_local_day(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN)
        .checked_sub_signed(Duration::seconds(i64::from(CHINA_OFFSET.local_minus_utc())))
        .map(|naive| naive.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::Arc;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::new(utc(2024, 10, 1, 0, 0));
        assert_eq!(clock.now(), utc(2024, 10, 1, 0, 0));
        clock.advance(Duration::hours(36));
        assert_eq!(clock.now(), utc(2024, 10, 2, 12, 0));
        clock.set(utc(2020, 1, 1, 0, 0));
        assert_eq!(clock.now(), utc(2020, 1, 1, 0, 0));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn clocks_are_usable_as_trait_objects() {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(utc(2024, 1, 1, 0, 0)));
        assert_eq!(clock.now(), utc(2024, 1, 1, 0, 0));
        let system: Arc<dyn Clock> = Arc::new(SystemClock);
        assert!(system.now() > utc(2024, 1, 1, 0, 0));
    }

    #[test]
    fn offset_is_plus_eight() {
        assert_eq!(china_offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn local_date_turns_at_sixteen_utc() {
        assert_eq!(local_date(utc(2024, 3, 4, 15, 59)), date(2024, 3, 4));
        assert_eq!(local_date(utc(2024, 3, 4, 16, 0)), date(2024, 3, 5));
        // New Year's Eve in UTC is already New Year's Day in Shanghai.
        assert_eq!(local_date(utc(2024, 12, 31, 20, 0)), date(2025, 1, 1));
    }

    #[test]
    fn start_of_local_day_is_sixteen_utc_the_day_before() {
        assert_eq!(start_of_local_day(date(2024, 10, 1)), utc(2024, 9, 30, 16, 0));
        assert_eq!(
            local_date(start_of_local_day(date(2024, 10, 1))),
            date(2024, 10, 1)
        );
        assert_eq!(start_of_local_day(NaiveDate::MIN), DateTime::<Utc>::MIN_UTC);
    }
}
