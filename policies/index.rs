// The policies kvet embeds: `(path under policies/, source)`. Tests are not embedded (`kvet test
// policies/` reads them); tests/registry.rs checks this list against the folder.
&[
    ("lib/workload.rego", include_str!("lib/workload.rego")),
    ("structure/duplicate-template.rego", include_str!("structure/duplicate-template.rego")),
    ("workload/host-path-mount.rego", include_str!("workload/host-path-mount.rego")),
    ("workload/image-tag-latest.rego", include_str!("workload/image-tag-latest.rego")),
]
