# METADATA
# title: a credential is written in plain text outside a Secret
# description: |-
#   ## What it checks
#   Every string of every object except Secrets (secret-literal-values' business) and
#   CustomResourceDefinitions (their schemas describe tokens and passwords): ConfigMap data,
#   environment variables, container `args` and `command`, annotations, custom resources'
#   fields. One finding per string, naming the kind of credential, never its value (at most
#   the 4-character prefix of a token):
#
#   - tokens recognisable by their shape, wherever they appear: AWS access key ids
#     (`AKIA`/`ASIA` + 16), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
#     `github_pat_`), GitLab personal access tokens (`glpat-`), Slack tokens (`xoxb-`...)
#     and webhook URLs, unencrypted PEM private keys (with their body), JSON Web Tokens
#     (`eyJ...`), AWS secret access keys under `aws_secret_access_key`;
#   - URLs with a password (`postgres://app:s3cr3t@db:5432`);
#   - literal values of names ending in `password`, `passwd`, `token`, `apikey`, `privatekey`,
#     `clientsecret` or `secretaccesskey` (case, `_`, `-` and `.` aside): map keys, the `name`
#     of a `{name, value}` pair, a `--flag=value` or `--flag value` argument, `key=value` or
#     `key: value` inside a string (a properties or YAML file in a ConfigMap). Environment
#     variables, ConfigMap keys, flags and text also count `secret`, `secretkey`, `accesskey`
#     and `credentials`; custom resources' fields do not (`serverTLSSecret`, `secretKey` name
#     a Secret or one of its keys there).
#
#   It stays silent on references and placeholders: names that only end like a reference
#   (`passwordSecretRef`, `tokenPath`, `secretName`, `passwordFile`), environment variables
#   with `valueFrom`, values shorter than 4 characters, empty or placeholder values
#   (`<password>`, `xxxx`, `***`, `changeme`, `REPLACE_ME`, `INSERT_...`, `your-token`, a
#   word containing `example`, a value repeating its name such as `GOOGLE_API_KEY_VAL`),
#   documentation tokens (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx...`), template expressions
#   (`{{ .Values.password }}`, `${{ secrets.X }}`, `${DB_PASSWORD}`, `$(DB_PASSWORD)`,
#   `$DB_PASSWORD`), SOPS values (`ENC[...]`), secret-manager references (`vault:`, `ref+`,
#   `arn:aws:`), file paths and URLs, booleans, values with spaces (prose), and values that
#   look like the name of a Secret (`db-credentials`, `github-token`; any `lower-case-name`
#   under a name ending in `secret`). `changeme` and its kin are public knowledge, not leaked
#   secrets. It skips SealedSecret `encryptedData`, a SOPS file's `sops` block and the
#   `kubectl.kubernetes.io/last-applied-configuration` annotation (a copy of the object).
#
#   ## Why
#   Only Secrets are meant to hold credentials: RBAC lets many more people read ConfigMaps and
#   workloads than Secrets, `kubectl describe` prints environment variables, and the value sits
#   in Git history for good once committed. A leaked token must be revoked, not just deleted.
#
#   ## How to fix
#   Revoke and rotate the credential first. Then keep it in a Secret created outside Git
#   (External Secrets Operator, Sealed Secrets, SOPS) and reference it: `valueFrom.secretKeyRef`
#   or `envFrom.secretRef` for environment variables, `$(VAR)` in `args`, a `secret` volume
#   for files, `...SecretRef` fields in custom resources.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: api
#       env:
#         - name: DB_PASSWORD
#           value: hunter2-prod   # plaintext-credential
#         - name: API_TOKEN
#           valueFrom: {secretKeyRef: {name: api, key: token}}
#   ```
# custom:
#   level: error
#   category: credentials
package kvet.rules.plaintext_credential

import rego.v1

# Kinds whose strings are not checked.
skipped_kinds := {"Secret", "CustomResourceDefinition"}

