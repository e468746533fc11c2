use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::schema::builtin;
use crate::schema::served::{ApiStatus, status};

declare_rule! {
    /// ## What it checks
    /// An object whose `apiVersion` and `kind` the target Kubernetes version
    /// (`--kubernetes-version`, default the newest kvet knows) no longer serves — for example
    /// `extensions/v1beta1 Deployment` or `policy/v1beta1 PodDisruptionBudget`. Only Kubernetes'
    /// own API groups are judged; custom resources are left to schema validation.
    ///
    /// ## Why
    /// The API server rejects the object (`no matches for kind "Deployment" in version
    /// "extensions/v1beta1"`), so the sync or the upgrade fails. Charts that were never
    /// updated keep rendering removed APIs long after they went.
    ///
    /// ## How to fix
    /// Move to the apiVersion the message names, and check the fields that changed with it (a
    /// `selector` became required for `apps/v1` workloads, `Ingress` backends changed shape).
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: extensions/v1beta1   # removed-api: use apps/v1
    /// kind: Deployment
    /// ```
    id: "removed-api",
    category: "api",
    level: Error,
    kinds: &[],
    summary: "the target Kubernetes version no longer serves this apiVersion/kind",
    check: Check::Object(check),
}

fn check(object: &Object, context: &Context, out: &mut Vec<Finding>) {
    let (api_version, kind) = (&object.id.api_version, &object.id.kind);
    let target = context.kubernetes_version;
    let (replacement, removed_in) = match status(api_version, kind, target) {
        ApiStatus::Removed {
            replacement,
            removed_in,
        } => (replacement, removed_in),
        ApiStatus::NotYetServed { since } => {
            let finding = Finding::new(
                "/apiVersion",
                format!("{api_version} {kind} is not served by Kubernetes {target} (it is from {since} on)"),
            )
            .with_help(format!(
                "check with --kubernetes-version {since} or later, or use an apiVersion {target} serves"
            ));
            out.push(finding);
            return;
        }
        _ => return,
    };
    let when = match removed_in {
        Some(v) => format!("removed in {v}"),
        None => format!("removed in {} or earlier", builtin::versions()[0]),
    };
    let mut finding = Finding::new(
        "/apiVersion",
        format!("{api_version} {kind} is not served by Kubernetes {target} ({when})"),
    );
    finding = match replacement {
        Some(r) => finding.with_help(super::deprecated_api::use_instead(&r)),
        None => finding.with_help(format!(
            "Kubernetes {target} has no {kind} any more; remove the object"
        )),
    };
    out.push(finding);
}
