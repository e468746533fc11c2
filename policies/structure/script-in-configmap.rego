# METADATA
# title: a ConfigMap holds a script inline
# description: |-
#   ## What it checks
#   Every `data` value of a `ConfigMap` that is a script: it starts with a shebang (`#!`), or it
#   is longer than 15 lines and at least 3 of its lines read as shell (`set -e`, `if [`, `fi`,
#   `done`, `esac`, `echo`, `exit 1`, `export X=`, `function f`, `f() {`) or Python (`import`,
#   `from x import`, `def f(`, `if __name__`).
#
#   It stays silent for configuration files, however long: values under keys ending in
#   `.conf`, `.cfg`, `.ini`, `.properties`, `.yaml`, `.yml`, `.json`, `.toml`, `.xml`,
#   `.rules` or `.env` are never taken for scripts unless they start with a shebang, and
#   nginx, Prometheus rules, Grafana dashboards or Lua snippets do not read as shell or Python.
#   Short snippets without a shebang (a one-line command) are left alone.
#
#   ## Why
#   A script inside YAML is not linted (shellcheck, ruff), not tested, and not highlighted by
#   editors; its indentation and quoting are YAML's, so a stray tab or `: ` breaks the
#   manifest, and reviews see it as one opaque block. The same script is often copied into
#   several ConfigMaps and drifts.
#
#   ## How to fix
#   Keep the script as a file next to the manifests and generate the ConfigMap from it: a
#   Kustomize `configMapGenerator` (`files: [scripts/backup.sh]`) or, in a Helm chart,
#   `{{ .Files.Get "scripts/backup.sh" | nindent 4 }}`. Lint and test it like other code.
#
#   ## Example
#   ```yaml
#   kind: ConfigMap
#   metadata: {name: backup-scripts}
#   data:
#     backup.sh: |   # script-in-configmap
#       #!/bin/sh
#       set -eu
#       pg_dump "$DATABASE_URL" | gzip > /backup/$(date +%F).sql.gz
#   ```
# custom:
#   level: warning
#   category: structure
#   kinds: [ConfigMap]
package kvet.rules.script_in_configmap

import rego.v1

deny contains result if {
	values := object.get(input, "data", {})
	is_object(values)
	some key, value in values
	is_string(value)
	language := script(key, value)
	result := {
		"msg": sprintf("ConfigMap \"%v\": data \"%v\" holds a %s inline, where no linter or test sees it; keep it as a file and generate the ConfigMap (Kustomize configMapGenerator, Helm .Files.Get)", [object.get(input, ["metadata", "name"], ""), key, language]),
		"path": ["data", key],
	}
}

# A value that starts with a shebang, whatever its key.
script(_, value) := interpreter(shebang) if {
	text := trim_left(value, " \t\r\n")
	startswith(text, "#!")
	shebang := split(text, "\n")[0]
}

# A long value without a shebang that reads as shell or Python, under a key that is not a
# configuration file's.
script(key, value) := language if {
	not startswith(trim_left(value, " \t\r\n"), "#!")
	not config_file(key)
	lines := split(trim_right(value, " \t\r\n"), "\n")
	count(lines) > 15
	shell := count([l | some l in lines; regex.match(shell_line, trim_space(l))])
	python := count([l | some l in lines; regex.match(python_line, trim_space(l))])
	language := reads_as(shell, python)
}

reads_as(shell, python) := "shell script" if {
	shell >= 3
	shell >= python
}

reads_as(shell, python) := "Python script" if {
	python >= 3
	python > shell
}

interpreter(shebang) := "Python script" if contains(shebang, "python")

interpreter(shebang) := "shell script" if {
	not contains(shebang, "python")
	regex.match(`[/ ](ba|z|k|da|a)?sh\b`, shebang)
}

interpreter(shebang) := sprintf("script (%s)", [substring(shebang, 0, 40)]) if {
	not contains(shebang, "python")
	not regex.match(`[/ ](ba|z|k|da|a)?sh\b`, shebang)
}

shell_line := `^(set -[a-zA-Z]+|set -o [a-z]+|if \[|elif |fi$|then$|do$|done$|esac$|echo |exit [0-9]|export [A-Za-z_][A-Za-z0-9_]*=|function [A-Za-z_][A-Za-z0-9_-]* *(\(\))? *\{?$|[A-Za-z_][A-Za-z0-9_]* *\(\) *\{$|for [A-Za-z_][A-Za-z0-9_]* in |while |case .* in$)`

python_line := `^(import [A-Za-z_][A-Za-z0-9_.]*( as [A-Za-z_]+)?(, *[A-Za-z_][A-Za-z0-9_.]*)*$|from [A-Za-z_.][A-Za-z0-9_.]* import |def [A-Za-z_][A-Za-z0-9_]*\(|if __name__ == )`

config_file(key) if regex.match(`(?i)\.(conf|cfg|ini|properties|ya?ml|json|toml|xml|rules|env)$`, key)
