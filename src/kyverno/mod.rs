//! Kyverno policies, evaluated natively: `ClusterPolicy`/`Policy` rules (pattern, anyPattern,
//! deny, foreach, CEL) and `ValidatingPolicy` CEL validations, applied offline to the objects
//! kvet checks, as Kyverno's admission controller would apply them to a CREATE request.
//!
//! `policy` reads a policy (and generates its `autogen` rules for pod controllers), `matching`
//! decides which objects a rule applies to, `engine` gives each rule's verdict on one object
//! from `pattern`, `conditions`, `variables` (`{{ }}` with `jmes`, JMESPath with Kyverno's
//! functions), `cel` and `pod_security` (the Pod Security Standards with Kyverno's exclusions); `test` runs Kyverno CLI test files.

pub mod autogen;
pub mod cel;
pub mod cluster;
pub mod conditions;
pub mod engine;
pub mod images;
pub mod jmes;
pub mod matching;
pub mod pattern;
pub mod pod_security;
pub mod policy;
pub mod scalar;
pub mod test;
pub mod variables;