# Every string of the object with its path, outside the parts that hold ciphertext or a copy.
strings contains [path, s] if {
	not input.kind in skipped_kinds
	walk(input, [path, s])
	is_string(s)
	not skipped_path(path)
}

# The whole object as text, for cheap tests that rule out most objects before their strings
# are looked at one by one.
text := json.marshal(input) if not input.kind in skipped_kinds

lower_text := lower(text)

# The shapes that occur somewhere in the object.
present_shapes contains shape if {
	some shape in shapes
	some needle in shape[2]
	contains(text, needle)
}

# The object has a word of a credential's name somewhere.
credential_words if {
	some word in ["pass", "secret", "token", "apikey", "api_key", "api-key", "api.key", "accesskey", "access_key", "access-key", "privatekey", "private_key", "private-key", "credential"]
	contains(lower_text, word)
}

skipped_path(path) if "encryptedData" in path

skipped_path(path) if path[0] == "sops"

skipped_path(path) if path == ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]

# Credentials recognisable by their shape: [rank, description, strings one of which they
# contain (a cheap test before the regular expression), regular expression, whether the
# first characters may be shown (a token's prefix)].
shapes := [
	[1, "an unencrypted PEM private key", ["PRIVATE KEY-----"], `-----BEGIN (RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{40,}`, false],
	[1, "an AWS access key id", ["AKIA", "ASIA"], `\b(AKIA|ASIA)[0-9A-Z]{16}\b`, true],
	[1, "a GitHub personal access token", ["ghp_"], `\bghp_[A-Za-z0-9]{36}\b`, true],
	[1, "a GitHub fine-grained personal access token", ["github_pat_"], `\bgithub_pat_[A-Za-z0-9_]{60,}`, true],
	[1, "a GitHub OAuth token", ["gho_"], `\bgho_[A-Za-z0-9]{36}\b`, true],
	[1, "a GitHub App token", ["ghu_", "ghs_", "ghr_"], `\bgh[usr]_[A-Za-z0-9]{36}\b`, true],
	[1, "a GitLab personal access token", ["glpat-"], `\bglpat-[A-Za-z0-9_-]{20,}`, true],
	[1, "a Slack token", ["xox"], `\bxox[baprs]-[A-Za-z0-9-]{10,}`, true],
	[1, "a Slack webhook URL", ["hooks.slack.com/"], `hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}`, false],
	[2, "a JSON Web Token", ["eyJ"], `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`, true],
]

# [path, rank, description, shown]: what was found in which string; `shown` is the first
# characters of the credential worth printing, or "".
hits contains [path, rank, what, shown] if {
	some [rank, what, needles, pattern, show] in present_shapes
	some [path, s] in strings
	some needle in needles
	contains(s, needle)
	some found in regex.find_n(pattern, s, -1)
	not fake_token(found)
	shown := prefix(found, show)
}

prefix(found, true) := concat("", [substring(found, 0, 4), "…"])

prefix(_, false) := ""

