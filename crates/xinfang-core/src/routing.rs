//! Routing: which unit a matter of a given category goes to, and whether a machine suggestion
//! is confident enough to route by.
//!
//! Admins keep a table of rules: a category, the unit that handles it, and optionally a
//! location (a place the matter names, such as "T3航站楼") and a channel that refine it. For a
//! matter the most specific matching rule wins — location and channel over location over
//! channel over the category alone — then the lower priority number; when no rule matches, the
//! category's default unit stands. A suggestion whose probability is below the organisation's
//! threshold is not routed at all: it waits in the manual classification queue for a clerk.

use crate::ids::{CategoryId, UnitId};
use crate::matter::Channel;
use serde::{Deserialize, Serialize};

/// One admin-edited routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub category_id: CategoryId,
    pub unit_id: UnitId,
    /// Applies only when the matter's location contains this text (e.g. "T3").
    pub location_contains: Option<String>,
    /// Applies only to matters from this channel.
    pub channel: Option<Channel>,
    /// Among equally specific rules, the lower number wins.
    pub priority: i32,
}

impl RoutingRule {
    fn matches(&self, category: CategoryId, location: Option<&str>, channel: Channel) -> bool {
        self.category_id == category
            && self
                .location_contains
                .as_deref()
                .is_none_or(|want| location.is_some_and(|l| l.contains(want)))
            && self.channel.is_none_or(|c| c == channel)
    }

    /// 3 for location and channel, 2 for location, 1 for channel, 0 for the category alone.
    fn specificity(&self) -> u8 {
        2 * u8::from(self.location_contains.is_some()) + u8::from(self.channel.is_some())
    }
}

/// The unit for a matter of `category` at `location` from `channel`: the best matching rule,
/// else the category's default unit.
pub fn route(
    rules: &[RoutingRule],
    category: CategoryId,
    location: Option<&str>,
    channel: Channel,
    default_unit: Option<UnitId>,
) -> Option<UnitId> {
    rules
        .iter()
        .filter(|r| r.matches(category, location, channel))
        .min_by_key(|r| (std::cmp::Reverse(r.specificity()), r.priority))
        .map(|r| r.unit_id)
        .or(default_unit)
}

/// Where a suggestion sends the matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Confident, and a unit is known: the category and unit are proposed for one-click
    /// confirmation (自动分流).
    Auto,
    /// Below the threshold, or no unit for the category: a clerk classifies it (人工分类).
    Manual,
}

impl Route {
    pub fn code(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Auto => "自动分流",
            Self::Manual => "人工分类",
        }
    }
}

/// The route of a suggestion with `probability` for which `unit` was found, at `threshold`.
pub fn decide(probability: f32, threshold: f32, unit: Option<UnitId>) -> Route {
    if unit.is_some() && probability >= threshold {
        Route::Auto
    } else {
        Route::Manual
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        category: CategoryId,
        unit: UnitId,
        location: Option<&str>,
        channel: Option<Channel>,
    ) -> RoutingRule {
        RoutingRule {
            category_id: category,
            unit_id: unit,
            location_contains: location.map(str::to_string),
            channel,
            priority: 0,
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_the_default_unit_is_the_fallback() {
        let (parking, taxi) = (CategoryId::new(), CategoryId::new());
        let (ground, t3_parking, hotline_desk, default) =
            (UnitId::new(), UnitId::new(), UnitId::new(), UnitId::new());
        let rules = vec![
            rule(parking, ground, None, None),
            rule(parking, t3_parking, Some("T3"), None),
            rule(parking, hotline_desk, None, Some(Channel::Hotline12345)),
        ];
        // The category alone.
        assert_eq!(
            route(&rules, parking, Some("T2停车楼"), Channel::WalkIn, Some(default)),
            Some(ground)
        );
        // Location beats channel.
        assert_eq!(
            route(
                &rules,
                parking,
                Some("T3航站楼P5"),
                Channel::Hotline12345,
                Some(default)
            ),
            Some(t3_parking)
        );
        assert_eq!(
            route(&rules, parking, None, Channel::Hotline12345, Some(default)),
            Some(hotline_desk)
        );
        // No rule for the category: its default unit, or none.
        assert_eq!(
            route(&rules, taxi, Some("T3"), Channel::WalkIn, Some(default)),
            Some(default)
        );
        assert_eq!(route(&rules, taxi, None, Channel::WalkIn, None), None);
    }

    #[test]
    fn priority_breaks_ties_between_equally_specific_rules() {
        let c = CategoryId::new();
        let (first, second) = (UnitId::new(), UnitId::new());
        let mut a = rule(c, second, Some("T3"), None);
        a.priority = 5;
        let mut b = rule(c, first, Some("航站楼"), None);
        b.priority = 1;
        assert_eq!(
            route(&[a, b], c, Some("T3航站楼"), Channel::Website, None),
            Some(first)
        );
    }

    #[test]
    fn only_a_confident_suggestion_with_a_unit_is_routed() {
        let u = Some(UnitId::new());
        assert_eq!(decide(0.92, 0.8, u), Route::Auto);
        assert_eq!(decide(0.8, 0.8, u), Route::Auto);
        assert_eq!(decide(0.79, 0.8, u), Route::Manual);
        assert_eq!(decide(0.99, 0.8, None), Route::Manual);
    }
}
