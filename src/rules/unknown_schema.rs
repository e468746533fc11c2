use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;

declare_rule! {
    /// ## What it checks
    /// An object kvet has no schema for: not a kind the target Kubernetes version serves, no
    /// `CustomResourceDefinition` for it in the input or under `--crds`, not in kvet's CRD
    /// catalog (`kvet schemas` lists it), and no `--schema-location` schema. When the catalog
    /// has other versions of the kind, the message names them. (Removed Kubernetes APIs are
    /// `removed-api` instead.)
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
    /// apiVersion: example.com/v1   # unknown-schema without --crds for example.com
    /// kind: Widget
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
    // A kind of a group the catalog knows, in a version it does not have (an old one).
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let known = match context.catalog {
        true => crate::schema::catalog::versions_of(group, kind),
        false => Vec::new(),
    };
    let message = match known.as_slice() {
        [] => format!("no schema for {api_version} {kind}, so it is not validated"),
        versions => format!(
            "no schema for {api_version} {kind}, so it is not validated: kvet's CRD catalog has {} of this kind",
            versions.join(", ")
        ),
    };
    out.push(
        Finding::new("/kind", message)
        .with_help("pass its CustomResourceDefinition with --crds PATH (or include it in the input), or check apiVersion and kind for a typo"),
    );
}
