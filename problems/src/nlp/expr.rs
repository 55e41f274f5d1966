//! Scalar expressions in `x1 … xn` with exact symbolic derivatives, for problems given as
//! formulas (the Hock–Schittkowski set).
//!
//! Grammar (usual precedence, `^` right-associative and above unary minus, so `-x^2 = -(x^2)`):
//!
//! ```text
//! expr    = term { ("+" | "-") term }
//! term    = unary { ("*" | "/") unary }
//! unary   = "-" unary | "+" unary | power
//! power   = primary [ "^" unary ]
//! primary = number | "x" index | "pi" | func "(" expr ")" | "(" expr ")"
//! func    = sin | cos | tan | exp | log | sqrt | asin | acos | atan
//! ```
//!
//! Derivatives are built symbolically ([`Expr::diff`]) with constant folding, so gradients and
//! Hessians are exact expressions evaluated in `O(size)`.

use std::fmt;

/// A unary function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `sin`
    Sin,
    /// `cos`
    Cos,
    /// `tan`
    Tan,
    /// `exp`
    Exp,
    /// Natural logarithm.
    Log,
    /// `sqrt`
    Sqrt,
    /// `asin`
    Asin,
    /// `acos`
    Acos,
    /// `atan`
    Atan,
}

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Asin => "asin",
            Func::Acos => "acos",
            Func::Atan => "atan",
        }
    }
    fn from_name(s: &str) -> Option<Func> {
        Some(match s {
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "exp" => Func::Exp,
            "log" | "ln" => Func::Log,
            "sqrt" => Func::Sqrt,
            "asin" => Func::Asin,
            "acos" => Func::Acos,
            "atan" => Func::Atan,
            _ => return None,
        })
    }
    fn apply(self, v: f64) -> f64 {
        match self {
            Func::Sin => v.sin(),
            Func::Cos => v.cos(),
            Func::Tan => v.tan(),
            Func::Exp => v.exp(),
            Func::Log => v.ln(),
            Func::Sqrt => v.sqrt(),
            Func::Asin => v.asin(),
            Func::Acos => v.acos(),
            Func::Atan => v.atan(),
        }
    }
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Const(f64),
    /// Variable `x_{k+1}` (0-based `k`).
    Var(usize),
    /// Sum.
    Add(Box<Expr>, Box<Expr>),
    /// Difference.
    Sub(Box<Expr>, Box<Expr>),
    /// Product.
    Mul(Box<Expr>, Box<Expr>),
    /// Quotient.
    Div(Box<Expr>, Box<Expr>),
    /// Power `a^b`.
    Pow(Box<Expr>, Box<Expr>),
    /// Negation.
    Neg(Box<Expr>),
    /// A function of one argument.
    Call(Func, Box<Expr>),
}

fn c(v: f64) -> Expr {
    Expr::Const(v)
}

