use std::collections::HashMap;
use std::path::Path;

use super::{Check, ObjectSummary, StreamFinding, declare_rule};
use crate::diag::Finding;

declare_rule! {
    /// ## What it checks
    /// Two objects with the same API group, kind, namespace and name in one unit that is applied
    /// together: one file or stream (`helm template … | kvet check -`), or the files of one
    /// folder (what `kubectl apply -f dir/` and an Argo CD directory application apply) — for
    /// example two charts both rendering `ConfigMap app-config`. Folders are not compared with
    /// each other, so `envs/dev/` and `envs/prod/` may hold the same objects. Versions of one
    /// group count as the same object (`apps/v1` and `apps/v1beta2`). Objects without a
    /// namespace only match objects without one.
    ///
    /// ## Why
    /// Only one of them can exist in the cluster: `kustomize build` refuses the input, Argo CD
    /// reports a "duplicate resource" and applies one of the two, and `kubectl apply` silently
    /// lets the last one win.
    ///
    /// ## How to fix
    /// Remove one of the objects, or rename it if both are needed.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata: {name: app}
    /// ---
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata: {name: app}     # duplicate-object
    /// ```
    id: "duplicate-object",
    category: "structure",
    level: Error,
    kinds: &[],
    summary: "the same object (group, kind, namespace, name) appears twice in a file or folder",
    check: Check::Stream(check),
}

fn check(objects: &[ObjectSummary], out: &mut Vec<StreamFinding>) {
    // Objects conflict within one folder: (folder, group, kind, namespace, name).
    type Key<'a> = (&'a Path, &'a str, &'a str, Option<&'a str>, &'a str);
    let mut first: HashMap<Key, usize> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        let Some(name) = o.id.name.as_deref() else {
            continue;
        };
        let key = (
            &*o.folder,
            o.id.group(),
            o.id.kind.as_str(),
            o.id.namespace.as_deref(),
            name,
        );
        match first.get(&key) {
            None => {
                first.insert(key, i);
            }
            Some(&j) => {
                let earlier = &objects[j];
                let place = if earlier.file == o.file {
                    format!("line {}", earlier.name_span.start.line)
                } else {
                    format!("{}:{}", earlier.file, earlier.name_span.start.line)
                };
                out.push(StreamFinding {
                    object: i,
                    span: o.name_span,
                    finding: Finding::new(
                        "/metadata/name",
                        format!("{} is defined twice (first at {place})", o.id),
                    )
                    .with_help(
                        "remove one of the two objects; only one of them can exist in the cluster",
                    )
                    .related_in(&earlier.file, earlier.name_span),
                });
            }
        }
    }
}
