//! `kvet test`: the `test_*` rules of `*_test.rego` files, evaluated with the policies beside
//! them, like `conftest verify` / `opa test`.

use std::path::PathBuf;

use regorus::Value;

use super::engine::{
    PolicyError, add_data, add_policy, declared_rules, engine_error, is_test_file, new_engine,
    refuse_unsafe, rego_files, within_budget,
};

/// One test's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    /// The file the test is in.
    pub file: String,
    /// `data.<package>.<test name>`.
    pub test: String,
    /// `None` when the test passed; otherwise what it gave (`false`, undefined, an error).
    pub failure: Option<String>,
}

/// Line coverage of one policy file by the tests.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCoverage {
    pub file: String,
    pub covered: usize,
    /// Lines that hold code no test evaluated.
    pub not_covered: Vec<u32>,
    /// False for a file no test evaluated at all (regorus then reports no lines for it).
    pub reached: bool,
}

#[derive(Debug, Default)]
pub struct TestReport {
    pub outcomes: Vec<TestOutcome>,
    /// Filled with `coverage`: every policy file that is not a test, in path order.
    pub coverage: Vec<FileCoverage>,
}

/// Whether there are Rego files under `paths`.
pub fn has_rego_files(paths: &[PathBuf]) -> bool {
    rego_files(paths, true).is_ok_and(|files| !files.is_empty())
}

/// Runs every test found under `paths` (files or folders) with `data` files merged in.
pub fn run(paths: &[PathBuf], data: &[PathBuf], coverage: bool) -> Result<TestReport, PolicyError> {
    let mut engine = new_engine();
    let files = rego_files(paths, true)?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut sources = Vec::with_capacity(files.len());
    for (file, name) in files.iter().zip(&names) {
        let source = crate::load::read_file_text(file).map_err(|e| PolicyError::Read {
            what: "policy",
            path: name.clone(),
            message: crate::load::discover::io_message(&e),
        })?;
        add_policy(&mut engine, name, &source)?;
        sources.push((name.clone(), source));
    }
    refuse_unsafe(&sources)?;
    add_data(&mut engine, data)?;
    engine.set_enable_coverage(coverage);

    let test_files: Vec<&String> = files
        .iter()
        .zip(&names)
        .filter(|(f, _)| is_test_file(f))
        .map(|(_, n)| n)
        .collect();
    let mut report = TestReport::default();
    for file in test_files {
        let declared = declared_rules(&mut engine, |f| f == file.as_str());
        for (package, rules) in declared {
            for (name, _) in rules.iter().filter(|(n, _)| n.starts_with("test_")) {
                let test = format!("data.{package}.{name}");
                engine.set_input(Value::new_object());
                within_budget(&mut engine, 1, 0);
                let failure = match engine.eval_rule(test.clone()) {
                    Ok(Value::Bool(true)) => None,
                    Ok(Value::Undefined) => Some("undefined (a condition did not hold)".into()),
                    Ok(other) => Some(other.to_json_str().unwrap_or_default()),
                    Err(e) => Some(engine_error(&e.to_string())),
                };
                report.outcomes.push(TestOutcome {
                    file: file.clone(),
                    test,
                    failure,
                });
            }
        }
    }
    if coverage {
        let covered = engine
            .get_coverage_report()
            .map_err(|e| PolicyError::Compile {
                message: e.to_string(),
            })?;
        report.coverage = covered
            .files
            .into_iter()
            // The user's files only: not tests, nor what kvet adds to every engine.
            .filter(|f| names.contains(&f.path) && !f.path.ends_with("_test.rego"))
            .map(|f| FileCoverage {
                file: f.path,
                covered: f.covered.len(),
                not_covered: f.not_covered.into_iter().collect(),
                reached: true,
            })
            .collect();
        for (file, name) in files.iter().zip(&names) {
            if !is_test_file(file) && !report.coverage.iter().any(|c| &c.file == name) {
                report.coverage.push(FileCoverage {
                    file: name.clone(),
                    covered: 0,
                    not_covered: Vec::new(),
                    reached: false,
                });
            }
        }
        report.coverage.sort_by(|a, b| a.file.cmp(&b.file));
    }
    Ok(report)
}