/// Smart constructors with constant folding and the identities `0 + a`, `1 · a`, `0 · a`.
fn add(a: Expr, b: Expr) -> Expr {
    match (&a, &b) {
        (Expr::Const(x), Expr::Const(y)) => c(x + y),
        (Expr::Const(x), _) if *x == 0.0 => b,
        (_, Expr::Const(y)) if *y == 0.0 => a,
        _ => Expr::Add(Box::new(a), Box::new(b)),
    }
}
fn sub(a: Expr, b: Expr) -> Expr {
    match (&a, &b) {
        (Expr::Const(x), Expr::Const(y)) => c(x - y),
        (_, Expr::Const(y)) if *y == 0.0 => a,
        (Expr::Const(x), _) if *x == 0.0 => neg(b),
        _ => Expr::Sub(Box::new(a), Box::new(b)),
    }
}
fn mul(a: Expr, b: Expr) -> Expr {
    match (&a, &b) {
        (Expr::Const(x), Expr::Const(y)) => c(x * y),
        (Expr::Const(x), _) | (_, Expr::Const(x)) if *x == 0.0 => c(0.0),
        (Expr::Const(x), _) if *x == 1.0 => b,
        (_, Expr::Const(y)) if *y == 1.0 => a,
        _ => Expr::Mul(Box::new(a), Box::new(b)),
    }
}
fn div(a: Expr, b: Expr) -> Expr {
    match (&a, &b) {
        (Expr::Const(x), Expr::Const(y)) if *y != 0.0 => c(x / y),
        (Expr::Const(x), _) if *x == 0.0 => c(0.0),
        (_, Expr::Const(y)) if *y == 1.0 => a,
        _ => Expr::Div(Box::new(a), Box::new(b)),
    }
}
fn pow(a: Expr, b: Expr) -> Expr {
    match (&a, &b) {
        (Expr::Const(x), Expr::Const(y)) => c(x.powf(*y)),
        (_, Expr::Const(y)) if *y == 0.0 => c(1.0),
        (_, Expr::Const(y)) if *y == 1.0 => a,
        _ => Expr::Pow(Box::new(a), Box::new(b)),
    }
}
fn neg(a: Expr) -> Expr {
    match a {
        Expr::Const(x) => c(-x),
        Expr::Neg(inner) => *inner,
        _ => Expr::Neg(Box::new(a)),
    }
}
fn call(f: Func, a: Expr) -> Expr {
    match a {
        Expr::Const(x) => c(f.apply(x)),
        _ => Expr::Call(f, Box::new(a)),
    }
}

