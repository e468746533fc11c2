use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::schema::served::{ApiStatus, status};

declare_rule! {
    /// ## What it checks
    /// An object whose `apiVersion` the target Kubernetes version still serves but that is on
    /// its way out: a later Kubernetes version removes it, or it is an alpha or beta version
    /// of a kind that a more stable apiVersion of the same group already serves; and a custom
    /// resource whose version its CustomResourceDefinition (in the input or under `--crds`)
    /// marks `deprecated: true`, with the CRD's `deprecationWarning`.
    ///
    /// ## Why
    /// The next cluster upgrade will reject the object. Moving while both versions are served
    /// lets the change roll out before the upgrade instead of during it.
    ///
    /// ## How to fix
    /// Move to the apiVersion the message names.
    ///
    /// ## Example
    /// ```yaml
    /// # kvet check --kubernetes-version 1.25
    /// apiVersion: autoscaling/v2beta2   # deprecated-api: removed in 1.26, use autoscaling/v2
    /// kind: HorizontalPodAutoscaler
    /// ```
    id: "deprecated-api",
    category: "api",
    level: Warning,
    kinds: &[],
    summary: "the apiVersion is deprecated in favour of a newer one",
    check: Check::Object(check),
}

fn check(object: &Object, context: &Context, out: &mut Vec<Finding>) {
    let (api_version, kind) = (&object.id.api_version, &object.id.kind);
    // A custom resource version its CRD marks `deprecated: true`, with the CRD's warning.
    if let Some((warning, origin)) = context.crd_deprecation(api_version, kind) {
        let message = match warning {
            "" => {
                format!("{api_version} {kind} is deprecated: its CustomResourceDefinition says so")
            }
            warning => format!(
                "{api_version} {kind} is deprecated by its CustomResourceDefinition, which warns: {warning}"
            ),
        };
        let mut finding = Finding::new("/apiVersion", message)
            .with_help("move to a version the CustomResourceDefinition does not deprecate");
        if let Some(project) = origin {
            crate::schema::catalog::attribute(&mut finding, kind, project);
        }
        out.push(finding);
        return;
    }
    let ApiStatus::Deprecated {
        replacement,
        removed_in,
    } = status(api_version, kind, context.kubernetes_version)
    else {
        return;
    };
    let mut message = format!("{api_version} {kind} is deprecated");
    if let Some(v) = removed_in {
        message.push_str(&format!(" and removed in Kubernetes {v}"));
    }
    let mut finding = Finding::new("/apiVersion", message);
    if let Some(r) = replacement {
        finding = finding.with_help(use_instead(&r));
    }
    out.push(finding);
}

/// The help that names the apiVersion to move to (`deprecated-api`, `removed-api`).
pub fn use_instead(api_version: &str) -> String {
    format!("{USE_INSTEAD}{api_version}")
}

/// The apiVersion a help of [`use_instead`] names: what an editor's quick fix writes.
pub fn named_instead(help: &str) -> Option<&str> {
    help.strip_prefix(USE_INSTEAD)
}

const USE_INSTEAD: &str = "use apiVersion: ";
