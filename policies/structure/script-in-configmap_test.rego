package kvet.rules.script_in_configmap_test

import data.kvet.rules.script_in_configmap
import rego.v1

configmap(data) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scripts"}, "data": data}

# n lines of filler that read as nothing in particular.
filler(n) := concat("", [sprintf("value_%d = %d\n", [k, k]) | some k in numbers.range(1, n)])

shell_body := concat("\n", [
	"set -euo pipefail",
	`if [ -z "$DATABASE_URL" ]; then`,
	`  echo "DATABASE_URL is not set" >&2`,
	"  exit 1",
	"fi",
	"for table in users orders; do",
	`  pg_dump --table "$table" "$DATABASE_URL" > "/backup/$table.sql"`,
	"done",
])

python_body := concat("\n", [
	"import os",
	"import sys, json",
	"from urllib import request",
	"",
	"def main():",
	`    url = os.environ["TARGET"]`,
	"    print(json.load(request.urlopen(url)))",
	"",
	"if __name__ == '__main__':",
	"    sys.exit(main())",
])

test_a_shebang_is_a_script if {
	results := script_in_configmap.deny with input as configmap({"backup.sh": "#!/bin/bash\npg_dump \"$DATABASE_URL\" > /backup/db.sql\n", "retention": "7"})
	count(results) == 1
	some r in results
	r.path == ["data", "backup.sh"]
	contains(r.msg, `ConfigMap "scripts": data "backup.sh" holds a shell script inline`)
	contains(r.msg, "configMapGenerator")
	not r.level
}

test_the_shebang_names_the_interpreter if {
	some r in script_in_configmap.deny with input as configmap({"check": "\n#!/usr/bin/env python3\nprint('ok')\n"})
	contains(r.msg, "holds a Python script")
	some s in script_in_configmap.deny with input as configmap({"check.js": "#!/usr/bin/env node\nconsole.log('ok')\n"})
	contains(s.msg, "holds a script (#!/usr/bin/env node)")
	some t in script_in_configmap.deny with input as configmap({"run": "#!/bin/sh -e\necho ok\n"})
	contains(t.msg, "holds a shell script")
}

test_a_long_shell_script_without_shebang_is_reported if {
	results := script_in_configmap.deny with input as configmap({"backup": concat("\n", [shell_body, filler(10)])})
	some r in results
	contains(r.msg, "shell script")
}

test_a_long_python_script_without_shebang_is_reported if {
	results := script_in_configmap.deny with input as configmap({"exporter.py": concat("\n", [python_body, filler(8)])})
	some r in results
	contains(r.msg, "Python script")
}

test_short_snippets_without_shebang_are_silent if {
	count(script_in_configmap.deny) == 0 with input as configmap({"backup.sh": shell_body, "probe.py": python_body})
}

test_configuration_files_are_silent_however_long if {
	count(script_in_configmap.deny) == 0 with input as configmap({
		"init.yaml": concat("\n", [shell_body, filler(20)]),
		"settings.conf": concat("\n", [shell_body, filler(20)]),
		"app.properties": concat("\n", [python_body, filler(20)]),
	})
}

nginx_conf := concat("\n", [
	"server {",
	"  listen 8080;",
	"  set $backend http://api:8080;",
	"  if ($http_x_forwarded_proto = 'http') {",
	"    return 301 https://$host$request_uri;",
	"  }",
	"  location / {",
	"    proxy_pass $backend;",
	"  }",
	filler(20),
	"}",
])

lua_health := concat("\n", [
	"function getStatus(obj)",
	"  hs = {}",
	"  if obj.status ~= nil then",
	"    for i, condition in ipairs(obj.status.conditions) do",
	"      if condition.type == \"Ready\" then",
	"        hs.status = \"Healthy\"",
	"      end",
	"    end",
	"  end",
	"  return hs",
	"end",
	filler(10),
])

test_config_formats_under_any_key_are_silent if {
	count(script_in_configmap.deny) == 0 with input as configmap({
		"nginx": nginx_conf,
		"resource.customizations.health.example.com_Thing": lua_health,
		"dashboard": concat("\n", ["{", filler(30), "}"]),
		"alerts": concat("\n", ["groups:", "- name: app", "  rules:", "  - alert: Down", "    expr: up == 0", filler(15)]),
		"replicas": 3,
	})
}

test_a_configmap_without_data_is_silent if {
	count(script_in_configmap.deny) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "empty"}}
}

test_mixed_markers_name_the_larger_language if {
	some r in script_in_configmap.deny with input as configmap({"job": concat("\n", [python_body, "echo done", filler(8)])})
	contains(r.msg, "Python script")
}
