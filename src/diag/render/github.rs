//! `--format github`: GitHub Actions workflow commands, which the runner turns into annotations
//! on the pull request's lines: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::…`.

use std::io::{self, Write};

use crate::diag::{Level, Report};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let command = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push('\n');
            message.push_str(help);
        }
        // GitHub's columns are inclusive; kvet's end column is just past the node.
        let end_column = if d.end_line == d.line {
            d.end_column.saturating_sub(1).max(d.column)
        } else {
            d.end_column
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={end_column},title={}::{}",
            property(&d.file),
            d.line,
            d.column,
            d.end_line,
            property(&d.rule),
            data(&message),
        )?;
    }
    Ok(())
}

/// A command's message, escaped as the Actions toolkit does (`escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value (`escapeProperty`): also `:` and `,`, which delimit properties.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_the_toolkit_does() {
        assert_eq!(data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
        assert_eq!(property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
    }
}
