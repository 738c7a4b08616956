//! XPath 1.0 over XML documents parsed by roxmltree: the reference language of RML's XML logical
//! sources (`ql:XPath`, `rml:XPath`).
//!
//! The whole XPath 1.0 expression language is here (location paths on every axis but
//! `namespace`, predicates, unions, comparisons, arithmetic and the core function library), in
//! this one module (about 1,300 lines with its tests) rather than a crate: the XPath crates are
//! either unmaintained (sxd-xpath, last released 2019) or an XPath 3.1 engine whose dependencies
//! (ICU, a parser combinator library, big decimals) would outweigh the rest of this crate at
//! compile time (xee-xpath).
//! roxmltree is small, maintained, and says where a document breaks (line and column).
//!
//! Two liberties, both what RML mappings written for other engines expect: an unprefixed name
//! matches an element in no namespace or in the default namespace in scope (as if the document's
//! default namespace were the default element namespace of XPath 2.0), and a prefix is resolved
//! through the namespace declarations in scope in the document itself (RML gives no other
//! bindings).
//! Variables (`$x`) are not supported: RML has none to give.

use std::cell::RefCell;

type XmlNodeRef<'a> = roxmltree::Node<'a, 'a>;

/// A node of an XML document, attributes included (roxmltree keeps them apart from nodes).
/// Ordered in document order: an element, then its attributes, then its children.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct XmlNode<'a> {
    node: XmlNodeRef<'a>,
    /// 0 for the node itself; i + 1 for its i-th attribute.
    attr: usize,
}

impl<'a> XmlNode<'a> {
    pub(crate) fn new(node: XmlNodeRef<'a>) -> XmlNode<'a> {
        XmlNode { node, attr: 0 }
    }

    fn attribute(&self) -> Option<roxmltree::Attribute<'a, 'a>> {
        (self.attr > 0).then(|| self.node.attributes().nth(self.attr - 1)).flatten()
    }

    /// XPath's string-value: an element's (or the document's) descendant text, an attribute's
    /// value, a text node's text.
    pub(crate) fn string_value(&self) -> String {
        if let Some(a) = self.attribute() {
            return a.value().to_owned();
        }
        match self.node.node_type() {
            roxmltree::NodeType::Root | roxmltree::NodeType::Element => {
                self.node.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect()
            }
            roxmltree::NodeType::Text | roxmltree::NodeType::Comment => self.node.text().unwrap_or_default().to_owned(),
            roxmltree::NodeType::PI => self.node.pi().and_then(|p| p.value).unwrap_or_default().to_owned(),
        }
    }

    /// A number that names the node within its document run (for fresh blank nodes).
    pub(crate) fn address(&self) -> usize {
        let doc = std::ptr::from_ref(self.node.document()) as usize;
        doc.wrapping_add(self.node.id().get_usize() * 64 + self.attr)
    }

    pub(crate) fn is_attribute(&self) -> bool {
        self.attr > 0
    }

    pub(crate) fn is_text(&self) -> bool {
        self.attr == 0 && self.node.is_text()
    }

    /// The node and its descendants (not their attributes): what reading its string-value reads.
    pub(crate) fn subtree(&self) -> Vec<XmlNode<'a>> {
        if self.attr > 0 {
            return vec![*self];
        }
        self.node.descendants().map(XmlNode::new).collect()
    }

    /// The node's attributes.
    pub(crate) fn attributes(&self) -> Vec<XmlNode<'a>> {
        if self.attr > 0 {
            return Vec::new();
        }
        (1..=self.node.attributes().len()).map(|attr| XmlNode { node: self.node, attr }).collect()
    }

    /// Whether it is a text node with more than whitespace.
    pub(crate) fn has_text(&self) -> bool {
        self.is_text() && self.node.text().is_some_and(|t| !t.trim().is_empty())
    }

    /// Whether `self` is `scope` or lies inside it.
    pub(crate) fn within(&self, scope: &XmlNode<'a>) -> bool {
        if scope.attr > 0 {
            return self == scope;
        }
        let (outer, inner) = (scope.node.range(), self.node.range());
        std::ptr::eq(self.node.document(), scope.node.document()) && outer.start <= inner.start && inner.end <= outer.end
    }

    /// The node's name as written (`prefix:local`), for paths shown to users.
    pub(crate) fn name(&self) -> String {
        let (ns, local) = match self.attribute() {
            Some(a) => (a.namespace(), a.name()),
            None => (self.node.tag_name().namespace(), self.node.tag_name().name()),
        };
        match ns.and_then(|uri| self.node.lookup_prefix(uri)).filter(|p| !p.is_empty()) {
            Some(prefix) => format!("{prefix}:{local}"),
            None => local.to_owned(),
        }
    }

    pub(crate) fn parent(&self) -> Option<XmlNode<'a>> {
        if self.attr > 0 { Some(XmlNode::new(self.node)) } else { self.node.parent().map(XmlNode::new) }
    }

    pub(crate) fn is_element(&self) -> bool {
        self.attr == 0 && self.node.is_element()
    }
}

/// A parsed XPath expression.
#[derive(Debug, Clone)]
pub struct XPath {
    expr: Expr,
    text: String,
}

impl std::fmt::Display for XPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What evaluating an expression gives.
enum Val<'a> {
    Nodes(Vec<XmlNode<'a>>),
    Str(String),
    Num(f64),
    Bool(bool),
}

struct Ctx<'a> {
    node: XmlNode<'a>,
    pos: usize,
    size: usize,
}

/// State of one evaluation: the record that absolute paths are confined to, and the nodes whose
/// values were read (for `connector check`'s unmapped fields).
struct Eval<'a> {
    scope: Option<XmlNode<'a>>,
    read: Option<RefCell<Vec<XmlNode<'a>>>>,
}

impl XPath {
    pub fn parse(text: &str) -> Result<XPath, crate::SourceError> {
        let tokens = tokenize(text).map_err(|e| format!("{text:?} is not a valid XPath: {e}"))?;
        let mut p = Parser { tokens, at: 0 };
        let expr = p.expr().map_err(|e| format!("{text:?} is not a valid XPath: {e}"))?;
        if p.at < p.tokens.len() {
            return Err(format!("{text:?} is not a valid XPath: unexpected {} after the expression", p.tokens[p.at]).into());
        }
        Ok(XPath { expr, text: text.trim().to_owned() })
    }