impl Expr {
    /// Parse `text` (see the module documentation); variables must be `x1 … x{n}`.
    pub fn parse(text: &str, n: usize) -> Result<Expr, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            n,
            depth: 0,
        };
        let e = p.expr()?;
        p.skip_ws();
        if p.i != p.s.len() {
            return Err(p.error("an operator or the end of the expression"));
        }
        Ok(e)
    }

    /// Value at `x`.
    pub fn eval(&self, x: &[f64]) -> f64 {
        match self {
            Expr::Const(v) => *v,
            Expr::Var(k) => x[*k],
            Expr::Add(a, b) => a.eval(x) + b.eval(x),
            Expr::Sub(a, b) => a.eval(x) - b.eval(x),
            Expr::Mul(a, b) => a.eval(x) * b.eval(x),
            Expr::Div(a, b) => a.eval(x) / b.eval(x),
            Expr::Pow(a, b) => {
                let base = a.eval(x);
                match **b {
                    // Integer powers by repeated multiplication: exact signs for negative bases.
                    Expr::Const(e) if e.fract() == 0.0 && e.abs() <= 64.0 => base.powi(e as i32),
                    _ => base.powf(b.eval(x)),
                }
            }
            Expr::Neg(a) => -a.eval(x),
            Expr::Call(f, a) => f.apply(a.eval(x)),
        }
    }

    /// `∂/∂x_k` as an expression.
    pub fn diff(&self, k: usize) -> Expr {
        match self {
            Expr::Const(_) => c(0.0),
            Expr::Var(j) => c(if *j == k { 1.0 } else { 0.0 }),
            Expr::Add(a, b) => add(a.diff(k), b.diff(k)),
            Expr::Sub(a, b) => sub(a.diff(k), b.diff(k)),
            Expr::Mul(a, b) => add(mul(a.diff(k), (**b).clone()), mul((**a).clone(), b.diff(k))),
            Expr::Div(a, b) => div(
                sub(mul(a.diff(k), (**b).clone()), mul((**a).clone(), b.diff(k))),
                pow((**b).clone(), c(2.0)),
            ),
            Expr::Pow(a, b) => {
                let da = a.diff(k);
                let db = b.diff(k);
                if let Expr::Const(e) = **b {
                    // d(a^e) = e a^(e−1) da
                    mul(mul(c(e), pow((**a).clone(), c(e - 1.0))), da)
                } else {
                    // d(a^b) = a^b (db ln a + b da / a)
                    mul(
                        self.clone(),
                        add(
                            mul(db, call(Func::Log, (**a).clone())),
                            div(mul((**b).clone(), da), (**a).clone()),
                        ),
                    )
                }
            }
            Expr::Neg(a) => neg(a.diff(k)),
            Expr::Call(f, a) => {
                let da = a.diff(k);
                if da == c(0.0) {
                    return c(0.0);
                }
                let a = (**a).clone();
                let outer = match f {
                    Func::Sin => call(Func::Cos, a),
                    Func::Cos => neg(call(Func::Sin, a)),
                    Func::Tan => div(c(1.0), pow(call(Func::Cos, a), c(2.0))),
                    Func::Exp => call(Func::Exp, a),
                    Func::Log => div(c(1.0), a),
                    Func::Sqrt => div(c(0.5), call(Func::Sqrt, a)),
                    Func::Asin => div(c(1.0), call(Func::Sqrt, sub(c(1.0), pow(a, c(2.0))))),
                    Func::Acos => neg(div(c(1.0), call(Func::Sqrt, sub(c(1.0), pow(a, c(2.0)))))),
                    Func::Atan => div(c(1.0), add(c(1.0), pow(a, c(2.0)))),
                };
                mul(outer, da)
            }
        }
    }

    /// Whether the expression is the constant 0 (after folding).
    pub fn is_zero(&self) -> bool {
        *self == c(0.0)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Const(v) => write!(f, "{v}"),
            Expr::Var(k) => write!(f, "x{}", k + 1),
            Expr::Add(a, b) => write!(f, "({a} + {b})"),
            Expr::Sub(a, b) => write!(f, "({a} - {b})"),
            Expr::Mul(a, b) => write!(f, "({a} * {b})"),
            Expr::Div(a, b) => write!(f, "({a} / {b})"),
            Expr::Pow(a, b) => write!(f, "({a} ^ {b})"),
            Expr::Neg(a) => write!(f, "(-{a})"),
            Expr::Call(g, a) => write!(f, "{}({a})", g.name()),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    n: usize,
    /// An upper bound on the depth of the node being parsed: the evaluation, the derivatives,
    /// clone and drop recurse over the tree, so it is bounded by [`MAX_DEPTH`].
    depth: usize,
}

/// The deepest expression tree accepted (a sum of 1000 terms, or 1000 nested parentheses, is
/// that deep): deeper ones would overflow the stack of the recursive evaluation.
pub const MAX_DEPTH: usize = 1000;