# A URL with a password: scheme://user:password@host.
hits contains [path, 3, "a URL with a password", ""] if {
	contains(text, "://")
	some [path, s] in strings
	contains(s, "@")
	contains(s, "://")
	some m in regex.find_all_string_submatch_n(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@"'<>]*:([^\s/@"'<>]+)@[^\s/"'<>@]+`, s, -1)
	literal(m[1], "")
}

# An AWS secret access key: 40 base64 characters under a key named like aws_secret.
hits contains [path, 1, "an AWS secret access key", ""] if {
	credential_words
	some [path, s] in strings
	count(s) == 40
	regex.match(`(?i)aws.?secret`, key_of(path))
	regex.match(`^[A-Za-z0-9/+]{40}$`, s)
	literal(s, "")
}

# The literal value of a key named like a credential: any such key for environment
# variables, ConfigMap data and flags; elsewhere (custom resources' fields, where `...Secret`
# and `secretKey` name a Secret or one of its keys) only the unambiguous names.
hits contains [path, 4, named(key), ""] if {
	credential_words
	some [path, s] in strings
	key := key_of(path)
	credential_word(key)
	credential_name(key, loose_context(path))
	literal(s, key)
}

# `key=value`, or `key: value` at the start of a line or after a quote, inside a string: a
# properties, YAML or JSON file in a ConfigMap, a `--password=...` argument, a shell line.
hits contains [path, 5, named(m[1]), ""] if {
	credential_words
	some [path, s] in strings
	credential_word(s)
	some [separator, pattern] in assignments
	contains(s, separator)
	some m in regex.find_all_string_submatch_n(pattern, s, -1)
	credential_name(m[1], true)
	literal(m[2], m[1])
}

assignments := [
	["=", `(?i)([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials))["']?[ \t]*=[ \t]*["']?([^\s"'\x60,;&<>{}()\[\]]+)`],
	[":", `(?im)(?:^[ \t-]*|["'])([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials))["']?[ \t]*:[ \t]*["']?([^\s"'\x60,;&<>{}()\[\]]+)`],
]

# The key a string is the value of: its map key; for `{name: X, value: ...}` pairs
# (environment variables, parameters), the name; for an argument after a `--flag` without a
# value, the flag.
key_of(path) := k if {
	k := path[count(path) - 1]
	is_string(k)
	k != "value"
}

key_of(path) := k if {
	path[count(path) - 1] == "value"
	k := object.get(input, array.concat(array.slice(path, 0, count(path) - 1), ["name"]), "")
	is_string(k)
}

key_of(path) := trim_left(flag, "-") if {
	i := path[count(path) - 1]
	is_number(i)
	i > 0
	flag := object.get(input, array.concat(array.slice(path, 0, count(path) - 1), [i - 1]), "")
	is_string(flag)
	regex.match(`^--?[A-Za-z0-9_.-]+$`, flag)
}

# Names of credentials; names that merely end like a reference (passwordSecretRef,
# tokenPath, secretName) do not end with one of these words. `loose` adds the words that
# custom resources use for references too.
credential_name(name, _) if regex.match(`(password|passwd|token|apikey|privatekey|clientsecret|secretaccesskey)$`, normalized(name))

credential_name(name, true) if regex.match(`(secret|secretkey|accesskey|credentials)$`, normalized(name))

loose_context(path) := true if env_value(path)

loose_context(path) := true if arg_item(path)

loose_context(path) := true if config_map_data(path)

loose_context(path) := false if {
	not env_value(path)
	not arg_item(path)
	not config_map_data(path)
}

# A cheap test before the regular expressions: the text has a credential's word.
credential_word(text) if {
	l := lower(text)
	some word in ["pass", "secret", "token", "key", "credential"]
	contains(l, word)
}

normalized(name) := strings.replace_n({"_": "", "-": "", ".": ""}, lower(name))

named(name) := "a password" if regex.match(`passw(or)?d$`, normalized(name))

named(name) := "a token" if endswith(normalized(name), "token")

named(name) := "an API key" if endswith(normalized(name), "apikey")

named(name) := "a private key" if endswith(normalized(name), "privatekey")

named(name) := "a secret" if regex.match(`(secret|accesskey|secretkey|credentials)$`, normalized(name))

# A value that is a real credential, not a placeholder, a template or a reference. A value
# that repeats its key's name (GOOGLE_API_KEY_VAL, INSERT_TOKEN, mypassword) is a placeholder.
literal(v, key) if {
	count(trim_space(v)) >= 4
	not placeholder(v)
	not reference(v)
	not repeats_key(v, key)
	not names_a_secret(v, key)
}

# Under a name ending in "secret" (DB_PASSWORD_SECRET, tlsSecret), a lower-case Kubernetes
# name with a dash is the name of a Secret.
names_a_secret(v, key) if {
	endswith(normalized(key), "secret")
	regex.match(`^[a-z0-9]+(-[a-z0-9]+)+$`, v)
}

repeats_key(v, key) if {
	key != ""
	contains(normalized(v), normalized(key))
}

repeats_key(v, key) if {
	some word in ["password", "token", "secret", "apikey"]
	endswith(normalized(key), word)
	contains(normalized(v), word)
}

placeholder(v) if regex.match(`^<.*>$`, v)

placeholder(v) if regex.match(`^[xX*#._•-]+$`, v)

placeholder(v) if regex.match(`(xxx|XXX|\*\*\*)`, v)

placeholder(v) if regex.match(`(?i)(change[-_]?me|replace[-_]?me|^insert[-_]|your[-_ ]|^[a-z0-9_.-]*example[a-z0-9_.-]*$|placeholder|redacted|dummy|^(password|passwd|secret|token|todo|tbd|fixme|none|null|nil|true|false|yes|no|on|off|enabled|disabled|required|optional|auto|default)$)`, v)

placeholder(v) if regex.match(`\s`, trim_space(v))

reference(v) if regex.match(`(\{\{|\$\{|\$\(|%\(|^\$|^ENC\[|^vault:|^ref\+|^arn:aws:|^/|^\./|^~/|^file:|^[a-z]+://)`, v)

# The name of a Secret: a lower-case Kubernetes name that says what it is (my-secret-token,
# db-credentials, server-tls).
reference(v) if {
	regex.match(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`, v)
	regex.match(`[-.]`, v)
	regex.match(`(secret|token|creds|credential|password|key|cert|tls)`, v)
}

# Tokens that are documentation samples: AWS's AKIAIOSFODNN7EXAMPLE, ghp_xxxx...
fake_token(t) if regex.match(`(?i)example`, t)

fake_token(t) if regex.match(`(xxxxxxxx|XXXXXXXX|00000000|\.\.\.)`, t)

# Where a string is, for the message.
location(path) := sprintf("environment variable %q of container %q", [key_of(path), parent(path, 3).name]) if {
	env_value(path)
} else := sprintf("%s item %d of container %q", [path[count(path) - 2], path[count(path) - 1], parent(path, 2).name]) if {
	arg_item(path)
	is_string(parent(path, 2).name)
} else := sprintf("annotation %q", [path[2]]) if {
	count(path) == 3
	array.slice(path, 0, 2) == ["metadata", "annotations"]
} else := sprintf("key %q of data", [path[1]]) if {
	config_map_data(path)
} else := sprintf("field %s", [dotted(path)])

# The mapping `up` levels above the string.
parent(path, up) := object.get(input, array.slice(path, 0, count(path) - up), {})

env_value(path) if {
	n := count(path)
	path[n - 1] == "value"
	path[n - 3] == "env"
}

arg_item(path) if {
	path[count(path) - 2] in {"args", "command"}
	is_number(path[count(path) - 1])
}

config_map_data(path) if {
	input.kind == "ConfigMap"
	count(path) == 2
	path[0] == "data"
}

dotted(path) := trim_prefix(concat("", [segment(p) | some p in path]), ".")

segment(p) := sprintf("[%d]", [p]) if is_number(p)

segment(p) := sprintf(".%s", [p]) if {
	is_string(p)
	regex.match(`^[A-Za-z0-9_-]+$`, p)
}

segment(p) := sprintf("[%q]", [p]) if {
	is_string(p)
	not regex.match(`^[A-Za-z0-9_-]+$`, p)
}

deny contains result if {
	some path in {p | some [p, _, _, _] in hits}
	best := min({[r, w, s] | some [p, r, w, s] in hits; p == path})
	what := best[1]
	shown := best[2]
	result := {
		"msg": sprintf("%s holds %s%s in plain text: rotate it and reference a Secret instead", [location(path), what, shown_part(shown)]),
		"path": path,
	}
}

shown_part(shown) := "" if shown == ""

shown_part(shown) := sprintf(" (%s)", [shown]) if shown != ""
