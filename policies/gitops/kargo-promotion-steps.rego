# METADATA
# title: a Kargo promotion step runs before what it needs
# description: |-
#   ## What it checks
#   The promotion steps of a Kargo `Stage` (`spec.promotionTemplate.spec.steps`) and of a
#   `PromotionTask` or `ClusterPromotionTask` (`spec.steps`), in order:
#
#   - a `git-commit` with no `git-clone` before it, and a `git-push` with no `git-commit`
#     before it;
#   - an `argocd-update` that comes before the `git-push` (none before it, one after it);
#   - an expression (`${{ ... }}`, in `config`, `if` or `vars`) that reads
#     `outputs.X` / `outputs['X']` when no earlier step is aliased `X` (`as: X`, or Kargo's
#     default alias `step-N` for the step at index N). In a (Cluster)PromotionTask, the
#     task's own steps are read through `task.outputs`, and those are checked instead.
#
#   It stays silent when the step's content is unknown: after a step that runs a task
#   (`task:` instead of `uses:`), nothing that task may have done is reported missing (a
#   clone, a commit, a push, an alias). In a (Cluster)PromotionTask, a missing `git-clone` or
#   `git-commit` is not reported, since the Stage that runs the task may do it before; only
#   one that comes after the step needing it is. Bare `outputs` in a task (the Stage's steps)
#   and `outputs[...]` indexed by an expression are not checked.
#
#   ## Why
#   Kargo only finds these at promotion time: `git-commit` fails without a working tree,
#   `git-push` has nothing to push, an `argocd-update` that runs before the push points Argo CD
#   at a revision the remote does not have yet (or syncs the old one), and an expression over
#   outputs that do not exist fails the step. Every promotion to the Stage then fails, or
#   deploys the wrong thing.
#
#   ## How to fix
#   Order the steps `git-clone`, the steps that change files, `git-commit`, `git-push`, then
#   `argocd-update`. Give the step whose outputs you read an alias with `as:` and spell it the
#   same in the expression (`outputs['open-pr']` for aliases with a `-`).
#
#   ## Example
#   ```yaml
#   steps:
#     - uses: git-clone
#       config:
#         repoURL: https://github.com/acme/deploy.git
#         checkout: [{branch: main, path: ./out}]
#     - uses: git-commit
#       as: commit
#       config: {path: ./out, message: promote}
#     - uses: argocd-update    # kargo-promotion-steps: before the git-push
#       config:
#         apps:
#           - name: guestbook
#             sources:
#               - repoURL: https://github.com/acme/deploy.git
#                 # kargo-promotion-steps (next line): no step is aliased "comit"
#                 desiredRevision: ${{ outputs.comit.commit }}
#     - uses: git-push
#       config: {path: ./out}
#   ```
# custom:
#   level: error
#   category: gitops
#   kinds: [Stage, PromotionTask, ClusterPromotionTask]
package kvet.rules.kargo_promotion_steps

import rego.v1

steps_paths := {
	"Stage": ["spec", "promotionTemplate", "spec", "steps"],
	"PromotionTask": ["spec", "steps"],
	"ClusterPromotionTask": ["spec", "steps"],
}

steps_path := steps_paths[input.kind] if startswith(input.apiVersion, "kargo.akuity.io/")

task_kind if input.kind != "Stage"

steps := [step |
	list := object.get(input, steps_path, [])
	is_array(list)
	some step in list
]

# What each step runs: its `uses`, "task" for a task step, "" otherwise.
runs(step) := step.uses if is_string(step.uses)

runs(step) := "task" if {
	not is_string(step.uses)
	step.task
}

runs(step) := "" if {
	not is_string(step.uses)
	not step.task
}

kinds := [runs(step) | some step in steps]

before(i, kind) if {
	some j, k in kinds
	j < i
	k == kind
}

after(i, kind) if {
	some j, k in kinds
	j > i
	k == kind
}

