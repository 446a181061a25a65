//! The demo organisation: an airport group's unit tree with its petition office.
//!
//! The tree is fixed data. Every `default_unit` named in the taxonomy CSV exists here with
//! exactly that name, so the loader can route each category to a unit by name.

use serde::Serialize;
pub use xinfang_core::org::UnitKind;

/// One unit of the demo airport group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoUnit {
    /// A stable ASCII code, unique in the tree (e.g. `ground_transport`).
    pub code: &'static str,
    /// The Chinese name shown to users, unique in the tree.
    pub name: &'static str,
    /// The parent unit's `code`; `None` only for the group itself.
    pub parent: Option<&'static str>,
    /// The level of the unit in the tree.
    pub kind: UnitKind,
    /// Whether this is the petition office (信访办) that receives and routes all matters.
    pub petition_office: bool,
}

/// `(code, name, parent, kind, petition_office)`, parents listed before their children.
const UNITS: &[(&str, &str, Option<&str>, UnitKind, bool)] = &[
    ("group", "机场集团有限公司", None, UnitKind::Group, false),
    (
        "petition_office",
        "信访办",
        Some("group"),
        UnitKind::Department,
        true,
    ),
    (
        "discipline",
        "纪检监察室",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    ("hr", "人力资源部", Some("group"), UnitKind::Department, false),
    ("safety", "安全管理部", Some("group"), UnitKind::Department, false),
    (
        "operations",
        "运行指挥中心",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    (
        "construction",
        "工程建设指挥部",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    (
        "terminal",
        "航站楼管理部",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    (
        "security_check",
        "安检站",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    (
        "customer_service",
        "客户服务中心",
        Some("group"),
        UnitKind::Department,
        false,
    ),
    (
        "ground_transport",
        "地面交通中心",
        Some("group"),
        UnitKind::Subsidiary,
        false,
    ),
    (
        "commerce",
        "商业管理公司",
        Some("group"),
        UnitKind::Subsidiary,
        false,
    ),
    (
        "property",
        "物业管理公司",
        Some("group"),
        UnitKind::Subsidiary,
        false,
    ),
    (
        "land_office",
        "征地拆迁办公室",
        Some("construction"),
        UnitKind::Department,
        false,
    ),
    (
        "leasing",
        "招商租赁部",
        Some("commerce"),
        UnitKind::Department,
        false,
    ),
    (
        "parking_team",
        "停车场管理队",
        Some("ground_transport"),
        UnitKind::Team,
        false,
    ),
    (
        "taxi_team",
        "出租车调度站",
        Some("ground_transport"),
        UnitKind::Team,
        false,
    ),
    (
        "baggage_team",
        "行李查询班组",
        Some("terminal"),
        UnitKind::Team,
        false,
    ),
    (
        "screening_1",
        "旅检一大队",
        Some("security_check"),
        UnitKind::Team,
        false,
    ),
    (
        "screening_2",
        "旅检二大队",
        Some("security_check"),
        UnitKind::Team,
        false,
    ),
    (
        "hotline_team",
        "服务热线班组",
        Some("customer_service"),
        UnitKind::Team,
        false,
    ),
    (
        "dormitory_team",
        "员工宿舍管理组",
        Some("property"),
        UnitKind::Team,
        false,
    ),
];

/// The airport group's unit tree, parents before children: the group, its petition office,
/// its departments and subsidiaries, and a few teams under them.
pub fn units() -> Vec<DemoUnit> {
    UNITS
        .iter()
        .map(|&(code, name, parent, kind, petition_office)| DemoUnit {
            code,
            name,
            parent,
            kind,
            petition_office,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tree_is_well_formed() {
        let us = units();
        assert!(us.len() >= 14);
        let codes: HashSet<_> = us.iter().map(|u| u.code).collect();
        let names: HashSet<_> = us.iter().map(|u| u.name).collect();
        assert_eq!(codes.len(), us.len());
        assert_eq!(names.len(), us.len());
        assert_eq!(us.iter().filter(|u| u.parent.is_none()).count(), 1);
        assert_eq!(us[0].kind, UnitKind::Group);
        let mut seen = HashSet::new();
        for u in &us {
            if let Some(p) = u.parent {
                assert!(seen.contains(p), "{} listed before its parent {p}", u.code);
            }
            seen.insert(u.code);
        }
        let offices: Vec<_> = us.iter().filter(|u| u.petition_office).collect();
        assert_eq!(offices.len(), 1);
        assert_eq!(offices[0].name, "信访办");
        assert_eq!(offices[0].parent, Some("group"));
    }

    #[test]
    fn every_default_unit_exists() {
        let names: HashSet<_> = units().iter().map(|u| u.name).collect();
        for c in crate::categories() {
            assert!(names.contains(c.default_unit.as_str()), "{}", c.default_unit);
        }
    }
}
