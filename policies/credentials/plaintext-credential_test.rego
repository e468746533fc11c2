package kvet.rules.plaintext_credential_test

import data.kvet.rules.plaintext_credential
import rego.v1

config_map(data) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": data}

deployment(container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [object.union({"name": "web", "image": "web:1.0"}, container)]}}},
}

container_path := ["spec", "template", "spec", "containers", 0]

# Split so that the token scanners of the repository do not mistake the tests for leaks.
github_token := concat("", ["ghp_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"])

aws_key_id := concat("", ["AKIA", "Z3K4L5M6N7O8P9Q1"])

jwt := concat(".", [
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
	"eyJzdWIiOiJkZXBsb3kiLCJpYXQiOjE3MDAwMDAwMDB9",
	"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
])

pem := concat("\n", [
	"-----BEGIN RSA PRIVATE KEY-----",
	"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
	"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
	"-----END RSA PRIVATE KEY-----",
])

only(results) := r if {
	count(results) == 1
	some r in results
}

test_a_github_token_in_an_annotation_is_named_and_shortened if {
	r := only(plaintext_credential.deny) with input as {"kind": "Service", "metadata": {"name": "s", "annotations": {"ci/notes": sprintf("pushed with %s", [github_token])}}}
	r.path == ["metadata", "annotations", "ci/notes"]
	contains(r.msg, `annotation "ci/notes" holds a GitHub personal access token (ghp_…)`)
	not contains(r.msg, github_token)
	not r.level
}

test_every_token_shape_is_recognised if {
	every token in [
		aws_key_id,
		concat("", ["github_pat_", "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"]),
		concat("", ["gho_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"]),
		concat("", ["ghs_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"]),
		concat("", ["glpat-", "Zx8Yw7Vu6Ts5Rq4Po3Nm"]),
		concat("", ["xoxb-", "1234567890-abcdefghij"]),
		concat("", ["https://hooks.slack.com/services/", "T0A1B2C3D/B0A1B2C3D/q1w2e3r4t5y6u7i8o9p0"]),
		jwt,
		pem,
	] {
		r := only(plaintext_credential.deny) with input as config_map({"notes": token})
		r.path == ["data", "notes"]
		contains(r.msg, `key "notes" of data holds a`)
	}
}

test_a_pem_key_and_a_slack_webhook_show_nothing_of_the_value if {
	every value in [pem, concat("", ["https://hooks.slack.com/services/", "T0A1B2C3D/B0A1B2C3D/q1w2e3r4t5y6u7i8o9p0"])] {
		r := only(plaintext_credential.deny) with input as config_map({"notes": value})
		not contains(r.msg, "…")
	}
}

test_documentation_tokens_and_bare_pem_headers_are_silent if {
	every value in [
		"AKIAIOSFODNN7EXAMPLE",
		"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI3+FrUBMHiJ8CAggA\n-----END ENCRYPTED PRIVATE KEY-----",
		"the header must be -----BEGIN PRIVATE KEY-----",
	] {
		count(plaintext_credential.deny) == 0 with input as config_map({"notes": value})
	}
}

test_a_url_with_a_password_is_reported if {
	r := only(plaintext_credential.deny) with input as config_map({"DATABASE_URL": "postgres://app:hunter2prod@db:5432/app"})
	contains(r.msg, `key "DATABASE_URL" of data holds a URL with a password`)
	not contains(r.msg, "hunter2prod")
}

test_urls_without_a_literal_password_are_silent if {
	every url in [
		"postgres://app:${DB_PASSWORD}@db:5432/app",
		"redis://:$(REDIS_PASSWORD)@redis:6379",
		"https://user:<password>@example.org",
		"https://git@github.com/org/repo",
		"amqp://guest:password@rabbit",
	] {
		count(plaintext_credential.deny) == 0 with input as config_map({"URL": url})
	}
}

