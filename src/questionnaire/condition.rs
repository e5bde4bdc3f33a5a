//! Conditions (`show_if`): a small language over earlier answers, parsed once
//! into a tree and written back in one canonical form, so reformatting a
//! condition never makes a new version.

use std::fmt;

use super::answers::Answer;
use super::model::QuestionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
        }
    }

    /// Ordering comparisons only make sense for numbers.
    pub fn is_ordering(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Number(i64),
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            // Values never hold quotes (checked when parsing), so this is exact.
            Literal::Text(s) => write!(f, "\"{s}\""),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Compare { question: QuestionId, op: Op, value: Literal },
    In { question: QuestionId, values: Vec<Literal> },
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// What a condition needs to know about an earlier answer.
pub trait AnswerLookup {
    fn answer(&self, question: &str) -> Option<&Answer>;
}

impl Condition {
    /// Whether the condition holds. A comparison with an unanswered (or
    /// hidden) question is false.
    pub fn holds(&self, answers: &impl AnswerLookup) -> bool {
        match self {
            Condition::Compare { question, op, value } => {
                answers.answer(question.as_str()).is_some_and(|a| compare(a, *op, value))
            }
            Condition::In { question, values } => {
                answers.answer(question.as_str()).is_some_and(|a| values.iter().any(|v| compare(a, Op::Eq, v)))
            }
            Condition::Not(c) => !c.holds(answers),
            Condition::And(cs) => cs.iter().all(|c| c.holds(answers)),
            Condition::Or(cs) => cs.iter().any(|c| c.holds(answers)),
        }
    }

    /// Every question the condition refers to, with the values it compares.
    pub fn references(&self) -> Vec<(&QuestionId, Op, &Literal)> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<(&'a QuestionId, Op, &'a Literal)>) {
        match self {
            Condition::Compare { question, op, value } => out.push((question, *op, value)),
            Condition::In { question, values } => out.extend(values.iter().map(|v| (question, Op::Eq, v))),
            Condition::Not(c) => c.collect(out),
            Condition::And(cs) | Condition::Or(cs) => cs.iter().for_each(|c| c.collect(out)),
        }
    }
}

