//! `$( … )` in a parameterised scenario: an integer expression over its parameters.
//!
//! The grammar is small on purpose: integers, parameter names, `+`, `-`, `*`, `/` (integer
//! division), parentheses, and `min(a, b, …)` / `max(a, b, …)`. That is what "the prefix a recv
//! returns is min(size, bufsize)" needs. It is written here rather than taken from a crate: the
//! maintained expression crates are float-based or, like evalexpr since version 12, AGPL, which
//! this MIT/Apache crate cannot depend on.

use std::collections::BTreeMap;

/// A problem in a template: where (byte column within the expression) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// The column in the expression text, from 0.
    pub offset: usize,
    /// What was wrong, and what was expected.
    pub message: String,
}

/// An expression, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// An integer.
    Number(i128),
    /// A parameter, by name.
    Name(String),
    /// `a + b`, `a - b`, `a * b`, `a / b`.
    Binary(Box<Expr>, char, Box<Expr>),
    /// `min(…)` or `max(…)`.
    Call(String, Vec<Expr>),
}

/// How deep parentheses and `min(`/`max(` calls may nest in one expression.
pub const MAX_DEPTH: usize = 64;

/// How long one expression may be, in bytes (which bounds the size of its tree).
pub const MAX_LENGTH: usize = 1024;

impl Expr {
    /// Parses the text between `$(` and `)`. Nesting deeper than [`MAX_DEPTH`] and text longer
    /// than [`MAX_LENGTH`] are errors, so that no expression can exhaust the stack.
    pub fn parse(text: &str) -> Result<Expr, TemplateError> {
        if text.len() > MAX_LENGTH {
            return Err(TemplateError {
                offset: 0,
                message: format!(
                    "the expression is {} bytes long, more than the limit of {MAX_LENGTH}",
                    text.len()
                ),
            });
        }
        let mut parser = Parser {
            text,
            at: 0,
            depth: 0,
        };
        let expr = parser.sum()?;
        parser.skip_space();
        if parser.at < text.len() {
            return Err(parser.error(format!(
                "unexpected `{}`; expected an operator (+ - * /) or the end of the expression",
                &text[parser.at..]
            )));
        }
        Ok(expr)
    }

    /// The parameter names it uses.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Expr::Number(_) => Vec::new(),
            Expr::Name(n) => vec![n.as_str()],
            Expr::Binary(a, _, b) => [a.names(), b.names()].concat(),
            Expr::Call(_, args) => args.iter().flat_map(Expr::names).collect(),
        }
    }

    /// Its value with these parameter values: a whole number, never negative (a count, a size,
    /// a port); an error otherwise.
    pub fn eval(&self, values: &BTreeMap<String, u64>) -> Result<u64, EvalError> {
        let value = self.value(values)?;
        if value < 0 {
            return Err(EvalError::Negative(value));
        }
        u64::try_from(value).map_err(|_| EvalError::OutOfRange(value))
    }

    fn value(&self, values: &BTreeMap<String, u64>) -> Result<i128, EvalError> {
        Ok(match self {
            Expr::Number(n) => *n,
            Expr::Name(n) => values
                .get(n)
                .map(|v| i128::from(*v))
                .ok_or_else(|| EvalError::UnknownParameter(n.clone()))?,
            Expr::Binary(a, op, b) => {
                let (a, b) = (a.value(values)?, b.value(values)?);
                let result = match op {
                    '+' => a.checked_add(b),
                    '-' => a.checked_sub(b),
                    '*' => a.checked_mul(b),
                    _ if b == 0 => return Err(EvalError::DivisionByZero),
                    _ => a.checked_div(b),
                };
                result.ok_or_else(|| EvalError::TooLarge(format!("`{a} {op} {b}`")))?
            }
            Expr::Call(f, args) => {
                let args: Vec<i128> = args
                    .iter()
                    .map(|a| a.value(values))
                    .collect::<Result<_, _>>()?;
                let pick = if f == "min" {
                    args.iter().min()
                } else {
                    args.iter().max()
                };
                *pick.expect("the parser requires at least one argument")
            }
        })
    }
}

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// It names something that is not a parameter of the scenario.
    #[error("`{0}` is not a parameter this scenario declares")]
    UnknownParameter(String),
    /// It divides by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// The part shown is too large to compute.
    #[error("{0} is too large")]
    TooLarge(String),
    /// Its value is too large to use.
    #[error("evaluates to {0}, which is too large")]
    OutOfRange(i128),
    /// It is negative, and values are counts, sizes and ports.
    #[error("evaluates to {0}, which is negative")]
    Negative(i128),
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: String) -> TemplateError {
        TemplateError {
            offset: self.at,
            message,
        }
    }

    fn skip_space(&mut self) {
        while self.text[self.at..].starts_with([' ', '\t']) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.text[self.at..].chars().next()
    }

    /// sum := product (('+' | '-') product)*
    fn sum(&mut self) -> Result<Expr, TemplateError> {
        let mut left = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    /// product := atom (('*' | '/') atom)*
    fn product(&mut self) -> Result<Expr, TemplateError> {
        let mut left = self.atom()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.atom()?));
        }
        Ok(left)
    }

    /// atom := number | name | ('min' | 'max') '(' sum (',' sum)* ')' | '(' sum ')'
    fn atom(&mut self) -> Result<Expr, TemplateError> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let digits: String = self.text[self.at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let n = digits
                    .parse()
                    .map_err(|_| self.error(format!("`{digits}` is too large a number")))?;
                self.at += digits.len();
                Ok(Expr::Number(n))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.at;
                let name: String = self.text[self.at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                self.at += name.len();
                if self.peek() != Some('(') {
                    return Ok(Expr::Name(name));
                }
                if name != "min" && name != "max" {
                    self.at = start;
                    return Err(self.error(format!(
                        "unknown function `{name}`; the functions are min and max"
                    )));
                }
                self.open()?;
                let mut args = vec![self.sum()?];
                while self.peek() == Some(',') {
                    self.at += 1;
                    args.push(self.sum()?);
                }
                self.close()?;
                Ok(Expr::Call(name, args))
            }
            Some('(') => {
                self.open()?;
                let inner = self.sum()?;
                self.close()?;
                Ok(inner)
            }
            Some(c) => Err(self.error(format!(
                "unexpected `{c}`; expected a number, a parameter, min(…), max(…) or `(`"
            ))),
            None => Err(self.error(
                "the expression ends here; expected a number, a parameter, min(…), max(…) or `(`"
                    .to_string(),
            )),
        }
    }

    /// Enters a parenthesis or a call, refusing to nest deeper than [`MAX_DEPTH`].
    fn open(&mut self) -> Result<(), TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "parentheses nest more than {MAX_DEPTH} deep (the limit for an expression)"
            )));
        }
        self.at += 1;
        Ok(())
    }

    fn close(&mut self) -> Result<(), TemplateError> {
        if self.peek() == Some(')') {
            self.at += 1;
            self.depth -= 1;
            Ok(())
        } else {
            Err(self.error("expected `)`".to_string()))
        }
    }
}

