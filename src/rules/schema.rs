use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::schema::{store, validate};

declare_rule! {
    /// ## What it checks
    /// Every object of a Kubernetes kind against the JSON schema of the target Kubernetes
    /// version (`--kubernetes-version`, default the newest kvet embeds): field types, required
    /// fields, allowed values, and — strictly — fields the API does not have. Each error is
    /// reported at the offending field; all errors of an object are reported.
    ///
    /// ## Why
    /// The API server rejects a wrong type or a missing required field, and drops or rejects
    /// an unknown field (`imagePullPolicyy`) depending on field validation — so a typo is
    /// either a failed sync or a setting that silently does nothing.
    ///
    /// ## How to fix
    /// Fix the field the message names; `kubectl explain <kind>.<field>` shows what the API
    /// expects.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: three            # schema: spec.replicas: expected integer, got string "three"
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: web
    ///           imagePullPolicyy: Always   # schema: unknown field (did you mean "imagePullPolicy"?)
    /// ```
    id: "schema",
    category: "schema",
    level: Error,
    kinds: [],
    summary: "the object does not match the Kubernetes API schema",
    check: Check::Object(check),
}

fn check(object: &Object, context: &Context, out: &mut Vec<Finding>) {
    let id = &object.id;
    let Some(schema) = store::builtin_kind(context.kubernetes_version, &id.api_version, &id.kind)
    else {
        return;
    };
    out.extend(validate::findings(&schema, &object.root.to_json()));
}
