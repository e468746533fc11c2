package kvet.rules.argocd_unpinned_revision_test

import data.kvet.rules.argocd_unpinned_revision
import rego.v1

app(source) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "web"}, "spec": {"source": source}}

git(revision) := {"repoURL": "https://github.com/acme/gitops.git", "path": "apps/web", "targetRevision": revision}

chart(revision) := {"repoURL": "https://stefanprodan.github.io/podinfo", "chart": "podinfo", "targetRevision": revision}

test_git_head_empty_and_star_are_reported if {
	every revision in ["HEAD", "", "*", " "] {
		results := argocd_unpinned_revision.deny with input as app(git(revision))
		count(results) == 1
		some r in results
		r.path == ["spec", "source", "targetRevision"]
		not r.level
		contains(r.msg, "source (https://github.com/acme/gitops.git)")
	}
}

test_head_message_names_the_default_branch if {
	some r in argocd_unpinned_revision.deny with input as app(git("HEAD"))
	contains(r.msg, "default branch")
	contains(r.msg, "name the branch you mean to track")
}

test_git_branches_tags_and_commits_are_silent if {
	every revision in ["main", "release-1.4", "v1.4.2", "8f3c2a1d9e0b4c7a6f5e3d2c1b0a9f8e7d6c5b4a", "refs/heads/main"] {
		count(argocd_unpinned_revision.deny) == 0 with input as app(git(revision))
	}
}

test_git_source_without_revision_is_silent if {
	count(argocd_unpinned_revision.deny) == 0 with input as app({"repoURL": "https://github.com/acme/gitops.git", "path": "apps/web"})
}

test_chart_ranges_are_reported if {
	every revision in ["^6.5.0", "~6.5", ">=1.0", ">=1.0.0 <2.0.0", "1.x", "1.2.*", "6.X", "1.0.0 - 1.4.0", "=1.2"] {
		some r in argocd_unpinned_revision.deny with input as app(chart(revision))
		r.path == ["spec", "source", "targetRevision"]
		contains(r.msg, "version range")
		contains(r.msg, `source (chart "podinfo")`)
	}
}

test_chart_star_head_and_empty_are_reported if {
	every revision in ["*", "HEAD", ""] {
		results := argocd_unpinned_revision.deny with input as app(chart(revision))
		count(results) == 1
		some r in results
		contains(r.msg, "pin an exact chart version")
	}
}

test_exact_chart_versions_are_silent if {
	every revision in ["6.5.0", "v6.5.0", "6.5", "1.0.0-rc.1+build.5", "=1.2.3", "latest"] {
		count(argocd_unpinned_revision.deny) == 0 with input as app(chart(revision))
	}
}

test_chart_without_revision_is_reported_at_the_source if {
	results := argocd_unpinned_revision.deny with input as app({"repoURL": "https://charts.bitnami.com/bitnami", "chart": "redis"})
	count(results) == 1
	some r in results
	r.path == ["spec", "source"]
	contains(r.msg, "no targetRevision")
}

test_multiple_sources_are_named_by_index if {
	results := argocd_unpinned_revision.deny with input as {
		"apiVersion": "argoproj.io/v1alpha1",
		"kind": "Application",
		"spec": {"sources": [
			chart("6.5.0"),
			{"repoURL": "https://user:s3cret@git.example.com/acme/values.git", "targetRevision": "HEAD", "ref": "values"},
			"not a source",
		]},
	}
	count(results) == 1
	some r in results
	r.path == ["spec", "sources", 1, "targetRevision"]
	contains(r.msg, "sources[1] (https://git.example.com/acme/values.git)")
	not contains(r.msg, "s3cret")
}

test_source_without_repo_url_is_named_by_field if {
	some r in argocd_unpinned_revision.deny with input as app({"path": "apps/web", "targetRevision": "HEAD"})
	startswith(r.msg, "source: ")
}

appset(spec) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "metadata": {"name": "web"}, "spec": spec}

test_application_set_templates_are_checked if {
	results := argocd_unpinned_revision.deny with input as appset({"template": {"spec": {"sources": [
		{"repoURL": "https://charts.example.com", "chart": "web", "targetRevision": "{{ .chartVersion }}"},
		{"repoURL": "https://charts.example.com", "chart": "{{chart}}"},
		git("HEAD"),
	]}}})
	{r.path | some r in results} == {["spec", "template", "spec", "sources", 1], ["spec", "template", "spec", "sources", 2, "targetRevision"]}
}

test_templated_revisions_are_silent if {
	count(argocd_unpinned_revision.deny) == 0 with input as appset({"template": {"spec": {"source": git("{{ .values.revision }}")}}})
	count(argocd_unpinned_revision.deny) == 0 with input as app(chart("${chart_version}"))
}

test_template_patch_may_set_the_chart_version if {
	count(argocd_unpinned_revision.deny) == 0 with input as appset({
		"template": {"spec": {"source": {"repoURL": "https://charts.example.com", "chart": "web"}}},
		"templatePatch": "spec:\n  source:\n    targetRevision: '{{ .version }}'\n",
	})
}

test_other_groups_and_kinds_are_silent if {
	count(argocd_unpinned_revision.deny) == 0 with input as {"apiVersion": "app.k8s.io/v1beta1", "kind": "Application", "spec": {"source": git("HEAD")}}
	count(argocd_unpinned_revision.deny) == 0 with input as {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "spec": {"source": git("HEAD")}}
}
