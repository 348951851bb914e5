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

impl Expr {
    /// Parses the text between `$(` and `)`.
    pub fn parse(text: &str) -> Result<Expr, TemplateError> {
        let mut parser = Parser { text, at: 0 };
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
    pub fn eval(&self, values: &BTreeMap<String, u64>) -> Result<u64, String> {
        let value = self.value(values)?;
        u64::try_from(value).map_err(|_| format!("evaluates to {value}, which is negative"))
    }

    fn value(&self, values: &BTreeMap<String, u64>) -> Result<i128, String> {
        Ok(match self {
            Expr::Number(n) => *n,
            Expr::Name(n) => values
                .get(n)
                .map(|v| i128::from(*v))
                .ok_or_else(|| format!("`{n}` is not a parameter this scenario declares"))?,
            Expr::Binary(a, op, b) => {
                let (a, b) = (a.value(values)?, b.value(values)?);
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    _ if b == 0 => return Err("division by zero".to_string()),
                    _ => a / b,
                }
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

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: String) -> TemplateError {
        TemplateError {
            offset: self.at,
            message,
        }
    }

    fn skip_space(&mut self) {
        while self.text[self.at..].starts_with(' ') {
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
                self.at += 1;
                let mut args = vec![self.sum()?];
                while self.peek() == Some(',') {
                    self.at += 1;
                    args.push(self.sum()?);
                }
                self.close()?;
                Ok(Expr::Call(name, args))
            }
            Some('(') => {
                self.at += 1;
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

    fn close(&mut self) -> Result<(), TemplateError> {
        if self.peek() == Some(')') {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error("expected `)`".to_string()))
        }
    }
}

/// Every `$( … )` in `text`: (line from 1, column from 1 of the `$`, the expression text).
/// Parentheses nest, so `$(min(a, b))` is one template. An unclosed one runs to the line's end.
pub fn templates(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    for (line, row) in text.lines().enumerate() {
        for (column, _) in row.match_indices("$(") {
            let body = &row[column + 2..];
            let mut depth = 1;
            let end = body.char_indices().find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            });
            found.push((line + 1, column + 1, &body[..end.unwrap_or(body.len())]));
        }
    }
    found
}

/// `text` with every `$( … )` replaced by its value. The templates were checked when the
/// scenario was loaded; an error here is a value the expression cannot take (negative, division
/// by zero), reported with the template's position.
pub fn expand(
    text: &str,
    values: &BTreeMap<String, u64>,
) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(text.len());
    for (index, row) in text.split_inclusive('\n').enumerate() {
        let mut rest = row;
        let mut column = 0;
        while let Some(start) = rest.find("$(") {
            out.push_str(&rest[..start]);
            let body = &rest[start + 2..];
            let (_, _, expr_text) = templates(&rest[start..])
                .into_iter()
                .next()
                .unwrap_or((0, 0, body));
            let position = (index + 1, column + start + 1);
            let value = Expr::parse(expr_text)
                .map_err(|e| e.message)
                .and_then(|e| e.eval(values))
                .map_err(|message| {
                    (
                        position.0,
                        position.1,
                        format!("`$({expr_text})`: {message}"),
                    )
                })?;
            out.push_str(&value.to_string());
            let consumed = start + 2 + expr_text.len() + usize::from(body.len() > expr_text.len());
            column += consumed;
            rest = &rest[consumed..];
        }
        out.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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
            .contains("negative"));
        assert!(Expr::parse("size / (bufsize - 30)")
            .unwrap()
            .eval(&v)
            .unwrap_err()
            .contains("zero"));
    }

    #[test]
    fn templates_nest_and_expand_in_place() {
        let text = "a: $(min(size, bufsize))\nb: [$(size), $((size))]\n";
        assert_eq!(
            templates(text),
            vec![
                (1, 4, "min(size, bufsize)"),
                (2, 5, "size"),
                (2, 14, "(size)")
            ]
        );
        assert_eq!(expand(text, &values()).unwrap(), "a: 30\nb: [100, 100]\n");
    }

    #[test]
    fn expanding_reports_the_position_of_a_bad_value() {
        let err = expand("x: 1\ny:  $(bufsize - size)\n", &values()).unwrap_err();
        assert_eq!((err.0, err.1), (2, 5));
        assert!(err.2.contains("negative"), "{err:?}");
    }
}
