//! The traffic-switch engine shared by `cutover` and `migrate`: move clients
//! from one NLB to another through weighted Route 53 records, gated on
//! target health, journalled so that any interruption can be resumed or
//! undone (domain.md §5, §7.6).
//!
//! Everything here is pure: weights, change batches, the health gate and the
//! journal's state machine. `cmd::switch` talks to Kubernetes and AWS.

pub mod deletion;
pub mod dns;
pub mod expect;
pub mod gate;
pub mod journal;
pub mod listener;
pub mod mirror;
pub mod parallel;
pub mod preflight;
pub mod weights;
pub mod xdns;

pub use dns::{Action, Change, LbTarget};
pub use gate::Reading;
pub use journal::{Journal, Kind, Settings, Start, Step};