test_an_environment_variable_with_a_literal_password_is_reported if {
	r := only(plaintext_credential.deny) with input as deployment({"env": [
		{"name": "LOG_LEVEL", "value": "info"},
		{"name": "DB_PASSWORD", "value": "hunter2-prod"},
		{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
	]})
	r.path == array.concat(container_path, ["env", 1, "value"])
	contains(r.msg, `environment variable "DB_PASSWORD" of container "web" holds a password in plain text`)
}

test_each_credential_word_is_named if {
	every name_word in [
		["MINIO_SECRET_KEY", "a secret"], ["ACCESS_KEY", "a secret"], ["GOOGLE_API_KEY", "an API key"],
		["VAULT_TOKEN", "a token"], ["SIGNING_PRIVATE_KEY", "a private key"], ["SMTP_PASSWD", "a password"],
		["NEXTAUTH_SECRET", "a secret"], ["GCP_CREDENTIALS", "a secret"],
	] {
		r := only(plaintext_credential.deny) with input as deployment({"env": [{"name": name_word[0], "value": "q8Wz3kLm"}]})
		contains(r.msg, sprintf("holds %s in plain text", [name_word[1]]))
	}
}

test_an_aws_secret_access_key_is_named if {
	r := only(plaintext_credential.deny) with input as config_map({"aws_secret_access_key": "q8Wz3kLmN0pR5tV7xY9aB1cD3eF5gH7iJ9kL1mN3"})
	contains(r.msg, "an AWS secret access key")
}

test_placeholders_templates_and_references_are_silent if {
	every value in [
		"", "   ", "abc", "<db-password>", "xxxxxx", "****", "REPLACE_ME", "changeme", "CHANGE_ME",
		"your-token-here", "example-password-1", "{{ .Values.db.password }}", "${{ secrets.TOKEN }}",
		"${DB_PASSWORD}", "$(DB_PASSWORD)", "$DB_PASSWORD", "ENC[AES256_GCM,data:abc=,type:str]",
		"vault:secret/data/db#password", "ref+awssm://db/password", "/var/run/secrets/token",
		"https://vault.example.org", "db-credentials", "my-secret-token", "true", "correct horse battery",
		"mypassword1", "INSERT_DB_PASSWORD",
	] {
		count(plaintext_credential.deny) == 0 with input as deployment({"env": [{"name": "DB_PASSWORD", "value": value}]})
	}
}

test_secret_names_under_secret_keys_are_silent if {
	count(plaintext_credential.deny) == 0 with input as deployment({"env": [{"name": "DB_PASSWORD_SECRET", "value": "orders-db"}]})
	r := only(plaintext_credential.deny) with input as deployment({"env": [{"name": "JWT_SECRET", "value": "q8Wz3kLm-0pR5"}]})
	contains(r.msg, "a secret")
}

test_reference_fields_are_silent if {
	count(plaintext_credential.deny) == 0 with input as {"kind": "Cluster", "spec": {
		"passwordSecretRef": {"name": "db", "key": "password"},
		"tokenPath": "/var/run/token",
		"secretName": "hunter2-prod",
		"passwordFile": "pw.txt",
		"superuserSecret": "pg-superuser",
		"certificates": {"serverTLSSecret": "pg-server"},
	}}
}

test_secret_words_count_in_custom_resources_only_when_unambiguous if {
	es := {"kind": "ExternalSecret", "spec": {"data": [{"secretKey": "apiKey", "remoteRef": {"key": "prod/api"}}]}}
	count(plaintext_credential.deny) == 0 with input as es
	r := only(plaintext_credential.deny) with input as {"kind": "Application", "spec": {"source": {"helm": {"valuesObject": {"auth": {"password": "hunter2-prod"}}}}}}
	contains(r.msg, "field spec.source.helm.valuesObject.auth.password holds a password")
}

test_flags_and_assignments_in_arguments_are_reported if {
	results := plaintext_credential.deny with input as deployment({"args": ["--db-password", "s3cr3tpw", "--token=abcd1234efgh", "--log-level", "info", "--api-key", "$(API_KEY)"]})
	{r.path | some r in results} == {array.concat(container_path, ["args", 1]), array.concat(container_path, ["args", 2])}
	every r in results {
		contains(r.msg, `args item`)
		contains(r.msg, `of container "web"`)
	}
}

test_properties_and_yaml_files_in_config_maps_are_read if {
	results := plaintext_credential.deny with input as config_map({
		"application.properties": "spring.datasource.url=jdbc:postgresql://db/app\nspring.datasource.password=Sup3rS3cret!\napi.token=${API_TOKEN}\n",
		"config.yaml": "smtp:\n  host: mail\n  password: \"pa55w0rd-mail\"\n",
		"settings.json": "{\"auth\": {\"clientSecret\": \"q8Wz3kLm0pR5\"}}",
		"prose.md": "Set `automountServiceAccountToken=false` and keep the token: it matters.",
	})
	{r.path | some r in results} == {["data", "application.properties"], ["data", "config.yaml"], ["data", "settings.json"]}
}

test_secrets_crds_ciphertext_and_copies_are_skipped if {
	count(plaintext_credential.deny) == 0 with input as {"kind": "Secret", "stringData": {"token": github_token}}
	count(plaintext_credential.deny) == 0 with input as {"kind": "CustomResourceDefinition", "spec": {"example": github_token}}
	count(plaintext_credential.deny) == 0 with input as {"kind": "SealedSecret", "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq"}}}
	count(plaintext_credential.deny) == 0 with input as {"kind": "ConfigMap", "data": {"password": "ENC[AES256_GCM,data:Zm9v,type:str]"}, "sops": {"age": [{"enc": "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBqTGZLcmdXbGhVd3Zk\n-----END AGE ENCRYPTED FILE-----"}], "mac": "ENC[AES256_GCM,data:abc]"}}
	count(plaintext_credential.deny) == 0 with input as {"kind": "Deployment", "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": sprintf("{\"token\": %q}", [github_token])}}}
}

test_the_strongest_finding_wins_on_one_string if {
	r := only(plaintext_credential.deny) with input as deployment({"env": [{"name": "GITHUB_TOKEN", "value": github_token}]})
	contains(r.msg, "a GitHub personal access token")
}

test_other_places_are_named_by_their_path if {
	r := only(plaintext_credential.deny) with input as {"kind": "Workflow", "spec": {"arguments": {"parameters": [{"name": "token", "value": "q8Wz3kLm0pR5"}]}}}
	r.path == ["spec", "arguments", "parameters", 0, "value"]
	contains(r.msg, "field spec.arguments.parameters[0].value holds a token")
	s := only(plaintext_credential.deny) with input as {"kind": "Workflow", "spec": {"x.y": {"args": [aws_key_id]}}}
	contains(s.msg, `field spec["x.y"].args[0] holds an AWS access key id (AKIA…)`)
}
