// The policies kvet embeds: `(path under policies/, source)`. Tests are not embedded (`kvet test
// policies/` reads them); tests/registry.rs checks this list against the folder.
&[
    ("lib/workload.rego", include_str!("lib/workload.rego")),
    ("reliability/default-namespace.rego", include_str!("reliability/default-namespace.rego")),
    ("reliability/deployment-single-replica.rego", include_str!("reliability/deployment-single-replica.rego")),
    ("reliability/image-pull-policy-always-with-digest.rego", include_str!("reliability/image-pull-policy-always-with-digest.rego")),
    ("reliability/missing-pdb.rego", include_str!("reliability/missing-pdb.rego")),
    ("reliability/missing-probes.rego", include_str!("reliability/missing-probes.rego")),
    ("reliability/missing-resources.rego", include_str!("reliability/missing-resources.rego")),
    ("security/automount-service-account-token.rego", include_str!("security/automount-service-account-token.rego")),
    ("security/dangerous-capabilities.rego", include_str!("security/dangerous-capabilities.rego")),
    ("security/host-namespaces.rego", include_str!("security/host-namespaces.rego")),
    ("security/pod-security.rego", include_str!("security/pod-security.rego")),
    ("security/privilege-escalation.rego", include_str!("security/privilege-escalation.rego")),
    ("security/privileged-container.rego", include_str!("security/privileged-container.rego")),
    ("security/run-as-root.rego", include_str!("security/run-as-root.rego")),
    ("security/writable-root-fs.rego", include_str!("security/writable-root-fs.rego")),
    ("structure/duplicate-template.rego", include_str!("structure/duplicate-template.rego")),
    ("workload/host-path-mount.rego", include_str!("workload/host-path-mount.rego")),
    ("workload/image-tag-latest.rego", include_str!("workload/image-tag-latest.rego")),
]
