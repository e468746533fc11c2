package kvet.rules.kargo_promotion_steps_test

import data.kvet.rules.kargo_promotion_steps
import rego.v1

stage(steps) := {
	"apiVersion": "kargo.akuity.io/v1alpha1",
	"kind": "Stage",
	"metadata": {"name": "test", "namespace": "kargo-demo"},
	"spec": {"promotionTemplate": {"spec": {"steps": steps}}},
}

task(kind, steps) := {"apiVersion": "kargo.akuity.io/v1alpha1", "kind": kind, "metadata": {"name": "update"}, "spec": {"steps": steps}}

clone := {"uses": "git-clone", "config": {"repoURL": "https://github.com/acme/deploy.git", "checkout": [{"branch": "main", "path": "./out"}]}}

update := {"uses": "kustomize-set-image", "as": "update", "config": {"path": "./out/stages/test", "images": [{"image": "ghcr.io/acme/guestbook"}]}}

commit := {"uses": "git-commit", "as": "commit", "config": {"path": "./out", "message": "${{ outputs.update.commitMessage }}"}}

push := {"uses": "git-push", "config": {"path": "./out"}}

argocd_update := {"uses": "argocd-update", "config": {"apps": [{"name": "guestbook", "sources": [{"repoURL": "https://github.com/acme/deploy.git", "desiredRevision": "${{ outputs.commit.commit }}"}]}]}}

paths(results) := {r.path | some r in results}

test_the_usual_order_is_silent if {
	count(kargo_promotion_steps.deny) == 0 with input as stage([clone, update, commit, push, argocd_update])
}

test_commit_without_clone_is_reported_at_the_step if {
	results := kargo_promotion_steps.deny with input as stage([update, commit, push])
	count(results) == 1
	some r in results
	r.path == ["spec", "promotionTemplate", "spec", "steps", 1]
	r.msg == `git-commit step "commit" runs with no git-clone before it: there is no working tree to commit`
}

test_push_without_commit_is_reported if {
	results := kargo_promotion_steps.deny with input as stage([clone, update, push])
	count(results) == 1
	some r in results
	r.path == ["spec", "promotionTemplate", "spec", "steps", 2]
	startswith(r.msg, "git-push step runs with no git-commit before it")
}

test_push_before_commit_is_reported if {
	results := kargo_promotion_steps.deny with input as stage([clone, update, push, commit])
	paths(results) == {["spec", "promotionTemplate", "spec", "steps", 2]}
}

test_argocd_update_before_push_is_reported if {
	results := kargo_promotion_steps.deny with input as stage([clone, update, commit, argocd_update, push])
	count(results) == 1
	some r in results
	r.path == ["spec", "promotionTemplate", "spec", "steps", 3]
	contains(r.msg, "argocd-update step runs before the git-push")
}

test_argocd_update_without_push_or_between_pushes_is_silent if {
	count(kargo_promotion_steps.deny) == 0 with input as stage([{"uses": "argocd-update", "config": {"apps": [{"name": "guestbook"}]}}])
	count(kargo_promotion_steps.deny) == 0 with input as stage([clone, update, commit, push, argocd_update, clone, commit, push])
}

test_unknown_alias_is_reported_at_the_expression if {
	step := {"uses": "git-commit", "config": {"path": "./out", "message": "${{ outputs.updat.commitMessage }}"}}
	results := kargo_promotion_steps.deny with input as stage([clone, update, step])
	count(results) == 1
	some r in results
	r.path == ["spec", "promotionTemplate", "spec", "steps", 2, "config", "message"]
	r.msg == `git-commit step reads the outputs of "updat", but no step has that alias (as:)`
}

test_bracket_reads_in_if_and_vars_are_checked if {
	wait := {
		"uses": "git-wait-for-pr",
		"if": "${{ outputs['open-pr'].pr != nil }}",
		"vars": [{"name": "pr", "value": "${{ outputs[\"open-pr\"].pr.id }}"}],
	}
	results := kargo_promotion_steps.deny with input as stage([wait, {"uses": "git-open-pr", "as": "open-pr"}])
	paths(results) == {
		["spec", "promotionTemplate", "spec", "steps", 0, "if"],
		["spec", "promotionTemplate", "spec", "steps", 0, "vars", 0, "value"],
	}
	every r in results {
		contains(r.msg, `"open-pr", which only this or a later step defines`)
	}
}

test_defined_aliases_and_default_aliases_are_silent if {
	count(kargo_promotion_steps.deny) == 0 with input as stage([
		{"uses": "git-open-pr", "as": "open-pr"},
		{"uses": "http", "config": {"url": "https://hooks.example.com", "body": "PR ${{ outputs['open-pr'].pr.url }}"}},
		{"uses": "http", "config": {"body": "${{ outputs['step-1'].status }} ${{ outputs[vars.alias] }} ${{ task.outputs.anything }} ${{ ctx.stage }}"}},
	])
}

test_dot_reads_stop_at_a_dash if {
	some r in kargo_promotion_steps.deny with input as stage([{"uses": "git-open-pr", "as": "open-pr"}, {"uses": "http", "config": {"body": "${{ outputs.open-pr.pr.url }}"}}])
	r.msg == `http step reads the outputs of "open", but no step has that alias: a dot stops at the first -, write outputs['open-pr']`
}

test_a_task_step_makes_what_follows_unknown if {
	count(kargo_promotion_steps.deny) == 0 with input as stage([
		{"task": {"name": "clone-and-update"}},
		commit,
		push,
		argocd_update,
		{"uses": "http", "config": {"body": "${{ outputs.whatever.value }}"}},
	])
}

test_task_outputs_are_checked_in_tasks if {
	results := kargo_promotion_steps.deny with input as task("PromotionTask", [
		{"uses": "git-open-pr", "as": "open-pr"},
		{"uses": "git-wait-for-pr", "as": "wait", "config": {"prNumber": "${{ task.outputs['open-pr'].pr.id }}"}},
		{"uses": "compose-output", "as": "output", "config": {"commit": "${{ task.outputs.wiat.commit }}", "stage": "${{ outputs.clone.commit }}"}},
	])
	count(results) == 1
	some r in results
	r.path == ["spec", "steps", 2, "config", "commit"]
	r.msg == `compose-output step "output" reads the outputs of "wiat", but no step has that alias (as:)`
}

test_dashed_alias_hint_names_task_outputs_in_tasks if {
	some r in kargo_promotion_steps.deny with input as task("PromotionTask", [
		{"uses": "git-open-pr", "as": "open-pr"},
		{"uses": "git-wait-for-pr", "config": {"prNumber": "${{ task.outputs.open-pr.pr.id }}"}},
	])
	endswith(r.msg, "write task.outputs['open-pr']")
}

test_tasks_may_rely_on_the_stage_for_clone_and_commit if {
	count(kargo_promotion_steps.deny) == 0 with input as task("ClusterPromotionTask", [update, commit, push])
	count(kargo_promotion_steps.deny) == 0 with input as task("PromotionTask", [push])
}

test_tasks_with_steps_out_of_order_are_reported if {
	results := kargo_promotion_steps.deny with input as task("PromotionTask", [update, commit, clone, push])
	paths(results) == {["spec", "steps", 1]}
}

test_steps_without_uses_are_named_by_index if {
	some r in kargo_promotion_steps.deny with input as stage([{"config": {"x": "${{ outputs.nope }}"}}])
	startswith(r.msg, "step reads")
}

test_other_groups_are_silent if {
	count(kargo_promotion_steps.deny) == 0 with input as object.union(stage([push]), {"apiVersion": "example.com/v1"})
}
