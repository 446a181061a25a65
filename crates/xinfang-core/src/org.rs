//! The organisation: units, roles, and the actor who performs an action.
//!
//! A user may hold several roles in several units (a handler in 地面交通中心 who is also the
//! unit head of one of its teams). Permissions are therefore checked against *grants* — a role
//! in a unit — and never against a single "user role" column. What a user may *see* is
//! summarised as a [`MatterScope`], which the store turns into a `where` clause so that a matter
//! outside the scope is never read from the database at all.

use crate::ids::{OrganisationId, UnitId, UserId};
use crate::matter::coded_enum;

coded_enum! {
    /// The staff roles of DESIGN.md section 2 (the petitioner has no account).
    Role {
        Clerk = "clerk" / "登记员",
        Supervisor = "supervisor" / "督办员",
        Handler = "handler" / "承办人",
        UnitHead = "unit_head" / "单位负责人",
        Leader = "leader" / "包案领导",
        Mediator = "mediator" / "调解员",
        Analyst = "analyst" / "分析员",
        Admin = "admin" / "系统管理员",
    }
}

coded_enum! {
    /// The level of a unit in the organisation tree.
    UnitKind {
        Group = "group" / "集团",
        Subsidiary = "subsidiary" / "二级单位",
        Department = "department" / "部门",
        Team = "team" / "班组",
    }
}

/// One role held in one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub unit_id: UnitId,
}

/// Who is acting: a signed-in staff member, the petitioner (proven by tracking code and
/// secret, or by the public submission itself), or the system (deadline scans, imports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff(StaffActor),
    Petitioner,
    System,
}

impl Actor {
    /// The staff member acting, if it is one.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::Staff(s) => Some(s.user_id),
            Actor::Petitioner | Actor::System => None,
        }
    }
}

/// A signed-in staff member with every grant they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    pub user_id: UserId,
    pub organisation_id: OrganisationId,
    pub display_name: String,
    pub grants: Vec<RoleGrant>,
}

impl StaffActor {
    /// Holds `role` in any unit.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Holds any of `roles` in any unit.
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.grants.iter().any(|g| roles.contains(&g.role))
    }

    /// Holds `role` in `unit`.
    pub fn has_role_in(&self, role: Role, unit: UnitId) -> bool {
        self.grants.iter().any(|g| g.role == role && g.unit_id == unit)
    }

    /// Part of the petition office (信访办): registers, routes and supervises every matter.
    pub fn in_petition_office(&self) -> bool {
        self.has_any_role(&[Role::Clerk, Role::Supervisor])
    }

    /// May see petitioners' phone and ID numbers unmasked (each reveal is audited).
    pub fn may_reveal_personal_data(&self) -> bool {
        self.in_petition_office()
    }

    /// May see who filed a report (检举控告). Only the petition office: never the unit being
    /// reported on, nor anyone else outside the office.
    pub fn may_see_confidential_reporter(&self) -> bool {
        self.in_petition_office()
    }

    /// Which matters this user may see at all.
    pub fn scope(&self) -> MatterScope {
        let all = self.has_any_role(&[
            Role::Clerk,
            Role::Supervisor,
            Role::Admin,
            Role::Analyst,
            Role::Mediator,
        ]);
        let mut units: Vec<UnitId> = self
            .grants
            .iter()
            .filter(|g| matches!(g.role, Role::Handler | Role::UnitHead))
            .map(|g| g.unit_id)
            .collect();
        units.sort();
        units.dedup();
        MatterScope {
            organisation_id: self.organisation_id,
            all,
            units,
            leader: self.has_role(Role::Leader).then_some(self.user_id),
        }
    }
}

/// The matters a user may see: every matter of the organisation (`all`), or those where one of
/// `units` is the lead or a co-handling unit, or those the user owns as case-owning leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterScope {
    pub organisation_id: OrganisationId,
    pub all: bool,
    pub units: Vec<UnitId>,
    pub leader: Option<UserId>,
}

impl MatterScope {
    /// Whether a matter with these units and owner falls inside the scope. The store applies
    /// the same rule in SQL; this is its reference definition, used in tests.
    pub fn admits(&self, lead: Option<UnitId>, co: &[UnitId], owner: Option<UserId>) -> bool {
        self.all
            || lead.is_some_and(|u| self.units.contains(&u))
            || co.iter().any(|u| self.units.contains(u))
            || (owner.is_some() && owner == self.leader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: &[(Role, UnitId)]) -> StaffActor {
        StaffActor {
            user_id: UserId::new(),
            organisation_id: OrganisationId::new(),
            display_name: "测试".into(),
            grants: grants
                .iter()
                .map(|&(role, unit_id)| RoleGrant { role, unit_id })
                .collect(),
        }
    }

    #[test]
    fn handler_sees_only_own_units() {
        let (a, b) = (UnitId::new(), UnitId::new());
        let h = actor(&[(Role::Handler, a)]);
        let s = h.scope();
        assert!(!s.all);
        assert!(s.admits(Some(a), &[], None));
        assert!(s.admits(Some(b), &[a], None));
        assert!(!s.admits(Some(b), &[], None));
        assert!(!h.may_reveal_personal_data());
    }

    #[test]
    fn clerk_sees_all_and_may_reveal() {
        let c = actor(&[(Role::Clerk, UnitId::new())]);
        assert!(c.scope().admits(Some(UnitId::new()), &[], None));
        assert!(c.may_reveal_personal_data());
        assert!(c.may_see_confidential_reporter());
    }

    #[test]
    fn leader_sees_owned_matters() {
        let l = actor(&[(Role::Leader, UnitId::new())]);
        let s = l.scope();
        assert!(s.admits(None, &[], Some(l.user_id)));
        assert!(!s.admits(Some(UnitId::new()), &[], Some(UserId::new())));
    }
}
