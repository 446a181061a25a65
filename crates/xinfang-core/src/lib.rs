//! The pure domain core of xinfang (智慧信访平台).
//!
//! Everything here is free of IO: no database, no network, no clock of its own. Callers pass
//! the time in (see [`clock`]) and persist what comes out. That keeps the rules of the
//! petition office — who may do what, when a time limit falls due, how a rate is computed —
//! in one place where unit and property tests can reach every corner.
//!
//! A newcomer finds a feature by its name:
//! - [`ids`]: identifiers (`PetitionId`, `UnitId`, `TrackingCode`, …), parsed at the edge.
//! - [`petitioner`]: phone numbers, ID documents (GB 11643 check digit), masking.
//! - [`matter`]: the petition matter (信访事项) and its vocabulary (channel, type, urgency, state).
//! - [`org`]: units, roles and the actor performing a transition.
//! - [`lifecycle`]: the state machine 受理-分类-交办-督办-反馈-归档.
//! - [`calendar`]: the Chinese statutory holiday calendar with adjusted working days.
//! - [`deadline`]: time-limit rule sets and the deadline engine.
//! - [`metrics`]: the rates of DESIGN.md section 4, one definition everywhere.
//! - [`routing`]: routing rules (category, refined by location or channel → unit) and the
//!   confidence threshold below which a matter waits for manual classification.
//! - [`clock`]: injectable time.

pub mod calendar;
pub mod clock;
pub mod deadline;
pub mod ids;
pub mod lifecycle;
pub mod matter;
pub mod metrics;
pub mod org;
pub mod petitioner;
pub mod routing;
pub mod text;
