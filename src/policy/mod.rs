//! Rego policies: kvet's built-in ones (`policies/`, embedded) and the user's (`--policy`,
//! conftest's contract), evaluated by regorus on each object.

mod budget;
pub mod builtin;
pub mod engine;
pub mod input;
mod lazy;
pub mod meta;
mod offline;
mod recursion;
pub mod result;
pub mod test;

pub use engine::{Policies, PolicyError, PolicyOptions, PolicyRule};
pub use meta::Scope;
