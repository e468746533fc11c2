"""Turns kubernetes-validate's `-local-strict` schema folders into kvet's compact form.

For each `vX.Y.0-local-strict/_definitions.json`, writes `X.Y.json`:
  {"$defs": {<definition name>: <schema without descriptions>},
   "kinds": {<apiVersion>: {<kind>: <definition name>}}}
`kinds` comes from each definition's `x-kubernetes-group-version-kind`. Also writes
`served.json`: {<apiVersion>: {<kind>: [first, last]}}, the oldest and newest of these
versions that serve each apiVersion/kind, so kvet knows removed and deprecated APIs without
parsing every version; and `descriptions.json`, the newest version's field descriptions with
what it takes to walk from a kind to a field (`kvet lsp` shows them on hover):
  {"version": "X.Y", "kinds": {...as above...},
   "defs": {<definition>: {"description": ..., "properties": {<field>: {"description": ...,
            "type": ..., "ref": <definition of its value or items>, "nested": true when a
            list or map stands between the field and that definition}}}}}
"""
import json
import os
import re
import sys


def strip(node, names=False):
    """Drops `description` annotations; `names` is true for the maps of property names
    (`properties`), where a field may itself be called `description`."""
    if isinstance(node, dict):
        if names:
            return {k: strip(v) for k, v in node.items()}
        return {
            k: strip(v, names=(k == "properties"))
            for k, v in node.items()
            if k != "description"
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def type_of(schema):
    types = schema.get("type", "object" if "$ref" in schema else "")
    if isinstance(types, list):
        types = next((t for t in types if t != "null"), "")
    return types


def ref_of(schema):
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def descriptions(defs, kinds, version):
    """Each definition's description and its fields', with the definition each field leads to."""
    out = {}
    for name, schema in defs.items():
        fields = {}
        for field, prop in (schema.get("properties") or {}).items():
            entry = {"description": prop.get("description", ""), "type": type_of(prop)}
            inner = prop.get("items") or prop.get("additionalProperties")
            if isinstance(inner, dict) and "$ref" not in prop:
                entry["nested"] = True
                prop = inner
            if ref_of(prop):
                entry["ref"] = ref_of(prop)
            fields[field] = entry
        out[name] = {"description": schema.get("description", ""), "properties": fields}
    return {"version": version, "kinds": kinds, "defs": out}


def minor_key(version):
    major, minor = version.split(".")
    return (int(major), int(minor))


def main(root, out):
    served = {}
    newest = None
    for folder in sorted(os.listdir(root)):
        m = re.fullmatch(r"v(\d+\.\d+)\.0-local-strict", folder)
        if not m:
            continue
        with open(os.path.join(root, folder, "_definitions.json")) as f:
            defs = json.load(f)["$defs"]
        kinds = {}
        for name, schema in defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                group, version = gvk["group"], gvk["version"]
                api_version = f"{group}/{version}" if group else version
                kinds.setdefault(api_version, {})[gvk["kind"]] = name
        doc = {"$defs": strip(defs), "kinds": kinds}
        version = m.group(1)
        with open(os.path.join(out, f"{version}.json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"), sort_keys=True)
        if newest is None or minor_key(version) > minor_key(newest[2]):
            newest = (defs, kinds, version)
        for api_version, by_kind in kinds.items():
            for kind in by_kind:
                span = served.setdefault(api_version, {}).setdefault(kind, [version, version])
                span[0] = min(span[0], version, key=minor_key)
                span[1] = max(span[1], version, key=minor_key)
    with open(os.path.join(out, "descriptions.json"), "w") as f:
        json.dump(descriptions(*newest), f, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(out, "served.json"), "w") as f:
        json.dump(served, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