fn compare(answer: &Answer, op: Op, value: &Literal) -> bool {
    match (answer, value) {
        (Answer::Scale(a) | Answer::Number(a), Literal::Number(v)) => {
            let a = i64::from(*a);
            match op {
                Op::Eq => a == *v,
                Op::Ne => a != *v,
                Op::Ge => a >= *v,
                Op::Gt => a > *v,
                Op::Le => a <= *v,
                Op::Lt => a < *v,
            }
        }
        (Answer::Choice { value: a, .. }, Literal::Text(v)) => match op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            _ => false,
        },
        (Answer::Choices { values, .. }, Literal::Text(v)) => match op {
            Op::Eq => values.iter().any(|a| a == v),
            Op::Ne => !values.iter().any(|a| a == v),
            _ => false,
        },
        _ => false,
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parenthesise whatever is not an atom inside another operator; `and`
        // inside `or` needs none since it binds tighter.
        fn part(c: &Condition, inside_and: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match c {
                Condition::Or(_) if inside_and => write!(f, "({c})"),
                Condition::And(_) | Condition::Or(_) => write!(f, "{c}"),
                _ => write!(f, "{c}"),
            }
        }
        match self {
            Condition::Compare { question, op, value } => write!(f, "{question} {} {value}", op.symbol()),
            Condition::In { question, values } => {
                write!(f, "{question} in (")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Condition::Not(c) => match **c {
                Condition::Compare { .. } | Condition::In { .. } | Condition::Not(_) => write!(f, "not {c}"),
                _ => write!(f, "not ({c})"),
            },
            Condition::And(cs) | Condition::Or(cs) => {
                let (sep, inside_and) =
                    if matches!(self, Condition::And(_)) { (" and ", true) } else { (" or ", false) };
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    part(c, inside_and, f)?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition {text:?}: {message} (at character {at})")]
pub struct ConditionError {
    pub text: String,
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(i64),
    Text(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

const MAX_CONDITION: usize = 2000;
const MAX_DEPTH: usize = 32;

fn tokenize(src: &str) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let pos = src[..pos].chars().count() + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((pos, Token::Open));
                i += 1
            }
            ')' => {
                out.push((pos, Token::Close));
                i += 1
            }
            ',' => {
                out.push((pos, Token::Comma));
                i += 1
            }
            '=' => {
                out.push((pos, Token::Op(Op::Eq)));
                i += 1
            }
            '!' | '>' | '<' => {
                let eq = chars.get(i + 1).is_some_and(|(_, n)| *n == '=');
                let op = match (c, eq) {
                    ('!', true) => Op::Ne,
                    ('>', true) => Op::Ge,
                    ('>', false) => Op::Gt,
                    ('<', true) => Op::Le,
                    ('<', false) => Op::Lt,
                    _ => return Err((pos, "`!` must be followed by `=`".into())),
                };
                out.push((pos, Token::Op(op)));
                i += if eq { 2 } else { 1 };
            }
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|(_, n)| *n == c)
                    .ok_or((pos, "a quoted value is not closed".to_string()))?;
                let text: String = chars[i + 1..i + 1 + end].iter().map(|(_, ch)| ch).collect();
                if text.contains(['"', '\'', '\\']) {
                    return Err((pos, "a value may not contain quotes or backslashes".into()));
                }
                out.push((pos, Token::Text(text)));
                i += end + 2;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let len = chars[i + 1..].iter().take_while(|(_, n)| n.is_ascii_digit()).count();
                let text: String = chars[i..i + 1 + len].iter().map(|(_, ch)| ch).collect();
                let n = text.parse::<i64>().map_err(|_| (pos, format!("{text:?} is not a whole number")))?;
                out.push((pos, Token::Number(n)));
                i += 1 + len;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..].iter().take_while(|(_, n)| n.is_ascii_alphanumeric() || *n == '_').count();
                out.push((pos, Token::Ident(chars[i..i + len].iter().map(|(_, ch)| ch).collect())));
                i += len;
            }
            other => return Err((pos, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

type ParseResult<T> = Result<T, (usize, String)>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w == word) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: Token, what: &str) -> ParseResult<()> {
        if self.peek() == Some(&want) {
            self.next += 1;
            Ok(())
        } else {
            Err((self.pos(), format!("expected {what}")))
        }
    }

    fn or(&mut self, depth: usize) -> ParseResult<Condition> {
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::Or(flatten(parts, true)) })
    }

    fn and(&mut self, depth: usize) -> ParseResult<Condition> {
        let mut parts = vec![self.factor(depth)?];
        while self.keyword("and") {
            parts.push(self.factor(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::And(flatten(parts, false)) })
    }

    fn factor(&mut self, depth: usize) -> ParseResult<Condition> {
        if depth > MAX_DEPTH {
            return Err((self.pos(), "the condition is nested too deeply".into()));
        }
        if self.keyword("not") {
            return Ok(Condition::Not(Box::new(self.factor(depth + 1)?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next += 1;
            let inner = self.or(depth + 1)?;
            self.expect(Token::Close, "`)`")?;
            return Ok(inner);
        }
        let pos = self.pos();
        let question = match self.peek() {
            Some(Token::Ident(name)) if !["and", "or", "not", "in"].contains(&name.as_str()) => {
                QuestionId::parse(name).ok_or((pos, format!("{name:?} is not a question id")))?
            }
            _ => return Err((pos, "expected a question id".into())),
        };
        self.next += 1;
        if self.keyword("in") {
            self.expect(Token::Open, "`(` after `in`")?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Token::Comma) {
                self.next += 1;
                values.push(self.literal()?);
            }
            self.expect(Token::Close, "`)` after the values")?;
            return Ok(Condition::In { question, values });
        }
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            _ => return Err((self.pos(), "expected =, !=, >=, >, <=, < or in".into())),
        };
        self.next += 1;
        let value = self.literal()?;
        Ok(Condition::Compare { question, op, value })
    }

    fn literal(&mut self) -> ParseResult<Literal> {
        let lit = match self.peek() {
            Some(Token::Number(n)) => Literal::Number(*n),
            Some(Token::Text(s)) => Literal::Text(s.clone()),
            _ => return Err((self.pos(), "expected a value: a number or a quoted text".into())),
        };
        self.next += 1;
        Ok(lit)
    }
}

/// `a or (b or c)` is `a or b or c`: one canonical form.
fn flatten(parts: Vec<Condition>, or: bool) -> Vec<Condition> {
    parts
        .into_iter()
        .flat_map(|p| match p {
            Condition::Or(inner) if or => inner,
            Condition::And(inner) if !or => inner,
            other => vec![other],
        })
        .collect()
}

impl Condition {
    /// Parses the condition syntax (see docs/questionnaire-format.md). Which
    /// questions may be referred to is checked by the definition.
    pub fn parse(src: &str) -> Result<Condition, ConditionError> {
        let err = |(at, message): (usize, String)| ConditionError { text: src.chars().take(80).collect(), at, message };
        if src.len() > MAX_CONDITION {
            return Err(err((1, format!("longer than {MAX_CONDITION} characters"))));
        }
        let tokens = tokenize(src).map_err(err)?;
        let end = src.chars().count() + 1;
        let mut p = Parser { tokens, next: 0, end };
        if p.tokens.is_empty() {
            return Err(err((1, "is empty".into())));
        }
        let c = p.or(0).map_err(err)?;
        if p.next < p.tokens.len() {
            return Err(err((p.pos(), "unexpected text after the condition".into())));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    struct Map(HashMap<&'static str, Answer>);
    impl AnswerLookup for Map {
        fn answer(&self, q: &str) -> Option<&Answer> {
            self.0.get(q)
        }
    }

    fn answers() -> Map {
        Map(HashMap::from([
            ("woon", Answer::Choice { value: "huur".into(), other: None }),
            ("leeftijd", Answer::Number(70)),
            ("hobby", Answer::Choices { values: vec!["tuin".into(), "koken".into()], other: None }),
            ("tuin", Answer::Choice { value: "yes".into(), other: None }),
        ]))
    }

    #[test]
    fn evaluates_the_documented_forms() {
        let a = answers();
        for (src, expected) in [
            ("woon = \"huur\"", true),
            ("woon = 'koop'", false),
            ("woon != \"koop\"", true),
            ("woon in (\"koop\", \"huur\")", true),
            ("leeftijd >= 65", true),
            ("leeftijd < 65", false),
            ("hobby = \"koken\"", true),
            ("hobby != \"koken\"", false),
            ("hobby in ('sport', 'tuin')", true),
            ("tuin = \"yes\" and leeftijd > 69", true),
            ("(woon = \"koop\" or leeftijd >= 3) and not tuin = \"no\"", true),
            ("onbekend = \"x\"", false),
            ("onbekend != \"x\"", false),
            ("not onbekend = \"x\"", true),
            ("woon >= 3", false),
        ] {
            assert_eq!(Condition::parse(src).unwrap().holds(&a), expected, "{src}");
        }
    }

    #[test]
    fn errors_say_where() {
        for (src, want) in [
            ("", "is empty"),
            ("woon = ", "expected a value"),
            ("woon == \"x\"", "expected a value"),
            ("woon = \"x", "not closed"),
            ("woon = \"x\" and", "expected a question id"),
            ("(woon = \"x\"", "expected `)`"),
            ("Woon = 1", "not a question id"),
            ("woon ~ 1", "unexpected character"),
            ("woon = 1 1", "unexpected text"),
            ("woon = \"a\\\"b\"", "quotes or backslashes"),
        ] {
            let e = Condition::parse(src).unwrap_err().to_string();
            assert!(e.contains(want), "{src}: {e}");
        }
        let deep = "(".repeat(100) + "a = 1" + &")".repeat(100);
        assert!(Condition::parse(&deep).unwrap_err().to_string().contains("nested too deeply"));
    }

    #[test]
    fn canonical_form_is_stable() {
        let c = Condition::parse("( a = 'x'  OR b>=3 ) and not (c = \"y\" or d = 1)").unwrap_err();
        assert!(c.message.contains("unexpected text") || c.message.contains("expected"));
        let c = Condition::parse("( a = 'x'  or (b>=3 or e<1) ) and not (c = \"y\" or d = 1)").unwrap();
        assert_eq!(c.to_string(), "(a = \"x\" or b >= 3 or e < 1) and not (c = \"y\" or d = 1)");
        assert_eq!(Condition::parse(&c.to_string()).unwrap(), c);
    }

    fn arb_condition() -> impl Strategy<Value = Condition> {
        let id = "[a-e]".prop_map(|s| QuestionId::parse(&s).unwrap());
        let lit = prop_oneof![(-50i64..50).prop_map(Literal::Number), "[a-z ]{0,5}".prop_map(Literal::Text)];
        let op = prop_oneof![Just(Op::Eq), Just(Op::Ne), Just(Op::Ge), Just(Op::Gt), Just(Op::Le), Just(Op::Lt)];
        let leaf = prop_oneof![
            (id.clone(), op, lit.clone()).prop_map(|(question, op, value)| Condition::Compare { question, op, value }),
            (id, prop::collection::vec(lit, 1..3)).prop_map(|(question, values)| Condition::In { question, values }),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| Condition::Not(Box::new(c))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|v| Condition::And(flatten(v, false))),
                prop::collection::vec(inner, 2..4).prop_map(|v| Condition::Or(flatten(v, true))),
            ]
        })
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_condition(c in arb_condition()) {
            prop_assert_eq!(Condition::parse(&c.to_string()).unwrap(), c);
        }

        #[test]
        fn any_text_parses_or_errors_without_panic(s in "\\PC{0,60}") {
            let _ = Condition::parse(&s);
        }
    }
}
