//! The loaded YAML tree as a regorus value, built directly (no JSON text or serde_json copy in
//! between): this runs once per object that a policy looks at.

use std::collections::BTreeMap;

use regorus::Value;

use crate::load::yaml::{self, Node};

pub fn from_node(node: &Node) -> Value {
    match &node.value {
        yaml::Value::Null => Value::Null,
        yaml::Value::Bool(b) => Value::from(*b),
        yaml::Value::Int(i) => Value::from(*i),
        // JSON has no NaN or infinity; as in `Node::to_json`, they become null.
        yaml::Value::Float(f) if f.is_finite() => Value::from(*f),
        yaml::Value::Float(_) => Value::Null,
        yaml::Value::Str(s) => Value::from(s.as_str()),
        yaml::Value::Seq(items) => Value::from(items.iter().map(from_node).collect::<Vec<_>>()),
        yaml::Value::Map(entries) => {
            // A repeated key keeps its last value, as everywhere else the tree becomes JSON.
            let map: BTreeMap<Value, Value> = entries
                .iter()
                .map(|e| (Value::from(e.key.as_str()), from_node(&e.value)))
                .collect();
            Value::from(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_becomes_the_same_value_as_its_json() {
        let text = "a: 1\nb: [true, null, 2.5, x]\nc: {d: e}\n";
        let root = yaml::parse(text).documents.remove(0).root;
        let direct = from_node(&root);
        let via_json = Value::from_json_str(&root.to_json().to_string()).unwrap();
        assert_eq!(direct, via_json);
    }
}
