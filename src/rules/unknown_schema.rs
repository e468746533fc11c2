use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;

declare_rule! {
    /// ## What it checks
    /// An object kvet has no schema for: not a kind the target Kubernetes version serves, and
    /// no `CustomResourceDefinition` for it in the input or under `--crds`. (Removed
    /// Kubernetes APIs are `removed-api` instead.)
    ///
    /// ## Why
    /// Such an object is not validated at all, so a typo in it goes unnoticed until the sync —
    /// kvet says so rather than passing it in silence. A typo in `kind` or `apiVersion` shows
    /// up here too.
    ///
    /// ## How to fix
    /// Pass the CRDs of the operators you use (`--crds charts/foo/crds/`), or check the
    /// `apiVersion` and `kind`. Turn the rule off in `.kvet.yaml` (`unknown-schema: off`) to
    /// accept objects without a schema.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: argoproj.io/v1alpha1   # unknown-schema without --crds for Argo Rollouts
    /// kind: Rollout
    /// ```
    id: "unknown-schema",
    category: "schema",
    level: Warning,
    kinds: &[],
    summary: "no schema is known for the object's apiVersion and kind",
    check: Check::Object(check),
}

fn check(object: &Object, context: &Context, out: &mut Vec<Finding>) {
    let (api_version, kind) = (&object.id.api_version, &object.id.kind);
    if !context.crds_complete || !context.lacks_schema(api_version, kind) {
        return;
    }
    out.push(
        Finding::new(
            "/kind",
            format!("no schema for {api_version} {kind}, so it is not validated"),
        )
        .with_help("pass its CustomResourceDefinition with --crds PATH (or include it in the input), or check apiVersion and kind for a typo"),
    );
}