    /// Whether the expression is the context node itself (`.`).
    pub(crate) fn is_self(&self) -> bool {
        matches!(&self.expr, Expr::Path(Start::Context, steps) if steps.len() == 1 && steps[0].axis == Axis::Itself && steps[0].test == Test::Node && steps[0].predicates.is_empty())
    }

    /// The nodes the expression selects from `node`; an expression that gives no node-set is an
    /// error. An absolute path finds only nodes within `scope`, when given (a record of a larger
    /// document: `/STUDY_SET/STUDY` finds the record itself, not its siblings).
    pub(crate) fn select<'a>(&self, node: XmlNode<'a>, scope: Option<XmlNode<'a>>) -> Result<Vec<XmlNode<'a>>, String> {
        let ev = Eval { scope, read: None };
        match ev.eval(&self.expr, &Ctx { node, pos: 1, size: 1 })? {
            Val::Nodes(n) => Ok(n),
            _ => Err(format!("XPath {} gives a value, not nodes to iterate over", self.text)),
        }
    }

    /// The values the expression gives: each selected node's string-value, or the one string of
    /// an expression that is not a path (`concat(…)`, `count(…)`).
    pub(crate) fn strings(&self, node: XmlNode<'_>) -> Result<Vec<String>, String> {
        let ev = Eval { scope: None, read: None };
        Ok(match ev.eval(&self.expr, &Ctx { node, pos: 1, size: 1 })? {
            Val::Nodes(n) => n.iter().map(XmlNode::string_value).collect(),
            other => vec![other.into_string()],
        })
    }

    /// The nodes an iterator's predicates compare while it selects from `node` (within
    /// `scope`): `PUBLICATION[DB_TYPE='PUBMED']` reads DB_TYPE, not the publications it selects.
    pub(crate) fn compared_nodes<'a>(&self, node: XmlNode<'a>, scope: Option<XmlNode<'a>>) -> Vec<XmlNode<'a>> {
        let ev = Eval { scope, read: Some(RefCell::new(Vec::new())) };
        let _ = ev.eval(&self.expr, &Ctx { node, pos: 1, size: 1 });
        ev.read.map(RefCell::into_inner).unwrap_or_default()
    }

    /// The nodes whose values the expression reads from `node`: what it selects, and what its
    /// predicates and functions compare (`STUDY_ATTRIBUTE[TAG='x']/VALUE` reads TAG too).
    pub(crate) fn read_nodes<'a>(&self, node: XmlNode<'a>) -> Vec<XmlNode<'a>> {
        let ev = Eval { scope: None, read: Some(RefCell::new(Vec::new())) };
        let result = ev.eval(&self.expr, &Ctx { node, pos: 1, size: 1 });
        let mut read = ev.read.map(RefCell::into_inner).unwrap_or_default();
        if let Ok(Val::Nodes(n)) = result {
            read.extend(n);
        }
        read
    }
}

impl<'a> Val<'a> {
    fn into_string(self) -> String {
        match self {
            Val::Nodes(n) => n.first().map(XmlNode::string_value).unwrap_or_default(),
            Val::Str(s) => s,
            Val::Num(n) => number_to_string(n),
            Val::Bool(b) => b.to_string(),
        }
    }

    fn to_bool(&self) -> bool {
        match self {
            Val::Nodes(n) => !n.is_empty(),
            Val::Str(s) => !s.is_empty(),
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Bool(b) => *b,
        }
    }
}

fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n == 0.0 {
        "0".to_owned()
    } else {
        n.to_string()
    }
}

/// XPath's number(): an optional minus, digits with an optional decimal point, nothing else.
fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches([' ', '\t', '\n', '\r']);
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = !digits.is_empty()
        && digits != "."
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if valid { t.parse().unwrap_or(f64::NAN) } else { f64::NAN }
}

// ---------------------------------------------------------------------------------------------
// Syntax

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Slash,
    DoubleSlash,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `*` as a name test.
    Star,
    /// `*` as multiplication.
    Mul,
    /// `and`, `or`, `div`, `mod` in operator position.
    OpName(String),
    /// A QName, or `prefix:*`.
    Name(String),
    Literal(String),
    Number(f64),
    Variable(String),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Name(n) | Token::OpName(n) => write!(f, "{n:?}"),
            Token::Literal(l) => write!(f, "the string {l:?}"),
            Token::Number(n) => write!(f, "the number {n}"),
            Token::Variable(v) => write!(f, "${v}"),
            other => write!(f, "{other:?}"),
        }
    }
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || !c.is_ascii() && !c.is_whitespace()
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.'
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    // XPath 1.0 §3.7: after a token that can end an operand, `*` multiplies and a name is an
    // operator.
    let operand_ended = |tokens: &[Token]| {
        tokens.last().is_some_and(|t| {
            !matches!(
                t,
                Token::At
                    | Token::ColonColon
                    | Token::LParen
                    | Token::LBracket
                    | Token::Comma
                    | Token::Slash
                    | Token::DoubleSlash
                    | Token::Pipe
                    | Token::Plus
                    | Token::Minus
                    | Token::Eq
                    | Token::Ne
                    | Token::Lt
                    | Token::Le
                    | Token::Gt
                    | Token::Ge
                    | Token::Mul
                    | Token::OpName(_)
            )
        })
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let token = match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '/' if next == Some('/') => Token::DoubleSlash,
            '/' => Token::Slash,
            '(' => Token::LParen,
            ')' => Token::RParen,
            '[' => Token::LBracket,
            ']' => Token::RBracket,
            '.' if next == Some('.') => Token::DotDot,
            '.' if next.is_some_and(|d| d.is_ascii_digit()) => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                tokens.push(Token::Number(s.parse().map_err(|_| format!("bad number {s:?}"))?));
                continue;
            }
            '.' => Token::Dot,
            '@' => Token::At,
            ',' => Token::Comma,
            ':' if next == Some(':') => Token::ColonColon,
            '|' => Token::Pipe,
            '+' => Token::Plus,
            '-' => Token::Minus,
            '=' => Token::Eq,
            '!' if next == Some('=') => Token::Ne,
            '<' if next == Some('=') => Token::Le,
            '<' => Token::Lt,
            '>' if next == Some('=') => Token::Ge,
            '>' => Token::Gt,
            '*' if operand_ended(&tokens) => Token::Mul,
            '*' => Token::Star,
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&q| q == c).ok_or("a string literal is not closed")?;
                tokens.push(Token::Literal(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
                continue;
            }
            '$' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && (is_name_char(chars[i]) || chars[i] == ':') {
                    i += 1;
                }
                tokens.push(Token::Variable(chars[start..i].iter().collect()));
                continue;
            }
            d if d.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                tokens.push(Token::Number(s.parse().map_err(|_| format!("bad number {s:?}"))?));
                continue;
            }
            n if is_name_start(n) => {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                // prefix:local or prefix:* (but not the axis separator `::`).
                if chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':') {
                    match chars.get(i + 1) {
                        Some('*') => i += 2,
                        Some(&n) if is_name_start(n) => {
                            i += 1;
                            while i < chars.len() && is_name_char(chars[i]) {
                                i += 1;
                            }
                        }
                        _ => return Err(format!("a name ends with ':' at character {}", i + 1)),
                    }
                }
                let name: String = chars[start..i].iter().collect();
                if operand_ended(&tokens) && matches!(name.as_str(), "and" | "or" | "div" | "mod") {
                    tokens.push(Token::OpName(name));
                } else {
                    tokens.push(Token::Name(name));
                }
                continue;
            }
            other => return Err(format!("unexpected character {other:?} at character {}", i + 1)),
        };
        i += match token {
            Token::DoubleSlash | Token::DotDot | Token::ColonColon | Token::Ne | Token::Le | Token::Ge => 2,
            _ => 1,
        };
        tokens.push(token);
    }
    Ok(tokens)
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare(Cmp, Box<Expr>, Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    /// A location path, from the root, the context node, or the nodes a filter expression gives.
    Path(Start, Vec<Step>),
    Filter(Box<Expr>, Vec<Expr>),
    Literal(String),
    Number(f64),
    Call(Function, Vec<Expr>),
}