step_path(i) := array.concat(steps_path, [i])

# How a step is named in messages: `git-push step "push"`, `git-push step`.
name(i) := concat(" ", [part | some part in [kinds[i], "step", quoted_alias(i)]; part != ""])

quoted_alias(i) := sprintf("\"%v\"", [steps[i].as]) if is_string(steps[i].as)

quoted_alias(i) := "" if not is_string(steps[i].as)

# What a step needs before it, and why.
needs := {
	"git-commit": ["git-clone", "there is no working tree to commit"],
	"git-push": ["git-commit", "there is no commit to push"],
}

deny contains result if {
	some i, kind in kinds
	[needed, why] := needs[kind]
	not before(i, needed)
	not before(i, "task")
	missing_counts(i, needed)
	result := {
		"msg": sprintf("%s runs with no %s before it: %s", [name(i), needed, why]),
		"path": step_path(i),
	}
}

# In a Stage, a missing step counts; a task may run after the Stage's own steps, so there only
# a step that comes too late does.
missing_counts(_, _) if not task_kind

missing_counts(i, needed) if {
	task_kind
	after(i, needed)
}

deny contains result if {
	some i, kind in kinds
	kind == "argocd-update"
	after(i, "git-push")
	not before(i, "git-push")
	not before(i, "task")
	result := {
		"msg": sprintf("%s runs before the git-push: Argo CD is pointed at a revision the remote does not have yet; move it after the push", [name(i)]),
		"path": step_path(i),
	}
}

# Aliases, and the default alias `step-N` of steps without one.
alias(j) := steps[j].as if is_string(steps[j].as)

alias(j) := sprintf("step-%d", [j]) if not is_string(steps[j].as)

# Which `outputs` an expression of each kind of object reads: a Stage's own, or the task's.
outputs_pattern := `(?:^|[^\w.])outputs(?:\.([A-Za-z_]\w*)|\[\s*['"]([^'"]+)['"]\s*\])` if not task_kind

outputs_pattern := `(?:^|[^\w.])task\.outputs(?:\.([A-Za-z_]\w*)|\[\s*['"]([^'"]+)['"]\s*\])` if task_kind

# Every alias read by an expression of step i: [step index, path in the step, alias].
reads contains [i, path, concat("", [match[1], match[2]])] if {
	some i, step in steps
	walk(step, [path, value])
	is_string(value)
	contains(value, "${{")
	some expression in regex.find_n(`\$\{\{[\s\S]*?\}\}`, value, -1)
	some match in regex.find_all_string_submatch_n(outputs_pattern, expression, -1)
}

deny contains result if {
	some [i, path, read] in reads
	not defined_before(i, read)
	not before(i, "task")
	result := {
		"msg": sprintf("%s reads the outputs of \"%v\", %s", [name(i), read, undefined_why(i, read)]),
		"path": array.concat(step_path(i), path),
	}
}

defined_before(i, read) if {
	some j, _ in steps
	j < i
	alias(j) == read
}

undefined_why(i, read) := "which only this or a later step defines: they do not exist yet" if defined_from(i, read)

undefined_why(i, read) := "but no step has that alias (as:)" if {
	not defined_from(i, read)
	count(dashed_aliases(i, read)) == 0
}

undefined_why(i, read) := sprintf("but no step has that alias: a dot stops at the first -, write %s['%s']", [reader, sort(dashed_aliases(i, read))[0]]) if {
	not defined_from(i, read)
	count(dashed_aliases(i, read)) > 0
}

# Earlier aliases with a dash that a dotted read cuts short (`outputs.open-pr` reads `open`).
dashed_aliases(i, read) := {alias(j) | some j, _ in steps; j < i; startswith(alias(j), sprintf("%s-", [read]))}

reader := "task.outputs" if task_kind

reader := "outputs" if not task_kind

defined_from(i, read) if {
	some j, _ in steps
	j >= i
	alias(j) == read
}
