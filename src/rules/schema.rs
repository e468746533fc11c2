use super::{Check, Context, declare_rule};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::schema::{catalog, cel, store, validate};

declare_rule! {
    /// ## What it checks
    /// Every object of a Kubernetes kind against the JSON schema of the target Kubernetes
    /// version (`--kubernetes-version`, default the newest kvet embeds), and every custom
    /// resource against the `openAPIV3Schema` of its `CustomResourceDefinition` (from the
    /// input or `--crds`, else from kvet's CRD catalog of the GitOps stack, which `kvet
    /// schemas` lists, naming the project and version in the finding and in the JSON's
    /// `schema_source`; a version its CRD declares `served: false` is an error naming the
    /// versions it serves): field types, required fields, allowed values, and — strictly —
    /// fields the schema does not have (unless it preserves unknown fields). As the API server
    /// does, `null`s are pruned and defaulted fields count as present; `metadata` is checked as
    /// `ObjectMeta`. The CRD's CEL rules (`x-kubernetes-validations`) are evaluated too, as the
    /// API server compiles and runs them: on the object with the schema's defaults filled in,
    /// with optional syntax, `duration`/`timestamp`, `cel.bind`, the strings, lists, sets and
    /// math extensions, and Kubernetes' libraries (`quantity`, `url`, `ip`/`cidr`, `isSorted`,
    /// `sum`, `indexOf`, regex `find`/`findAll`, `format.*`, `semver`). Transition rules
    /// (`oldSelf`) need the object's previous state and are skipped, as is a rule calling a
    /// function kvet lacks (the authorizer library); `--verbose` counts the rules a run
    /// evaluated and skipped, and the end of this page those of kvet's CRD catalog. As on
    /// the API server, a rule may cost at most 1,000,000 on one
    /// value and the rules of one object 10,000,000 in all (the cost grows with the lists and
    /// strings a rule walks, multiplied by each loop inside a loop): a rule over the limit is
    /// reported instead of run. Each error is reported at the offending field; all errors of
    /// an object are reported. Mutating webhooks (which may fill fields in) are not known to kvet.
    /// The `sops` metadata of a SOPS-encrypted manifest is not validated (it is gone once the
    /// file is decrypted, before it is applied).
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
    kinds: &[],
    summary: "the object does not match the Kubernetes API schema",
    check: Check::Object(check),
}

fn check(object: &Object, context: &Context, out: &mut Vec<Finding>) {
    let (version, id) = (context.kubernetes_version, &object.id);
    let mut instance = object.root.to_json();
    // A SOPS-encrypted manifest carries its `sops` metadata until Flux or ksops decrypt it;
    // the API server never sees that key.
    if let Some(fields) = instance.as_object_mut()
        && fields.get("sops").is_some_and(|s| s.get("mac").is_some())
    {
        fields.remove("sops");
    }
    if let Some((served, origin)) = context.not_served(&id.api_version, &id.kind) {
        let served = match served.as_slice() {
            [] => "no version".to_owned(),
            versions => versions.join(", "),
        };
        let mut finding = Finding::new(
            "/apiVersion",
            format!(
                "{} {} is not served: its CustomResourceDefinition has the version with served: false, and serves {served}",
                id.api_version, id.kind
            ),
        )
        .with_help("use a version the CRD serves");
        if let Some(project) = origin {
            catalog::attribute(&mut finding, &id.kind, project);
        }
        out.push(finding);
        return;
    }
    // Said on every finding that a catalog schema makes: the user's cluster may run another
    // release of the project.
    let mut source = None;
    let schema = match store::builtin_kind(version, &id.api_version, &id.kind) {
        Some(schema) => schema,
        None => match context.crds.get(version, &id.api_version, &id.kind) {
            Some(Ok(schema)) => {
                validate::prune_nulls(&mut instance);
                schema
            }
            Some(Err(error)) => {
                out.push(Finding::new(
                    "/kind",
                    format!("cannot validate {}: the schema in its CustomResourceDefinition does not compile: {error}", id.kind),
                ));
                return;
            }
            None => match context
                .catalog_project(&id.api_version, &id.kind)
                .and_then(|p| Some((p, catalog::get(version, &id.api_version, &id.kind)?)))
            {
                Some((project, Ok(schema))) => {
                    validate::prune_nulls(&mut instance);
                    source = Some(project);
                    schema
                }
                Some((_, Err(error))) => {
                    out.push(Finding::new(
                        "/kind",
                        format!("cannot validate {}: its schema in kvet's CRD catalog does not compile: {error}", id.kind),
                    ));
                    return;
                }
                None => match context.locations.get(&id.api_version, &id.kind) {
                    Some(Ok(schema)) => schema,
                    Some(Err(error)) => {
                        out.push(Finding::new(
                            "/kind",
                            format!("cannot validate {}: its schema from --schema-location is not usable: {error}", id.kind),
                        ));
                        return;
                    }
                    None => return,
                },
            },
        },
    };
    let first = out.len();
    out.extend(validate::findings(&schema, &instance));
    if let store::SchemaDocument::Custom(document) = &schema.document
        && schema.has_cel_rules
    {
        cel::evaluate(document, &instance, out);
    }
    if let Some(project) = source {
        for finding in &mut out[first..] {
            catalog::attribute(finding, &id.kind, project);
        }
    }
}
