# METADATA
# title: an Argo CD source follows a moving revision
# description: |-
#   ## What it checks
#   The `targetRevision` of every source of an Argo CD `Application` (`spec.source`,
#   `spec.sources[]`) and of an `ApplicationSet`'s template (`spec.template.spec.source`,
#   `spec.template.spec.sources[]`). It reports:
#
#   - `HEAD`, an empty string and `*`, for any source;
#   - for a Helm chart source (one with `chart`): a semver range (`^1.2`, `~1.2`, `>=1.0 <2.0`,
#     `1.x`, `1.2.*`), and a missing `targetRevision` (reported at the source).
#
#   It stays silent on a Git branch name (`main`, `release-1.4`): tracking a branch is the
#   usual, deliberate GitOps set-up, and what reaches the cluster is what was merged to it.
#   Tags, commit SHAs and exact chart versions (`1.2.3`, `v1.2.3`, `1.2`) are silent too, as
#   is a Git source without `targetRevision`. Values that hold a template (`{{ ... }}`, as
#   ApplicationSet generators fill in, or `${...}`) are not checked, nor is a missing chart
#   version in an ApplicationSet that has a `templatePatch`, which may set it.
#
#   ## Why
#   `HEAD` (and an empty `targetRevision`, which means `HEAD`) is whatever the repository's
#   default branch is today: nobody chose it, and renaming or switching the default branch
#   changes what is deployed. A chart range or `*` pulls in a new chart release as soon as it
#   is published, with no commit in your repository: a breaking chart upgrade reaches the
#   cluster on the next sync, and the same manifests deploy different things on different
#   days, so a rollback in Git does not roll back.
#
#   ## How to fix
#   Pin Helm charts to an exact version and let Renovate or Dependabot propose upgrades. For
#   Git sources, pin a tag or commit, or name the branch you mean to track.
#
#   ## Example
#   ```yaml
#   kind: Application
#   spec:
#     source:
#       repoURL: https://stefanprodan.github.io/podinfo
#       chart: podinfo
#       targetRevision: ^6.5.0   # argocd-unpinned-revision: a chart version range
#   ```
# custom:
#   level: warning
#   category: gitops
#   kinds: [Application, ApplicationSet]
package kvet.rules.argocd_unpinned_revision

import rego.v1

# Where the Application spec is: the object's own, or the ApplicationSet's template.
spec_paths := {"Application": ["spec"], "ApplicationSet": ["spec", "template", "spec"]}

spec_path := spec_paths[input.kind] if startswith(input.apiVersion, "argoproj.io/")

# Every source of the Application spec: {"path": [...], "source": {...}, "name": "..."}.
sources contains {"path": path, "source": source, "name": "source"} if {
	path := array.concat(spec_path, ["source"])
	source := object.get(input, path, null)
	is_object(source)
}

sources contains {"path": array.concat(spec_path, ["sources", i]), "source": source, "name": sprintf("sources[%d]", [i])} if {
	items := object.get(input, array.concat(spec_path, ["sources"]), [])
	is_array(items)
	some i, source in items
	is_object(source)
}

helm(source) if is_string(source.chart)

# How the source is named in messages: its chart, or its repository.
label(s) := sprintf("%s (chart \"%v\")", [s.name, s.source.chart]) if helm(s.source)

label(s) := sprintf("%s (%s)", [s.name, regex.replace(s.source.repoURL, `://[^/@]*@`, "://")]) if {
	not helm(s.source)
	is_string(s.source.repoURL)
}

label(s) := s.name if {
	not helm(s.source)
	not is_string(s.source.repoURL)
}

# Why a revision moves, for any source; undefined when it does not.
moving(source, "HEAD") := "follows whatever the repository's default branch points to" if not helm(source)

moving(source, "HEAD") := "is not a chart version" if helm(source)

moving(source, "") := "is empty, which means HEAD: it follows the repository's default branch" if not helm(source)

moving(source, "") := "is empty: no chart version is chosen" if helm(source)

moving(_, "*") := "matches any version"

moving(source, revision) := "is a version range: a new chart release is deployed as soon as it is published" if {
	helm(source)
	not revision in {"HEAD", "", "*"}
	range(revision)
}

# What to do instead.
fix(source) := "pin an exact chart version" if helm(source)

fix(source) := "pin a tag or commit, or name the branch you mean to track" if not helm(source)

# An exact version as Argo CD reads a chart version (Masterminds semver, partial versions too).
exact(revision) if regex.match(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`, revision)

exact(revision) if regex.match(`^=\s*v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`, revision)

range(revision) if {
	not exact(revision)
	regex.match(`[\^~<>=*|,]|(^|\.)[xX](\.|$)|\s-\s`, revision)
}

deny contains result if {
	some s in sources
	revision := s.source.targetRevision
	is_string(revision)
	not templated(revision)
	why := moving(s.source, trim_space(revision))
	result := {
		"msg": sprintf("%s: targetRevision \"%v\" %s; %s", [label(s), revision, why, fix(s.source)]),
		"path": array.concat(s.path, ["targetRevision"]),
	}
}

deny contains result if {
	some s in sources
	helm(s.source)
	not "targetRevision" in object.keys(s.source)
	not templated_elsewhere
	result := {
		"msg": sprintf("%s has no targetRevision: no chart version is chosen; set an exact version", [label(s)]),
		"path": s.path,
	}
}

# A value a generator or another tool fills in: `{{ ... }}`, `${...}`.
templated(value) if contains(value, "{{")

templated(value) if contains(value, "${")

# An ApplicationSet's templatePatch may set the missing version.
templated_elsewhere if input.spec.templatePatch
