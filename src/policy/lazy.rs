//! Engines holding only the built-in policies a query needs, compiled on first use.
//!
//! Parsing and compiling all the embedded policies took most of a one-file run, while an object
//! needs only those of its kind. Each set of built-in policies evaluated together (an object's
//! rules, one whole-stream rule) gets its engine the first time it is asked for; every thread
//! shares it from then on, as clones share regorus' compiled state. Engines known to be needed
//! can be compiled ahead, on rayon's threads, while the caller does other work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regorus::{Engine, Value};

use super::builtin;
use super::engine::{PolicyError, add_policy};

type Slot = Arc<OnceLock<Result<Engine, String>>>;

pub(super) struct LazyEngines {
    /// Shared with the threads that compile ahead.
    shared: Arc<Shared>,
}

struct Shared {
    /// `data` (data files, rules' options) and the libraries, parsed once: what every engine
    /// starts from.
    base: Engine,
    /// By the indexes in [`builtin::policies`] of the policies an engine holds, ascending.
    built: Mutex<HashMap<Vec<usize>, Slot>>,
}

impl LazyEngines {
    /// Engines that start from `base` (its `data`) and the libraries; an error when a library
    /// does not parse.
    pub(super) fn new(mut base: Engine) -> Result<LazyEngines, PolicyError> {
        let libraries = builtin::EMBEDDED
            .iter()
            .filter(|(path, _)| builtin::is_library(path));
        for (path, source) in libraries {
            add_policy(&mut base, &format!("policies/{path}"), source)?;
        }
        Ok(LazyEngines {
            shared: Arc::new(Shared {
                base,
                built: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A clone (cheap) of the engine with the libraries and the built-in policies at
    /// `policies` (indexes in [`builtin::policies`], ascending), compiled; an error when they
    /// do not compile.
    pub(super) fn get(&self, policies: &[usize]) -> Result<Engine, String> {
        let (slot, _) = self.shared.slot(policies);
        // Compiled outside the lock: other sets compile in parallel.
        slot.get_or_init(|| self.shared.compile(policies)).clone()
    }

    /// Starts compiling the engines of `sets` (as for [`LazyEngines::get`]) that nobody has
    /// asked for yet, each on a rayon thread; [`LazyEngines::get`] then waits for it.
    pub(super) fn prefetch(&self, sets: Vec<Vec<usize>>) {
        for set in sets {
            let (slot, fresh) = self.shared.slot(&set);
            if fresh {
                let shared = Arc::clone(&self.shared);
                rayon::spawn(move || {
                    slot.get_or_init(|| shared.compile(&set));
                });
            }
        }
    }
}

impl Shared {
    /// The slot of a set of policies, and whether it was just made.
    fn slot(&self, policies: &[usize]) -> (Slot, bool) {
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        match built.get(policies) {
            Some(slot) => (Arc::clone(slot), false),
            None => (
                Arc::clone(built.entry(policies.to_vec()).or_default()),
                true,
            ),
        }
    }

    fn compile(&self, policies: &[usize]) -> Result<Engine, String> {
        let mut engine = self.base.clone();
        let all = builtin::policies();
        for policy in policies.iter().filter_map(|&i| all.get(i)) {
            add_policy(
                &mut engine,
                &format!("policies/{}", policy.path),
                policy.source,
            )
            .map_err(|e| format!("the built-in policies do not compile: {e}"))?;
        }
        engine.set_input(Value::new_object());
        engine
            .eval_query("true".to_owned(), false)
            .map_err(|e| format!("the built-in policies do not compile: {e}"))?;
        Ok(engine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::engine::new_engine;

    #[test]
    fn an_engine_holds_its_policies_and_is_compiled_once() {
        let lazy = LazyEngines::new(new_engine()).unwrap();
        let all = builtin::policies();
        let i = all
            .iter()
            .position(|p| p.meta.id == "image-tag-latest")
            .unwrap();
        let package = |i: usize| format!("{}.deny", all[i].package);
        let mut engine = lazy.get(&[i]).unwrap();
        let pod = r#"{"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "nginx"}]}}"#;
        engine.set_input(Value::from_json_str(pod).unwrap());
        let found = engine.eval_rule(package(i)).unwrap();
        assert_eq!(found.as_set().map(|s| s.len()).ok(), Some(1), "{found}");
        // Another rule is not in this engine.
        let other = (i + 1) % all.len();
        assert!(engine.eval_rule(package(other)).is_err());
        lazy.prefetch(vec![vec![i]]);
        lazy.get(&[i]).unwrap();
        assert_eq!(lazy.shared.built.lock().unwrap().len(), 1);
    }
}