/// One `$( … )` found in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template<'a> {
    /// Its line, from 1.
    pub line: usize,
    /// The column of its `$`, from 1.
    pub column: usize,
    /// The expression between `$(` and its `)` (to the line's end if unclosed).
    pub body: &'a str,
    /// Whether the `)` was found on the same line.
    pub closed: bool,
}

/// Where the `)` that closes a template whose expression starts `body` is (parentheses nest).
fn closing(body: &str) -> Option<usize> {
    let mut depth = 1;
    body.char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })
}

/// Every `$( … )` in `text`. Parentheses nest, so `$(min(a, b))` is one template; a template
/// ends on its own line.
pub fn templates(text: &str) -> Vec<Template<'_>> {
    let mut found = Vec::new();
    for (line, row) in text.lines().enumerate() {
        // Each search starts after the previous template, so that `$(` inside a template is
        // part of it (and an error in it), and the time stays linear in the line.
        let mut from = 0;
        while let Some(start) = row[from..].find("$(") {
            let column = from + start;
            let body = &row[column + 2..];
            let end = closing(body);
            found.push(Template {
                line: line + 1,
                column: column + 1,
                body: &body[..end.unwrap_or(body.len())],
                closed: end.is_some(),
            });
            from = column + 2 + end.map_or(body.len(), |e| e + 1);
        }
    }
    found
}

/// An expression as shown in a message: cut to its first 40 characters.
pub fn shorten(body: &str) -> String {
    match body.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &body[..at]),
        None => body.to_string(),
    }
}

/// The message for a `$(` without its `)`.
pub const UNCLOSED: &str = "`$(` is not closed: expected `)` before the end of the line";