#[derive(Debug, Clone)]
enum Start {
    Root,
    Context,
    Expr(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
struct Step {
    axis: Axis,
    test: Test,
    predicates: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Parent,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
    Attribute,
    Itself,
    Namespace,
}

impl Axis {
    fn reverse(self) -> bool {
        matches!(self, Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling | Axis::Preceding)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// `*`, or `prefix:*` with the prefix.
    Any(Option<String>),
    Name(Option<String>, String),
    Text,
    Comment,
    Pi(Option<String>),
    Node,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    Last,
    Position,
    Count,
    LocalName,
    Name,
    NamespaceUri,
    String,
    Concat,
    StartsWith,
    EndsWith,
    Contains,
    SubstringBefore,
    SubstringAfter,
    Substring,
    StringLength,
    NormalizeSpace,
    Translate,
    LowerCase,
    UpperCase,
    Not,
    True,
    False,
    Boolean,
    Lang,
    Number,
    Sum,
    Floor,
    Ceiling,
    Round,
}

impl Function {
    /// The function of a name, and how many arguments it takes (min, max).
    fn of(name: &str) -> Option<(Function, usize, usize)> {
        use Function as F;
        Some(match name {
            "last" => (F::Last, 0, 0),
            "position" => (F::Position, 0, 0),
            "count" => (F::Count, 1, 1),
            "local-name" => (F::LocalName, 0, 1),
            "name" => (F::Name, 0, 1),
            "namespace-uri" => (F::NamespaceUri, 0, 1),
            "string" => (F::String, 0, 1),
            "concat" => (F::Concat, 2, usize::MAX),
            "starts-with" => (F::StartsWith, 2, 2),
            // XPath 2.0, but common in mappings written for Saxon-based engines.
            "ends-with" => (F::EndsWith, 2, 2),
            "contains" => (F::Contains, 2, 2),
            "substring-before" => (F::SubstringBefore, 2, 2),
            "substring-after" => (F::SubstringAfter, 2, 2),
            "substring" => (F::Substring, 2, 3),
            "string-length" => (F::StringLength, 0, 1),
            "normalize-space" => (F::NormalizeSpace, 0, 1),
            "translate" => (F::Translate, 3, 3),
            "lower-case" => (F::LowerCase, 1, 1),
            "upper-case" => (F::UpperCase, 1, 1),
            "not" => (F::Not, 1, 1),
            "true" => (F::True, 0, 0),
            "false" => (F::False, 0, 0),
            "boolean" => (F::Boolean, 1, 1),
            "lang" => (F::Lang, 1, 1),
            "number" => (F::Number, 0, 1),
            "sum" => (F::Sum, 1, 1),
            "floor" => (F::Floor, 1, 1),
            "ceiling" => (F::Ceiling, 1, 1),
            "round" => (F::Round, 1, 1),
            _ => return None,
        })
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.at + n)
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_op(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Token::OpName(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Token) -> Result<(), String> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(match self.peek() {
                Some(found) => format!("expected {t}, found {found}"),
                None => format!("expected {t}, found the end"),
            })
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_op("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.equality()?;
        while self.eat_op("and") {
            left = Expr::And(Box::new(left), Box::new(self.equality()?));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, String> {
        self.binary(Self::relational, Expr::Compare, |t| match t {
            Token::Eq => Some(Cmp::Eq),
            Token::Ne => Some(Cmp::Ne),
            _ => None,
        })
    }

    fn relational(&mut self) -> Result<Expr, String> {
        self.binary(Self::additive, Expr::Compare, |t| match t {
            Token::Lt => Some(Cmp::Lt),
            Token::Le => Some(Cmp::Le),
            Token::Gt => Some(Cmp::Gt),
            Token::Ge => Some(Cmp::Ge),
            _ => None,
        })
    }

    fn additive(&mut self) -> Result<Expr, String> {
        self.binary(Self::multiplicative, Expr::Arith, |t| match t {
            Token::Plus => Some(Arith::Add),
            Token::Minus => Some(Arith::Sub),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        self.binary(Self::unary, Expr::Arith, |t| match t {
            Token::Mul => Some(Arith::Mul),
            Token::OpName(n) if n == "div" => Some(Arith::Div),
            Token::OpName(n) if n == "mod" => Some(Arith::Mod),
            _ => None,
        })
    }

    /// One level of left-associative binary operators: operands parsed by `operand` (the next
    /// level down), `operator` saying which operator a token is at this level, `node` making the
    /// expression of an operator and its two sides.
    fn binary<O>(
        &mut self,
        operand: fn(&mut Self) -> Result<Expr, String>,
        node: fn(O, Box<Expr>, Box<Expr>) -> Expr,
        operator: impl Fn(&Token) -> Option<O>,
    ) -> Result<Expr, String> {
        let mut left = operand(self)?;
        while let Some(op) = self.peek().and_then(&operator) {
            self.at += 1;
            left = node(op, Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(&Token::Minus) {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut left = self.path()?;
        while self.eat(&Token::Pipe) {
            left = Expr::Union(Box::new(left), Box::new(self.path()?));
        }
        Ok(left)
    }

    /// Whether the next tokens begin a location step.
    fn at_step(&self) -> bool {
        match self.peek() {
            Some(Token::Dot | Token::DotDot | Token::At | Token::Star) => true,
            Some(Token::Name(n)) => match self.peek_at(1) {
                Some(Token::LParen) => matches!(n.as_str(), "node" | "text" | "comment" | "processing-instruction"),
                _ => true,
            },
            _ => false,
        }
    }

    fn path(&mut self) -> Result<Expr, String> {
        if self.eat(&Token::Slash) {
            let steps = if self.at_step() { self.relative()? } else { Vec::new() };
            return Ok(Expr::Path(Start::Root, steps));
        }
        if self.eat(&Token::DoubleSlash) {
            let mut steps = vec![descendant_or_self()];
            steps.extend(self.relative()?);
            return Ok(Expr::Path(Start::Root, steps));
        }
        if self.at_step() {
            return Ok(Expr::Path(Start::Context, self.relative()?));
        }
        let primary = self.primary()?;
        let mut predicates = Vec::new();
        while self.eat(&Token::LBracket) {
            predicates.push(self.expr()?);
            self.expect(&Token::RBracket)?;
        }
        let filter = if predicates.is_empty() { primary } else { Expr::Filter(Box::new(primary), predicates) };
        let mut steps = Vec::new();
        loop {
            if self.eat(&Token::Slash) {
                steps.push(self.step()?);
            } else if self.eat(&Token::DoubleSlash) {
                steps.push(descendant_or_self());
                steps.push(self.step()?);
            } else {
                break;
            }
        }
        Ok(if steps.is_empty() { filter } else { Expr::Path(Start::Expr(Box::new(filter)), steps) })
    }

    fn relative(&mut self) -> Result<Vec<Step>, String> {
        let mut steps = vec![self.step()?];
        loop {
            if self.eat(&Token::Slash) {
                steps.push(self.step()?);
            } else if self.eat(&Token::DoubleSlash) {
                steps.push(descendant_or_self());
                steps.push(self.step()?);
            } else {
                return Ok(steps);
            }
        }
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.eat(&Token::Dot) {
            return Ok(Step { axis: Axis::Itself, test: Test::Node, predicates: Vec::new() });
        }
        if self.eat(&Token::DotDot) {
            return Ok(Step { axis: Axis::Parent, test: Test::Node, predicates: Vec::new() });
        }
        let axis = if self.eat(&Token::At) {
            Axis::Attribute
        } else if let (Some(Token::Name(n)), Some(Token::ColonColon)) = (self.peek(), self.peek_at(1)) {
            let axis = match n.as_str() {
                "child" => Axis::Child,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "parent" => Axis::Parent,
                "ancestor" => Axis::Ancestor,
                "ancestor-or-self" => Axis::AncestorOrSelf,
                "following-sibling" => Axis::FollowingSibling,
                "preceding-sibling" => Axis::PrecedingSibling,
                "following" => Axis::Following,
                "preceding" => Axis::Preceding,
                "attribute" => Axis::Attribute,
                "self" => Axis::Itself,
                "namespace" => Axis::Namespace,
                other => return Err(format!("unknown axis {other:?}")),
            };
            self.at += 2;
            axis
        } else {
            Axis::Child
        };
        let test = match self.peek().cloned() {
            Some(Token::Star) => {
                self.at += 1;
                Test::Any(None)
            }
            Some(Token::Name(n)) if self.peek_at(1) == Some(&Token::LParen) => {
                self.at += 2;
                let test = match n.as_str() {
                    "node" => Test::Node,
                    "text" => Test::Text,
                    "comment" => Test::Comment,
                    "processing-instruction" => match self.peek().cloned() {
                        Some(Token::Literal(l)) => {
                            self.at += 1;
                            Test::Pi(Some(l))
                        }
                        _ => Test::Pi(None),
                    },
                    other => return Err(format!("{other}() is a function, not a step")),
                };
                self.expect(&Token::RParen)?;
                test
            }
            Some(Token::Name(n)) => {
                self.at += 1;
                match n.split_once(':') {
                    Some((prefix, "*")) => Test::Any(Some(prefix.to_owned())),
                    Some((prefix, local)) => Test::Name(Some(prefix.to_owned()), local.to_owned()),
                    None => Test::Name(None, n),
                }
            }
            Some(other) => return Err(format!("expected a node test, found {other}")),
            None => return Err("expected a node test, found the end".to_owned()),
        };
        let mut predicates = Vec::new();
        while self.eat(&Token::LBracket) {
            predicates.push(self.expr()?);
            self.expect(&Token::RBracket)?;
        }
        Ok(Step { axis, test, predicates })
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.at += 1;
                let e = self.expr()?;
                self.expect(&Token::RParen)?;
                Ok(e)
            }
            Some(Token::Literal(l)) => {
                self.at += 1;
                Ok(Expr::Literal(l))
            }
            Some(Token::Number(n)) => {
                self.at += 1;
                Ok(Expr::Number(n))
            }
            Some(Token::Variable(v)) => Err(format!("variables are not supported (${v})")),
            Some(Token::Name(name)) if self.peek_at(1) == Some(&Token::LParen) => {
                self.at += 2;
                let (function, min, max) = Function::of(&name).ok_or_else(|| format!("unknown function {name}()"))?;
                let mut args = Vec::new();
                if !self.eat(&Token::RParen) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Token::RParen) {
                            break;
                        }
                        self.expect(&Token::Comma)?;
                    }
                }
                if args.len() < min || args.len() > max {
                    return Err(format!("{name}() takes {} arguments, given {}", if min == max { min.to_string() } else { format!("{min} or more") }, args.len()));
                }
                Ok(Expr::Call(function, args))
            }
            Some(other) => Err(format!("unexpected {other}")),
            None => Err("the expression ends too early".to_owned()),
        }
    }
}

fn descendant_or_self() -> Step {
    Step { axis: Axis::DescendantOrSelf, test: Test::Node, predicates: Vec::new() }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

impl<'a> Eval<'a> {
    fn note(&self, nodes: &[XmlNode<'a>]) {
        if let Some(read) = &self.read {
            read.borrow_mut().extend_from_slice(nodes);
        }
    }

    fn string(&self, v: Val<'a>) -> String {
        if let Val::Nodes(n) = &v {
            self.note(&n[..n.len().min(1)]);
        }
        v.into_string()
    }

    fn number(&self, v: Val<'a>) -> f64 {
        match v {
            Val::Num(n) => n,
            Val::Bool(b) => f64::from(u8::from(b)),
            other => string_to_number(&self.string(other)),
        }
    }

    fn nodes(&self, v: Val<'a>, what: &str) -> Result<Vec<XmlNode<'a>>, String> {
        match v {
            Val::Nodes(n) => Ok(n),
            _ => Err(format!("{what} needs nodes, not a value")),
        }
    }

    fn eval(&self, expr: &Expr, cx: &Ctx<'a>) -> Result<Val<'a>, String> {
        Ok(match expr {
            Expr::Or(a, b) => Val::Bool(self.eval(a, cx)?.to_bool() || self.eval(b, cx)?.to_bool()),
            Expr::And(a, b) => Val::Bool(self.eval(a, cx)?.to_bool() && self.eval(b, cx)?.to_bool()),
            Expr::Compare(op, a, b) => Val::Bool(self.compare(*op, self.eval(a, cx)?, self.eval(b, cx)?)),
            Expr::Arith(op, a, b) => {
                let (x, y) = (self.number(self.eval(a, cx)?), self.number(self.eval(b, cx)?));
                Val::Num(match op {
                    Arith::Add => x + y,
                    Arith::Sub => x - y,
                    Arith::Mul => x * y,
                    Arith::Div => x / y,
                    Arith::Mod => x % y,
                })
            }
            Expr::Neg(a) => Val::Num(-self.number(self.eval(a, cx)?)),
            Expr::Union(a, b) => {
                let mut n = self.nodes(self.eval(a, cx)?, "'|'")?;
                n.extend(self.nodes(self.eval(b, cx)?, "'|'")?);
                n.sort_unstable();
                n.dedup();
                Val::Nodes(n)
            }
            Expr::Path(start, steps) => {
                let (mut nodes, scoped) = match start {
                    Start::Root => (vec![XmlNode::new(cx.node.node.document().root())], self.scope.is_some()),
                    Start::Context => (vec![cx.node], false),
                    Start::Expr(e) => (self.nodes(self.eval(e, cx)?, "a path step")?, false),
                };
                for step in steps {
                    nodes = self.step(step, &nodes, self.scope.as_ref().filter(|_| scoped))?;
                    if scoped && let Some(scope) = &self.scope {
                        // Keep the record, what leads to it, and what lies in it.
                        nodes.retain(|n| n.within(scope) || scope.within(n));
                    }
                }
                if scoped && let Some(scope) = &self.scope {
                    nodes.retain(|n| n.within(scope));
                }
                Val::Nodes(nodes)
            }
            Expr::Filter(primary, predicates) => {
                let mut nodes = self.nodes(self.eval(primary, cx)?, "a predicate")?;
                for p in predicates {
                    nodes = self.filter(nodes, p)?;
                }
                Val::Nodes(nodes)
            }
            Expr::Literal(s) => Val::Str(s.clone()),
            Expr::Number(n) => Val::Num(*n),
            Expr::Call(f, args) => self.call(*f, args, cx)?,
        })
    }

    /// One location step from each node of `from`. With a `scope` (an absolute path confined to a
    /// record), a step without predicates walks straight down to the record instead of through
    /// all its siblings: what is outside the record is dropped after the step anyway, and with
    /// no predicate no position depends on it. Without this, mapping the records of a document
    /// one by one would take time quadratic in their number.
    fn step(&self, step: &Step, from: &[XmlNode<'a>], scope: Option<&XmlNode<'a>>) -> Result<Vec<XmlNode<'a>>, String> {
        let mut out = Vec::new();
        for node in from {
            let shortcut = scope.filter(|_| step.predicates.is_empty()).and_then(|scope| toward(step.axis, node, scope));
            let candidates: Vec<XmlNode<'a>> =
                shortcut.unwrap_or_else(|| axis(step.axis, node)).into_iter().filter(|n| matches(&step.test, step.axis, n)).collect();
            let mut selected = candidates;
            for p in &step.predicates {
                selected = self.filter(selected, p)?;
            }
            out.extend(selected);
        }
        if from.len() > 1 || step.axis.reverse() {
            out.sort_unstable();
            out.dedup();
        }
        Ok(out)
    }

    /// Keeps the nodes (in axis order) for which the predicate holds: a number is a position.
    fn filter(&self, nodes: Vec<XmlNode<'a>>, predicate: &Expr) -> Result<Vec<XmlNode<'a>>, String> {
        let size = nodes.len();
        let mut kept = Vec::new();
        for (i, node) in nodes.into_iter().enumerate() {
            let cx = Ctx { node, pos: i + 1, size };
            let keep = match self.eval(predicate, &cx)? {
                Val::Num(n) => n == (i + 1) as f64,
                other => other.to_bool(),
            };
            if keep {
                kept.push(node);
            }
        }
        Ok(kept)
    }

    fn compare(&self, op: Cmp, a: Val<'a>, b: Val<'a>) -> bool {
        let strings = |nodes: &[XmlNode<'a>]| -> Vec<String> {
            self.note(nodes);
            nodes.iter().map(XmlNode::string_value).collect()
        };
        let test_str = |x: &str, y: &str| match op {
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
            _ => test_num(op, string_to_number(x), string_to_number(y)),
        };
        match (a, b) {
            (Val::Nodes(x), Val::Nodes(y)) => {
                let (x, y) = (strings(&x), strings(&y));
                x.iter().any(|s| y.iter().any(|t| test_str(s, t)))
            }
            (Val::Nodes(x), Val::Bool(b)) => test_bool(op, !x.is_empty(), b),
            (Val::Bool(b), Val::Nodes(y)) => test_bool(op, b, !y.is_empty()),
            (Val::Nodes(x), Val::Num(n)) => strings(&x).iter().any(|s| test_num(op, string_to_number(s), n)),
            (Val::Num(n), Val::Nodes(y)) => strings(&y).iter().any(|s| test_num(op, n, string_to_number(s))),
            (Val::Nodes(x), Val::Str(t)) => strings(&x).iter().any(|s| test_str(s, &t)),
            (Val::Str(s), Val::Nodes(y)) => strings(&y).iter().any(|t| test_str(&s, t)),
            (a, b) if matches!(op, Cmp::Eq | Cmp::Ne) => {
                if matches!(a, Val::Bool(_)) || matches!(b, Val::Bool(_)) {
                    test_bool(op, a.to_bool(), b.to_bool())
                } else if matches!(a, Val::Num(_)) || matches!(b, Val::Num(_)) {
                    test_num(op, self.number(a), self.number(b))
                } else {
                    test_str(&a.into_string(), &b.into_string())
                }
            }
            (a, b) => test_num(op, self.number(a), self.number(b)),
        }
    }

    fn call(&self, f: Function, args: &[Expr], cx: &Ctx<'a>) -> Result<Val<'a>, String> {
        use Function as F;
        let arg = |i: usize| -> Result<Val<'a>, String> { self.eval(&args[i], cx) };
        let string_arg = |i: usize| -> Result<String, String> {
            if i < args.len() { Ok(self.string(arg(i)?)) } else { Ok(self.string(Val::Nodes(vec![cx.node]))) }
        };
        let node_arg = |what: &str| -> Result<Option<XmlNode<'a>>, String> {
            if args.is_empty() { Ok(Some(cx.node)) } else { Ok(self.nodes(arg(0)?, what)?.first().copied()) }
        };
        Ok(match f {
            F::Last => Val::Num(cx.size as f64),
            F::Position => Val::Num(cx.pos as f64),
            F::Count => Val::Num(self.nodes(arg(0)?, "count()")?.len() as f64),
            F::LocalName => Val::Str(node_arg("local-name()")?.map(|n| local_name(&n)).unwrap_or_default()),
            F::Name => Val::Str(node_arg("name()")?.filter(|n| n.is_element() || n.is_attribute()).map(|n| n.name()).unwrap_or_default()),
            F::NamespaceUri => Val::Str(node_arg("namespace-uri()")?.and_then(|n| namespace_uri(&n)).unwrap_or_default()),
            F::String => Val::Str(string_arg(0)?),
            F::Concat => Val::Str((0..args.len()).map(string_arg).collect::<Result<String, String>>()?),
            F::StartsWith => Val::Bool(string_arg(0)?.starts_with(&string_arg(1)?)),
            F::EndsWith => Val::Bool(string_arg(0)?.ends_with(&string_arg(1)?)),
            F::Contains => Val::Bool(string_arg(0)?.contains(&string_arg(1)?)),
            F::SubstringBefore => {
                let (s, t) = (string_arg(0)?, string_arg(1)?);
                Val::Str(s.find(&t).map(|i| s[..i].to_owned()).unwrap_or_default())
            }
            F::SubstringAfter => {
                let (s, t) = (string_arg(0)?, string_arg(1)?);
                Val::Str(s.find(&t).map(|i| s[i + t.len()..].to_owned()).unwrap_or_default())
            }
            F::Substring => {
                let s = string_arg(0)?;
                let start = round(self.number(arg(1)?));
                let end = if args.len() > 2 { start + round(self.number(arg(2)?)) } else { f64::INFINITY };
                Val::Str(
                    s.chars().enumerate().filter(|(i, _)| (*i + 1) as f64 >= start && ((*i + 1) as f64) < end).map(|(_, c)| c).collect(),
                )
            }
            F::StringLength => Val::Num(string_arg(0)?.chars().count() as f64),
            F::NormalizeSpace => Val::Str(string_arg(0)?.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")),
            F::Translate => {
                let (s, from, to) = (string_arg(0)?, string_arg(1)?, string_arg(2)?);
                let to: Vec<char> = to.chars().collect();
                Val::Str(
                    s.chars()
                        .filter_map(|c| match from.chars().position(|f| f == c) {
                            Some(i) => to.get(i).copied(),
                            None => Some(c),
                        })
                        .collect(),
                )
            }
            F::LowerCase => Val::Str(string_arg(0)?.to_lowercase()),
            F::UpperCase => Val::Str(string_arg(0)?.to_uppercase()),
            F::Not => Val::Bool(!arg(0)?.to_bool()),
            F::True => Val::Bool(true),
            F::False => Val::Bool(false),
            F::Boolean => Val::Bool(arg(0)?.to_bool()),
            F::Lang => {
                let wanted = string_arg(0)?.to_lowercase();
                let lang = std::iter::successors(Some(cx.node.node), |n| n.parent())
                    .find_map(|n| n.attribute(("http://www.w3.org/XML/1998/namespace", "lang")))
                    .map(str::to_lowercase);
                Val::Bool(lang.is_some_and(|l| l == wanted || l.starts_with(&format!("{wanted}-"))))
            }
            F::Number => Val::Num(if args.is_empty() { self.number(Val::Nodes(vec![cx.node])) } else { self.number(arg(0)?) }),
            F::Sum => {
                let nodes = self.nodes(arg(0)?, "sum()")?;
                self.note(&nodes);
                Val::Num(nodes.iter().map(|n| string_to_number(&n.string_value())).sum())
            }
            F::Floor => Val::Num(self.number(arg(0)?).floor()),
            F::Ceiling => Val::Num(self.number(arg(0)?).ceil()),
            F::Round => Val::Num(round(self.number(arg(0)?))),
        })
    }
}

/// XPath's round(): halves go towards positive infinity.
fn round(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() { x } else { (x + 0.5).floor() }
}

fn test_num(op: Cmp, x: f64, y: f64) -> bool {
    match op {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}

fn test_bool(op: Cmp, x: bool, y: bool) -> bool {
    match op {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        _ => test_num(op, f64::from(u8::from(x)), f64::from(u8::from(y))),
    }
}

fn local_name(n: &XmlNode<'_>) -> String {
    match n.attribute() {
        Some(a) => a.name().to_owned(),
        None if n.node.is_element() => n.node.tag_name().name().to_owned(),
        None => n.node.pi().map(|p| p.target.to_owned()).unwrap_or_default(),
    }
}

fn namespace_uri(n: &XmlNode<'_>) -> Option<String> {
    match n.attribute() {
        Some(a) => a.namespace().map(str::to_owned),
        None => n.node.tag_name().namespace().map(str::to_owned),
    }
}

/// The nodes on `axis` from `node`, in axis order (reverse document order for reverse axes).
fn axis<'a>(axis: Axis, n: &XmlNode<'a>) -> Vec<XmlNode<'a>> {
    let node = n.node;
    let wrap = |it: &mut dyn Iterator<Item = XmlNodeRef<'a>>| it.map(XmlNode::new).collect::<Vec<_>>();
    if n.attr > 0 {
        return match axis {
            Axis::Itself => vec![*n],
            Axis::Parent => vec![XmlNode::new(node)],
            Axis::Ancestor => wrap(&mut node.ancestors()),
            Axis::AncestorOrSelf => std::iter::once(*n).chain(node.ancestors().map(XmlNode::new)).collect(),
            Axis::Following => {
                let mut out = wrap(&mut node.descendants().skip(1));
                out.extend(axis_following(node));
                out
            }
            Axis::Preceding => axis_preceding(node),
            _ => Vec::new(),
        };
    }
    match axis {
        Axis::Child => wrap(&mut node.children()),
        Axis::Descendant => wrap(&mut node.descendants().skip(1)),
        Axis::DescendantOrSelf => wrap(&mut node.descendants()),
        Axis::Parent => wrap(&mut node.parent().into_iter()),
        Axis::Ancestor => wrap(&mut node.ancestors().skip(1)),
        Axis::AncestorOrSelf => wrap(&mut node.ancestors()),
        Axis::FollowingSibling => wrap(&mut node.next_siblings().skip(1)),
        Axis::PrecedingSibling => wrap(&mut node.prev_siblings().skip(1)),
        Axis::Following => axis_following(node),
        Axis::Preceding => axis_preceding(node),
        Axis::Attribute => (1..=node.attributes().len()).map(|attr| XmlNode { node, attr }).collect(),
        Axis::Itself => vec![*n],
        Axis::Namespace => Vec::new(),
    }
}

/// The nodes on `axis` from `node` that lead to or lie in `scope`, when `node` is above the
/// scope and the axis goes down; `None` otherwise.
fn toward<'a>(axis: Axis, node: &XmlNode<'a>, scope: &XmlNode<'a>) -> Option<Vec<XmlNode<'a>>> {
    if node.attr > 0 || scope.attr > 0 || node == scope || !scope.within(node) {
        return None;
    }
    // The scope's ancestors below `node`, and the scope itself, in document order.
    let mut chain: Vec<XmlNode<'a>> = scope.node.ancestors().take_while(|a| *a != node.node).map(XmlNode::new).collect();
    chain.reverse();
    let down = |chain: &[XmlNode<'a>]| chain[..chain.len() - 1].iter().copied().chain(scope.subtree()).collect::<Vec<_>>();
    match axis {
        Axis::Child => chain.first().map(|c| vec![*c]),
        Axis::Descendant => Some(down(&chain)),
        Axis::DescendantOrSelf => Some(std::iter::once(*node).chain(down(&chain)).collect()),
        _ => None,
    }
}

fn axis_following(node: XmlNodeRef<'_>) -> Vec<XmlNode<'_>> {
    let mut out = Vec::new();
    for a in node.ancestors() {
        for sibling in a.next_siblings().skip(1) {
            out.extend(sibling.descendants().map(XmlNode::new));
        }
    }
    out
}

fn axis_preceding(node: XmlNodeRef<'_>) -> Vec<XmlNode<'_>> {
    let ancestors: Vec<XmlNodeRef<'_>> = node.ancestors().collect();
    let mut out: Vec<XmlNode<'_>> =
        node.document().root().descendants().take_while(|d| *d != node).filter(|d| !ancestors.contains(d)).map(XmlNode::new).collect();
    out.reverse();
    out
}

fn matches(test: &Test, axis: Axis, n: &XmlNode<'_>) -> bool {
    // The principal node type: attributes on the attribute axis, elements elsewhere.
    let principal = if axis == Axis::Attribute { n.is_attribute() } else { n.is_element() };
    match test {
        Test::Node => true,
        Test::Text => n.is_text(),
        Test::Comment => n.attr == 0 && n.node.is_comment(),
        Test::Pi(target) => n.attr == 0 && n.node.pi().is_some_and(|p| target.as_deref().is_none_or(|t| t == p.target)),
        Test::Any(None) => principal,
        Test::Any(Some(prefix)) => {
            principal && namespace_uri(n).is_some_and(|uri| n.node.lookup_namespace_uri(Some(prefix)) == Some(uri.as_str()))
        }
        Test::Name(prefix, local) => {
            if !principal || local_name(n) != *local {
                return false;
            }
            match (prefix, n.attribute()) {
                (None, Some(a)) => a.namespace().is_none(),
                (None, None) => n.node.tag_name().namespace().is_none_or(|ns| n.node.default_namespace() == Some(ns)),
                (Some(p), _) => namespace_uri(n).is_some_and(|uri| n.node.lookup_namespace_uri(Some(p)) == Some(uri.as_str())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUDY: &str = r#"<?xml version="1.0"?>
<STUDY_SET>
  <STUDY alias="S1" accession="JGAS1">
    <IDENTIFIERS><SECONDARY_ID>X1</SECONDARY_ID><SECONDARY_ID>X2</SECONDARY_ID></IDENTIFIERS>
    <DESCRIPTOR><STUDY_TITLE>First &amp; foremost</STUDY_TITLE></DESCRIPTOR>
    <STUDY_ATTRIBUTES>
      <STUDY_ATTRIBUTE><TAG>NBDC Number</TAG><VALUE>hum0004</VALUE></STUDY_ATTRIBUTE>
      <STUDY_ATTRIBUTE><TAG>Principal Investigator</TAG><VALUE>Someone</VALUE></STUDY_ATTRIBUTE>
    </STUDY_ATTRIBUTES>
  </STUDY>
  <STUDY alias="S2" accession="JGAS2"><DESCRIPTOR><STUDY_TITLE>Second</STUDY_TITLE></DESCRIPTOR></STUDY>
</STUDY_SET>"#;

    fn eval(doc: &roxmltree::Document<'_>, context: &str, expr: &str) -> Vec<String> {
        let root = XmlNode::new(doc.root());
        let node = XPath::parse(context).unwrap().select(root, None).unwrap()[0];
        XPath::parse(expr).unwrap_or_else(|e| panic!("{e}")).strings(node).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn paths_attributes_predicates_and_functions() {
        let doc = roxmltree::Document::parse(STUDY).unwrap();
        let all = |e: &str| XPath::parse(e).unwrap().select(XmlNode::new(doc.root()), None).unwrap().len();
        assert_eq!(all("/STUDY_SET/STUDY"), 2);
        assert_eq!(all("//STUDY_ATTRIBUTE"), 2);
        assert_eq!(all("/STUDY_SET/STUDY[@accession='JGAS2']"), 1);
        assert_eq!(all("/STUDY_SET/STUDY[last()]/@alias"), 1);
        let first = "/STUDY_SET/STUDY[1]";
        assert_eq!(eval(&doc, first, "@accession"), ["JGAS1"]);
        assert_eq!(eval(&doc, first, "DESCRIPTOR/STUDY_TITLE"), ["First & foremost"]);
        assert_eq!(eval(&doc, first, "IDENTIFIERS/SECONDARY_ID"), ["X1", "X2"]);
        assert_eq!(eval(&doc, first, "STUDY_ATTRIBUTES/STUDY_ATTRIBUTE[TAG='NBDC Number']/VALUE"), ["hum0004"]);
        assert_eq!(eval(&doc, first, "STUDY_ATTRIBUTES/STUDY_ATTRIBUTE[TAG!='NBDC Number']/VALUE"), ["Someone"]);
        assert_eq!(eval(&doc, "//SECONDARY_ID[2]", "text()"), ["X2"]);
        assert_eq!(eval(&doc, "//SECONDARY_ID[2]", "../../@alias"), ["S1"]);
        assert_eq!(eval(&doc, "//SECONDARY_ID[2]", "ancestor::STUDY/@accession"), ["JGAS1"]);
        assert_eq!(eval(&doc, first, "count(IDENTIFIERS/*)"), ["2"]);
        assert_eq!(eval(&doc, first, "concat(@alias, '-', substring-after(@accession, 'JGAS'))"), ["S1-1"]);
        assert_eq!(eval(&doc, first, "following-sibling::STUDY/@alias | @alias"), ["S1", "S2"]);
        assert_eq!(eval(&doc, first, "IDENTIFIERS/SECONDARY_ID[position() > 1 and . = 'X2']"), ["X2"]);
        assert_eq!(eval(&doc, first, "1 + 2 * 3 div 2 - 5 mod 3 + 7 div 2"), ["5.5"]);
        assert!(eval(&doc, first, "NOPE").is_empty());
    }

    #[test]
    fn absolute_paths_stay_within_the_record() {
        let doc = roxmltree::Document::parse(STUDY).unwrap();
        let root = XmlNode::new(doc.root());
        let second = XPath::parse("/STUDY_SET/STUDY[2]").unwrap().select(root, None).unwrap()[0];
        let studies = XPath::parse("/STUDY_SET/STUDY").unwrap();
        assert_eq!(studies.select(second, Some(second)).unwrap(), [second]);
        let titles = |e: &str| XPath::parse(e).unwrap().select(second, Some(second)).unwrap().iter().map(XmlNode::string_value).collect::<Vec<_>>();
        assert_eq!(titles("//STUDY_TITLE"), ["Second"]);
        assert_eq!(titles("/STUDY_SET/STUDY/DESCRIPTOR/STUDY_TITLE"), ["Second"]);
        assert_eq!(titles("/descendant::STUDY/@alias"), ["S2"]);
        assert_eq!(titles("/STUDY_SET/STUDY[@alias]/@accession"), ["JGAS2"]);
        // Positions still count in the whole document.
        assert!(XPath::parse("/STUDY_SET/STUDY[1]").unwrap().select(second, Some(second)).unwrap().is_empty());
    }

    #[test]
    fn prefixes_resolve_through_the_document_and_plain_names_ignore_the_default_namespace() {
        let doc = roxmltree::Document::parse(
            r#"<SET xmlns="urn:sra" xmlns:x="urn:x"><STUDY x:id="1"><x:NOTE>n</x:NOTE><NOTE>m</NOTE></STUDY></SET>"#,
        )
        .unwrap();
        assert_eq!(eval(&doc, "/SET/STUDY", "x:NOTE"), ["n"]);
        assert_eq!(eval(&doc, "/SET/STUDY", "NOTE"), ["m"]);
        assert_eq!(eval(&doc, "/SET/STUDY", "x:*"), ["n"]);
        assert_eq!(eval(&doc, "/SET/STUDY", "@x:id"), ["1"]);
        assert_eq!(eval(&doc, "/SET/STUDY", "y:*"), Vec::<String>::new());
        assert_eq!(eval(&doc, "/SET/STUDY", "name(*[2])"), ["NOTE"]);
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for (bad, says) in [("STUDY[", "ends too early"), ("foo(1)", "unknown function"), ("$x", "variables"), ("a::b", "unknown axis"), ("'open", "not closed")] {
            let e = XPath::parse(bad).unwrap_err();
            assert!(e.0.contains(says), "{bad}: {e}");
        }
    }
}
