//! Property tests: no Kyverno policy and no object make the Kyverno engine panic or hang —
//! patterns with any anchors and operators, `{{ }}` variables with any text, conditions with
//! any operator, foreach lists of any shape, CEL of any text.

use kvet::kyverno::engine::{Request, apply};
use kvet::kyverno::policy::Policy;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Strings policies and objects are made of, broken ones included.
fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "*",
        "?*",
        "!*",
        "a|b",
        "a&b",
        ">1",
        "<=2Gi",
        "1-10",
        "1!-10",
        "!a-b",
        "{{",
        "}}",
        "{{ request.object.metadata.name }}",
        "{{ element.name }}",
        "{{ @ }}",
        "{{ {{ a }} }}",
        "{{ length(request.object.spec.containers) }}",
        "{{ regex_match('(', 'x') }}",
        "\\{{ x }}",
        "=(x)",
        "X(x)",
        "^(x)",
        "<(x)",
        "(x)",
        "+(x)",
        "x",
        "1h",
        "30m",
        "1Gi",
        "true",
        "null",
        "request.object.spec.containers",
        "request.object.spec.[a, b][]",
        "element.ports",
        "object.spec.containers.all(c, c.image != '')",
        "object.(",
        "variables.x.y",
        "Equals",
        "AnyIn",
        "AllNotIn",
        "GreaterThan",
        "DurationLessThan",
        "Nope",
    ])
    .prop_map(str::to_owned)
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": spec})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn rules_of_any_shape_never_panic(
        pattern in value(),
        conditions in value(),
        list in text(),
        expression in text(),
        spec in value(),
    ) {
        let policy = Policy::from_json(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "p"},
            "spec": {"rules": [
                {"name": "pattern", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "validate": {"message": "{{ request.object.metadata.name }}", "pattern": {"spec": pattern.clone()}}},
                {"name": "any", "match": {"any": [{"resources": {"kinds": ["*"]}}]},
                 "validate": {"anyPattern": [pattern.clone(), {"metadata": pattern}]}},
                {"name": "deny", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "preconditions": conditions.clone(),
                 "validate": {"deny": {"conditions": conditions.clone()}}},
                {"name": "foreach", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "validate": {"foreach": [{"list": list, "deny": {"conditions": conditions},
                                           "foreach": [{"list": "element.ports", "pattern": {"x": "*"}}]}]}},
                {"name": "cel", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "validate": {"cel": {"expressions": [{"expression": expression}]}}}
            ]}
        })).unwrap();
        let object = pod(spec);
        let request = Request::new(&object, None, None, serde_json::Map::new());
        let verdicts = apply(&policy, &request);
        // Every rule matches a Pod (autogen rules match controllers only).
        prop_assert_eq!(verdicts.len(), 5);
    }
}
