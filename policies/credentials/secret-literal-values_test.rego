package kvet.rules.secret_literal_values_test

import data.kvet.rules.secret_literal_values
import rego.v1

secret(fields) := object.union({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}, fields)

only(results) := r if {
	count(results) == 1
	some r in results
}

test_literal_string_data_is_reported_once_naming_the_keys if {
	r := only(secret_literal_values.deny) with input as secret({"stringData": {"username": "orders", "password": "Tr0ub4dor-3", "token": "q8Wz3kLm0pR5"}})
	r.path == ["stringData"]
	contains(r.msg, `Secret "db" has literal values in Git (password, token)`)
	not contains(r.msg, "Tr0ub4dor")
	not r.level
}

test_many_keys_are_named_up_to_ten if {
	values := {sprintf("k%02d", [i]): "q8Wz3kLm0pR5" | some i in numbers.range(1, 25)}
	r := only(secret_literal_values.deny) with input as secret({"stringData": values})
	contains(r.msg, `(k01, k02, k03, k04, k05, k06, k07, k08, k09, k10 and 15 more)`)
}

test_base64_data_is_decoded_and_reported_before_string_data if {
	r := only(secret_literal_values.deny) with input as secret({
		"data": {"password": base64.encode("Tr0ub4dor-3"), "placeholder": base64.encode("changeme")},
		"stringData": {"api-key": "q8Wz3kLm0pR5"},
	})
	r.path == ["data"]
	contains(r.msg, "(api-key, password)")
}

test_data_that_is_not_base64_is_judged_as_written if {
	r := only(secret_literal_values.deny) with input as secret({"data": {"password": "hunter2!"}})
	r.path == ["data"]
	count(secret_literal_values.deny) == 0 with input as secret({"data": {"password": "{{ .Values.password | b64enc }}"}})
}

test_placeholders_templates_and_identifiers_are_silent if {
	count(secret_literal_values.deny) == 0 with input as secret({"stringData": {
		"a": "", "b": "  ", "c": "<token>", "d": "xxxxxx", "e": "***", "f": "REPLACE_ME", "g": "your-password",
		"h": "example-token", "i": "TODO", "j": "${TOKEN}", "k": "$(TOKEN)", "l": "{{ .Values.token }}",
		"url": "https://github.com/example/app.git", "type": "git", "username": "deploy", "project": "default",
	}})
}

test_certificates_and_public_keys_are_silent if {
	count(secret_literal_values.deny) == 0 with input as secret({"data": {
		"ca.crt": base64.encode("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"),
		"cosign.pub": base64.encode("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"),
	}})
	r := only(secret_literal_values.deny) with input as secret({"stringData": {"tls.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}})
	contains(r.msg, "(tls.pem)")
}

test_configuration_files_count_only_with_a_credential if {
	count(secret_literal_values.deny) == 0 with input as secret({"stringData": {
		"grafana.ini": "[date_formats]\ndefault_timezone = UTC\n",
		"alertmanager.yaml": "route:\n  receiver: default\nreceivers:\n  - name: default\n",
	}})
	every files in [
		{"alertmanager.yaml": "global:\n  slack_api_url: https://hooks.slack.com/services/T0/B0/abc\n"},
		{"datasources.yaml": "datasources:\n  - name: pg\n    secureJsonData:\n      password: Tr0ub4dor-3\n"},
		{"credentials.json": "{\"type\": \"service_account\"}"},
	] {
		r := only(secret_literal_values.deny) with input as secret({"stringData": files})
		r.path == ["stringData"]
	}
}

test_sops_files_and_empty_secrets_are_silent if {
	count(secret_literal_values.deny) == 0 with input as secret({"stringData": {"password": "Tr0ub4dor-3"}, "sops": {"mac": "ENC[AES256_GCM,data:abc]"}})
	count(secret_literal_values.deny) == 0 with input as secret({"data": {"password": "ENC[AES256_GCM,data:Zm9v,iv:abc,tag:def,type:str]", "user": "ENC[AES256_GCM,data:YmFy,type:str]"}})
	count(secret_literal_values.deny) == 0 with input as secret({"type": "kubernetes.io/service-account-token", "metadata": {"name": "ci", "annotations": {"kubernetes.io/service-account.name": "ci"}}})
	count(secret_literal_values.deny) == 0 with input as secret({"data": {"size": 3}})
}