impl Parser<'_> {
    /// One level deeper, or an error past [`MAX_DEPTH`].
    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "column {}: the expression is nested more than {MAX_DEPTH} levels deep (a \
                 sum or product of more than {MAX_DEPTH} terms, or as many parentheses); split \
                 it into shorter parts",
                self.i + 1
            ));
        }
        Ok(())
    }
    fn error(&self, expected: &str) -> String {
        let found = if self.i < self.s.len() {
            format!("'{}'", self.s[self.i] as char)
        } else {
            "the end".to_string()
        };
        format!("column {}: expected {expected}, found {found}", self.i + 1)
    }
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, ch: u8) -> bool {
        self.skip_ws();
        if self.i < self.s.len() && self.s[self.i] == ch {
            self.i += 1;
            true
        } else {
            false
        }
    }
    // Every operator of a chain `a + b + …` adds a level to the (left-deep) tree: the depth
    // bound grows with the chain and is restored when it ends.
    fn expr(&mut self) -> Result<Expr, String> {
        let base = self.depth;
        let mut e = self.term()?;
        loop {
            if self.eat(b'+') {
                self.deeper()?;
                e = add(e, self.term()?);
            } else if self.eat(b'-') {
                self.deeper()?;
                e = sub(e, self.term()?);
            } else {
                self.depth = base;
                return Ok(e);
            }
        }
    }
    fn term(&mut self) -> Result<Expr, String> {
        let base = self.depth;
        let mut e = self.unary()?;
        loop {
            if self.eat(b'*') {
                self.deeper()?;
                e = mul(e, self.unary()?);
            } else if self.eat(b'/') {
                self.deeper()?;
                e = div(e, self.unary()?);
            } else {
                self.depth = base;
                return Ok(e);
            }
        }
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(b'-') {
            self.deeper()?;
            let e = neg(self.unary()?);
            self.depth -= 1;
            Ok(e)
        } else if self.eat(b'+') {
            self.deeper()?;
            let e = self.unary()?;
            self.depth -= 1;
            Ok(e)
        } else {
            self.power()
        }
    }
    fn power(&mut self) -> Result<Expr, String> {
        let base = self.primary()?;
        if self.eat(b'^') {
            self.deeper()?;
            let e = pow(base, self.unary()?);
            self.depth -= 1;
            Ok(e)
        } else {
            Ok(base)
        }
    }
    fn primary(&mut self) -> Result<Expr, String> {
        self.skip_ws();
        let start = self.i;
        let Some(&ch) = self.s.get(self.i) else {
            return Err(self.error("a number, a variable, a function or '('"));
        };
        if ch == b'(' {
            self.i += 1;
            self.deeper()?;
            let e = self.expr()?;
            self.depth -= 1;
            if !self.eat(b')') {
                return Err(self.error("')'"));
            }
            return Ok(e);
        }
        if ch.is_ascii_digit() || ch == b'.' {
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
            {
                self.i += 1;
            }
            // Exponent: 1e-3, 2.5E+4.
            if self.i < self.s.len() && (self.s[self.i] == b'e' || self.s[self.i] == b'E') {
                let save = self.i;
                self.i += 1;
                if self.i < self.s.len() && (self.s[self.i] == b'+' || self.s[self.i] == b'-') {
                    self.i += 1;
                }
                if self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                        self.i += 1;
                    }
                } else {
                    self.i = save;
                }
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            return text.parse::<f64>().map(c).map_err(|_| {
                self.i = start;
                self.error("a number")
            });
        }
        if ch.is_ascii_alphabetic() {
            while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
                self.i += 1;
            }
            let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            if word == "pi" {
                return Ok(c(std::f64::consts::PI));
            }
            if let Some(rest) = word.strip_prefix('x')
                && let Ok(k) = rest.parse::<usize>()
            {
                if k == 0 || k > self.n {
                    self.i = start;
                    return Err(format!(
                        "column {}: variable {word} outside x1..x{}",
                        start + 1,
                        self.n
                    ));
                }
                return Ok(Expr::Var(k - 1));
            }
            if let Some(f) = Func::from_name(word) {
                if !self.eat(b'(') {
                    return Err(self.error("'(' after a function name"));
                }
                self.deeper()?;
                let e = self.expr()?;
                self.depth -= 1;
                if !self.eat(b')') {
                    return Err(self.error("')'"));
                }
                return Ok(call(f, e));
            }
            self.i = start;
            return Err(format!("column {}: unknown name '{word}'", start + 1));
        }
        Err(self.error("a number, a variable, a function or '('"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num_diff(e: &Expr, x: &[f64], k: usize) -> f64 {
        let h = 1e-6 * x[k].abs().max(1.0);
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[k] += h;
        xm[k] -= h;
        (e.eval(&xp) - e.eval(&xm)) / (2.0 * h)
    }

    #[test]
    fn parses_with_precedence() {
        let e = Expr::parse("-x1^2 + 2*x2/4 - (x1 - 1)^2^1", 2).unwrap();
        let x = [3.0, 4.0];
        assert_eq!(e.eval(&x), -9.0 + 2.0 - 4.0);
        assert_eq!(Expr::parse("2^3^2", 0).unwrap().eval(&[]), 512.0);
        assert_eq!(Expr::parse("1e-3 * 2.5E+2", 0).unwrap().eval(&[]), 0.25);
        assert!(
            (Expr::parse("sqrt(2)*pi", 0).unwrap().eval(&[]) - 2f64.sqrt() * std::f64::consts::PI)
                .abs()
                < 1e-15
        );
    }

    #[test]
    fn deep_expressions_are_errors_not_stack_overflows() {
        let long_sum = vec!["x1*x2"; 30_000].join("+");
        let err = Expr::parse(&long_sum, 2).unwrap_err();
        assert!(err.contains("nested more than"), "{err}");
        let parens = format!("{}x1{}", "(".repeat(30_000), ")".repeat(30_000));
        assert!(
            Expr::parse(&parens, 1)
                .unwrap_err()
                .contains("nested more than")
        );
        let minus = format!("{}x1", "-".repeat(100_000));
        assert!(
            Expr::parse(&minus, 1)
                .unwrap_err()
                .contains("nested more than")
        );
        // Within the bound: parsed, evaluated and differentiated, on a test thread's 2 MB
        // stack (as on the solvers' worker threads).
        let ok = vec!["x1*x2"; 990].join("+");
        let e = Expr::parse(&ok, 2).unwrap();
        assert_eq!(e.eval(&[2.0, 3.0]), 5940.0);
        let d = e.diff(0);
        assert_eq!(d.eval(&[2.0, 3.0]), 2970.0);
        // A whole problem: gradient and Hessian built and evaluated.
        use crate::nlp::EqualityNlp;
        let p =
            crate::nlp::hs::ExprNlp::new("t", 2, &ok, &["x1 + x2 - 1"], vec![0.5, 0.5]).unwrap();
        let h = p.hessian(&[2.0, 3.0], &[1.0]);
        assert!(h.nnz() > 0);
        let mut g = [0.0; 2];
        p.gradient(&[2.0, 3.0], &mut g);
        assert_eq!(g, [2970.0, 1980.0]);
    }

    #[test]
    fn errors_name_the_column() {
        assert!(Expr::parse("x1 + ", 1).unwrap_err().contains("column 6"));
        assert!(Expr::parse("x3", 2).unwrap_err().contains("outside x1..x2"));
        assert!(
            Expr::parse("foo(x1)", 1)
                .unwrap_err()
                .contains("unknown name 'foo'")
        );
        assert!(Expr::parse("(x1", 1).unwrap_err().contains("expected ')'"));
        assert!(Expr::parse("x1 x2", 2).unwrap_err().contains("column 4"));
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let texts = [
            "(1 + x1^2)^2 + x2^2 - 4",
            "log(1 + x1^2) - x2",
            "x1^2*x4 + sin(x4 - x5) - 2*sqrt(2)",
            "x1*x2*x3*x4*x5",
            "x1 - 4.2*sin(x4)^2",
            "asin(x1/3) + cos(x2)*exp(x3) + x4^x5 + atan(x1) - tan(x2)/x3",
        ];
        let x = [0.7, 1.3, 0.4, 1.7, 0.9];
        for t in texts {
            let e = Expr::parse(t, 5).unwrap();
            for k in 0..5 {
                let d = e.diff(k);
                let fd = num_diff(&e, &x, k);
                assert!(
                    (d.eval(&x) - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                    "{t} d/dx{}: {} vs {fd}",
                    k + 1,
                    d.eval(&x)
                );
                for l in 0..5 {
                    let dd = d.diff(l).eval(&x);
                    let fdd = num_diff(&d, &x, l);
                    assert!(
                        (dd - fdd).abs() <= 1e-6 * fdd.abs().max(1.0),
                        "{t} d2/dx{}dx{}",
                        k + 1,
                        l + 1
                    );
                }
            }
        }
    }
}