/// `text` with every `$( … )` replaced by its value. The templates were checked when the
/// scenario was loaded; an error here is a value the expression cannot take (negative, too
/// large, division by zero), reported with the template's line and column.
pub fn expand(
    text: &str,
    values: &BTreeMap<String, u64>,
) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(text.len());
    for (index, row) in text.split_inclusive('\n').enumerate() {
        let (mut rest, mut offset) = (row, 0);
        while let Some(start) = rest.find("$(") {
            out.push_str(&rest[..start]);
            let column = offset + start + 1;
            let body = rest[start + 2..].trim_end_matches(['\n', '\r']);
            let Some(end) = closing(body) else {
                return Err((index + 1, column, UNCLOSED.to_string()));
            };
            let expr_text = &body[..end];
            let value = Expr::parse(expr_text)
                .map_err(|e| e.message)
                .and_then(|e| e.eval(values).map_err(|e| e.to_string()))
                .map_err(|message| {
                    (
                        index + 1,
                        column,
                        format!("`$({})`: {message}", shorten(expr_text)),
                    )
                })?;
            out.push_str(&value.to_string());
            let consumed = start + 2 + end + 1;
            offset += consumed;
            rest = &rest[consumed..];
        }
        out.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    proptest! {
        #[test]
        fn any_text_parses_or_says_why_and_never_panics(text in "\\PC{0,40}", n in any::<u64>()) {
            let values: BTreeMap<String, u64> = [("n".to_string(), n)].into_iter().collect();
            if let Ok(expr) = Expr::parse(&text) {
                let _ = expr.eval(&values);
            }
            let _ = expand(&format!("a: $({text})\n$(n * n - {text}"), &values);
            let _ = templates(&text);
        }
    }

    fn values() -> BTreeMap<String, u64> {
        [("size".to_string(), 100), ("bufsize".to_string(), 30)]
            .into_iter()
            .collect()
    }

    #[rstest]
    #[case("size", 100)]
    #[case("min(size, bufsize)", 30)]
    #[case("max(size,bufsize, 7)", 100)]
    #[case("size - bufsize", 70)]
    #[case("size - min(size, bufsize) * 2", 40)]
    #[case("(size + 2) / 3", 34)]
    #[case(" 5 ", 5)]
    fn expressions_evaluate(#[case] text: &str, #[case] want: u64) {
        assert_eq!(Expr::parse(text).unwrap().eval(&values()), Ok(want));
    }

    #[rstest]
    #[case("size +", 6, "ends here")]
    #[case("sqrt(size)", 0, "unknown function `sqrt`")]
    #[case("min(size", 8, "expected `)`")]
    #[case("size bufsize", 5, "unexpected `bufsize`")]
    #[case("", 0, "ends here")]
    fn bad_expressions_say_where_and_what(
        #[case] text: &str,
        #[case] offset: usize,
        #[case] says: &str,
    ) {
        let e = Expr::parse(text).unwrap_err();
        assert_eq!(e.offset, offset, "{e:?}");
        assert!(e.message.contains(says), "{e:?}");
    }

    #[test]
    fn negative_values_and_division_by_zero_are_errors() {
        let v = values();
        assert!(Expr::parse("bufsize - size")
            .unwrap()
            .eval(&v)
            .unwrap_err()
            .to_string()
            .contains("negative"));
        assert!(Expr::parse("size / (bufsize - 30)")
            .unwrap()
            .eval(&v)
            .unwrap_err()
            .to_string()
            .contains("zero"));
    }

    #[test]
    fn templates_nest_and_expand_in_place() {
        let text = "a: $(min(size, bufsize))\nb: [$(size), $((size))]\n";
        let found: Vec<_> = templates(text)
            .iter()
            .map(|t| (t.line, t.column, t.body, t.closed))
            .collect();
        assert_eq!(
            found,
            vec![
                (1, 4, "min(size, bufsize)", true),
                (2, 5, "size", true),
                (2, 14, "(size)", true)
            ]
        );
        assert_eq!(expand(text, &values()).unwrap(), "a: 30\nb: [100, 100]\n");
    }

    #[test]
    fn an_unclosed_template_is_an_error_and_keeps_the_line_end() {
        assert!(!templates("a: $(size\nb: 2\n")[0].closed);
        assert_eq!(
            expand("a: $(size\nb: 2\n", &values()).unwrap_err(),
            (1, 4, UNCLOSED.to_string())
        );
        assert_eq!(
            expand("a: $(size)\r\nb: 2\r\n", &values()).unwrap(),
            "a: 100\r\nb: 2\r\n"
        );
    }

    #[test]
    fn arithmetic_that_overflows_is_an_error_not_a_panic() {
        let v: BTreeMap<String, u64> = [("n".to_string(), u64::MAX)].into_iter().collect();
        let e = Expr::parse("n*n*n - n*n*n + 1")
            .unwrap()
            .eval(&v)
            .unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let e = Expr::parse("n + n").unwrap().eval(&v).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn expanding_reports_the_position_of_a_bad_value() {
        let err = expand("x: 1\ny:  $(bufsize - size)\n", &values()).unwrap_err();
        assert_eq!((err.0, err.1), (2, 5));
        assert!(err.2.contains("negative"), "{err:?}");
    }
}
