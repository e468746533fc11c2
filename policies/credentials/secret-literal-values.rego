# METADATA
# title: a Secret's values are committed in clear text
# description: |-
#   ## What it checks
#   Secrets whose `data` or `stringData` hold literal values: one finding per Secret, at `data`
#   (or at `stringData` when only that has literal values), naming the keys — one per Secret
#   rather than per key, since the fix (taking the Secret out of Git) is one change for all of
#   them. `data` values are base64-decoded before they are judged.
#
#   It stays silent on values that are empty, placeholders (`<token>`, `xxxx`, `***`,
#   `changeme`, `REPLACE_ME`, `your-password`, a word containing `example`) or template
#   expressions (`{{ .Values.password | b64enc }}`, `${TOKEN}`, `$(TOKEN)`); on certificates
#   and public keys (`-----BEGIN CERTIFICATE-----` without a private key); on keys that name
#   rather than secure something (`url`, `repoURL`, `type`, `name`, `project`, `username`,
#   `host`, `port`, `known_hosts`...), so an Argo CD or Kargo repository Secret for a public
#   repository is fine; on configuration files (a key such as `grafana.ini` or
#   `alertmanager.yaml`) unless their name or text holds a credential (a password, token or
#   secret with a value, a private key, a URL with a password, a webhook URL); on
#   SOPS-encrypted files (a top-level `sops` key, or a value starting `ENC[`); and on Secrets
#   without values, such as a `kubernetes.io/service-account-token` Secret the token
#   controller fills in.
#
#   ## Why
#   base64 is an encoding, not encryption: anyone who can read the repository can read the
#   Secret, and the value stays in Git history after it is removed or rotated. Forks, CI logs
#   and backups of the repository all carry it.
#
#   ## How to fix
#   Keep the value out of Git: an `ExternalSecret` (External Secrets Operator) that reads it
#   from your vault, a `SealedSecret` encrypted for the cluster, or the file encrypted with
#   SOPS. Rotate the value that was committed. A Secret that holds no credential (a config
#   file) can be a ConfigMap instead.
#
#   ## Example
#   ```yaml
#   kind: Secret
#   metadata: {name: orders-db}
#   stringData:               # secret-literal-values: password is in clear text
#     username: orders
#     password: Tr0ub4dor-3
#   ```
# custom:
#   level: warning
#   category: credentials
#   kinds: [Secret]
package kvet.rules.secret_literal_values

import rego.v1

# [field, key] of every literal value.
literal_keys contains [f, key] if {
	not sops_encrypted
	some f in ["data", "stringData"]
	values := object.get(input, f, {})
	is_object(values)
	some key, value in values
	is_string(value)
	not identifier(key)
	v := plain(f, value)
	literal(v)
	not public(v)
	sensitive_file(key, v)
}

# SOPS leaves its metadata under `sops` and every value as ENC[...].
sops_encrypted if input.sops

sops_encrypted if {
	some f in ["data", "stringData"]
	values := object.get(input, f, {})
	is_object(values)
	some value in values
	is_string(value)
	startswith(value, "ENC[")
}

# The value as written: `data` is base64 (when it is not, it is judged as it stands).
plain("data", value) := base64.decode(value) if base64.is_valid(value)

plain("data", value) := value if not base64.is_valid(value)

plain("stringData", value) := value

# Keys that name or locate rather than secure something.
identifier(key) if lower(key) in {
	"url", "repourl", "repourlisregex", "type", "name", "project", "enableoci", "insecure",
	"username", "user", "email", "host", "hostname", "port", "server", "namespace",
	"database", "dbname", "region", "endpoint", "known_hosts", "ssh_known_hosts",
}

# Certificates and public keys are not secret.
public(v) if {
	regex.match(`^\s*-----BEGIN (CERTIFICATE|PUBLIC KEY|[A-Z]+ PUBLIC KEY)-----`, v)
	not contains(v, "PRIVATE KEY")
}

# A configuration file (a key with a file extension) counts only when its name or its text
# has a credential in it; any other value counts.
sensitive_file(key, _) if not config_file(key)

sensitive_file(key, _) if {
	config_file(key)
	regex.match(`(?i)(pass|secret|token|credential|key)`, key)
}

sensitive_file(key, v) if {
	config_file(key)
	regex.match(`(?i)((password|passwd|secret|token|api[_-]?key|access[_-]?key|credentials|api_url|webhook_url|routing_key|service_key)["']?[ \t]*[:=][ \t]*["']?[^\s"'{}$<>,]{4,}|PRIVATE KEY-----|://[^/\s:@]*:[^/\s@]+@)`, v)
}

config_file(key) if regex.match(`(?i)\.(ya?ml|json|ini|conf|cfg|toml|properties|xml)$`, key)

literal(v) if {
	trim_space(v) != ""
	not placeholder(v)
}

placeholder(v) if regex.match(`^\s*<.*>\s*$`, v)

placeholder(v) if regex.match(`^[xX*#._•-]+$`, trim_space(v))

placeholder(v) if regex.match(`(xxx|XXX|\*\*\*)`, v)

placeholder(v) if regex.match(`(?i)(change[-_]?me|replace[-_]?me|your[-_ ]|placeholder|redacted|dummy|^\s*(todo|tbd|fixme)\s*$)`, v)

placeholder(v) if regex.match(`(?i)^\s*[a-z0-9_.-]*example[a-z0-9_.-]*\s*$`, v)

placeholder(v) if regex.match(`(\{\{|\$\{|\$\()`, v)

# Where the finding points: data when it has literal values, else stringData.
reported_field := "data" if {
	some ["data", _] in literal_keys
} else := "stringData" if {
	some ["stringData", _] in literal_keys
}

deny contains result if {
	keys := sort({key | some [_, key] in literal_keys})
	result := {
		"msg": sprintf(
			"Secret \"%v\" has literal values in Git (%s): base64 is not encryption; generate it with an ExternalSecret, a SealedSecret or SOPS, and rotate the values",
			[object.get(input, ["metadata", "name"], ""), listed(keys)],
		),
		"path": [reported_field],
	}
}

# The first ten keys, and how many more: a Secret with thousands of keys gets a readable message.
listed(keys) := concat(", ", keys) if count(keys) <= 10

listed(keys) := sprintf("%s and %d more", [concat(", ", array.slice(keys, 0, 10)), count(keys) - 10]) if count(keys) > 10
