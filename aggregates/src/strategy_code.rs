//! Static analysis of a freqtrade strategy's Python code, in process.
//!
//! A strategy is user-supplied Python that the platform later runs inside freqtrade, so it
//! is checked before it is stored: it must parse as Python 3, define exactly one class
//! deriving from `IStrategy` (the class freqtrade will load), and must not reach for the
//! obvious escape hatches (`exec`, `eval`, `compile`, `__import__`, `os.system`,
//! `subprocess`). This is a guard rail against mistakes and casual abuse, not a sandbox:
//! the runtime isolates the bot as well.
//!
//! The syntax tree is walked by value with an explicit work list, never by recursion, and
//! every node is taken apart as it is visited. Python code can nest expressions hundreds of
//! thousands deep (`1+1+1+…`), and both a recursive walk and the recursive drop of such a
//! tree would overflow the stack; taking nodes apart one at a time avoids both. Code whose
//! nesting is deeper than Python itself accepts is refused before it is parsed, because the
//! parser drops its partial tree recursively when it meets a syntax error.

use rustpython_parser::ast::{
    self, Arguments, Comprehension, ExceptHandler, Expr, Keyword, MatchCase, Pattern, Ranged, Stmt,
    TypeParam, WithItem,
};
use rustpython_parser::text_size::TextSize;
use rustpython_parser::{Parse, Tok, lexer};
use sha2::{Digest, Sha256};

use crate::error::DomainError;

/// Largest accepted strategy source, in bytes.
pub const MAX_CODE_BYTES: usize = 1024 * 1024;

/// Deepest accepted nesting of brackets, and longest accepted chain of binary operators
/// in one expression. CPython refuses code nested much deeper than this too ("too many
/// nested parentheses", "maximum recursion depth exceeded during compilation").
const MAX_NESTING: usize = 200;
const MAX_OPERATOR_CHAIN: usize = 5_000;

/// Calls to these builtins run arbitrary code.
const FORBIDDEN_BUILTINS: [&str; 4] = ["exec", "eval", "compile", "__import__"];

/// One thing wrong with the code, at a 1-based line and column (columns count characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeProblem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// What [`analyze`] found: the strategy class (when there is exactly one) and every
/// problem, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrategyAnalysis {
    pub class_name: Option<String>,
    pub problems: Vec<CodeProblem>,
}

impl StrategyAnalysis {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && self.class_name.is_some()
    }
}

/// Strategy source code that passed [`analyze`], with its class name and content hash.
#[derive(Clone, PartialEq, Eq)]
pub struct StrategyCode {
    code: String,
    class_name: String,
    sha256: String,
}

impl StrategyCode {
    /// Analyzes `code`; the first problem (with its line and column) is the error, on
    /// field `code`.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        let analysis = analyze(code);
        if let Some(first) = analysis.problems.first() {
            let more = match analysis.problems.len() - 1 {
                0 => String::new(),
                1 => " (and 1 more problem)".to_owned(),
                n => format!(" (and {n} more problems)"),
            };
            return Err(DomainError::invalid(
                "code",
                format!(
                    "line {}, column {}: {}{more}",
                    first.line, first.column, first.message
                ),
            ));
        }
        let Some(class_name) = analysis.class_name else {
            // analyze reports a problem whenever it finds no single class; kept as a
            // guard so this can never be silently accepted.
            return Err(DomainError::invalid(
                "code",
                "line 1, column 1: no class deriving from IStrategy",
            ));
        };
        Ok(Self {
            code: code.to_owned(),
            class_name,
            sha256: sha256_hex(code),
        })
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    /// The name of the class deriving from `IStrategy` (freqtrade's `--strategy`).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// Lowercase hex SHA-256 of the code's UTF-8 bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl std::fmt::Debug for StrategyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyCode")
            .field("class_name", &self.class_name)
            .field("sha256", &self.sha256)
            .field("bytes", &self.code.len())
            .finish()
    }
}

/// Lowercase hex SHA-256 of `code`'s bytes: how versions of a strategy are told apart.
pub fn sha256_hex(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Checks strategy code without running it. Never panics, whatever the input.
pub fn analyze(code: &str) -> StrategyAnalysis {
    let lines = LineIndex::new(code);
    let mut analysis = StrategyAnalysis::default();
    if code.len() > MAX_CODE_BYTES {
        analysis.problems.push(CodeProblem {
            line: 1,
            column: 1,
            message: format!(
                "code is {} bytes; at most {MAX_CODE_BYTES} bytes (1 MiB) are allowed",
                code.len()
            ),
        });
        return analysis;
    }
    if code.trim().is_empty() {
        analysis.problems.push(CodeProblem {
            line: 1,
            column: 1,
            message: "code is empty".to_owned(),
        });
        return analysis;
    }
    if let Some(problem) = too_deep(code, &lines) {
        analysis.problems.push(problem);
        return analysis;
    }
    let body = match ast::Suite::parse(code, "<strategy>") {
        Ok(body) => body,
        Err(error) => {
            analysis
                .problems
                .push(lines.problem(error.offset, format!("syntax error: {}", error.error)));
            return analysis;
        }
    };

    let classes = strategy_classes(&body, &lines);
    match classes.as_slice() {
        [] => analysis.problems.push(CodeProblem {
            line: 1,
            column: 1,
            message: "no class deriving from IStrategy; freqtrade needs exactly one".to_owned(),
        }),
        [(name, _)] => analysis.class_name = Some(name.clone()),
        [_, rest @ ..] => {
            let names: Vec<String> = classes
                .iter()
                .map(|(name, at)| format!("{name} (line {})", at.line))
                .collect();
            for (_, at) in rest {
                analysis.problems.push(CodeProblem {
                    message: format!(
                        "{} classes derive from IStrategy: {}; exactly one is allowed",
                        classes.len(),
                        names.join(", ")
                    ),
                    ..at.clone()
                });
            }
        }
    }

    let mut walker = Walker {
        lines: &lines,
        problems: &mut analysis.problems,
    };
    walker.walk(body);
    analysis.problems.sort_by_key(|p| (p.line, p.column));
    analysis
}

/// Top-level classes whose bases name `IStrategy` (as `IStrategy` or `something.IStrategy`),
/// with where each is defined. freqtrade loads strategies from module globals, so classes
/// nested in functions or other classes do not count.
fn strategy_classes(body: &[Stmt], lines: &LineIndex) -> Vec<(String, CodeProblem)> {
    body.iter()
        .filter_map(|stmt| match stmt {
            Stmt::ClassDef(class) if class.bases.iter().any(names_istrategy) => Some((
                class.name.to_string(),
                lines.problem(stmt.start(), String::new()),
            )),
            _ => None,
        })
        .collect()
}

fn names_istrategy(base: &Expr) -> bool {
    match base {
        Expr::Name(name) => name.id.as_str() == "IStrategy",
        Expr::Attribute(attribute) => attribute.attr.as_str() == "IStrategy",
        _ => false,
    }
}

/// Refuses code nested deeper than Python accepts, before the parser builds (and, on a
/// syntax error, recursively drops) a tree that deep. Works on tokens, so brackets inside
/// strings and comments do not count.
///
/// Two shapes nest: brackets inside brackets, and chains that the parser folds to the left
/// within one statement (`a+b+c…`, `a.b.c…`, `f()()…`, `x[0][0]…`, `not not…`). The chain
/// count is per logical line and only counts tokens that can add a level, so long flat
/// literals (a list of ten thousand pairs) are fine.
fn too_deep(code: &str, lines: &LineIndex) -> Option<CodeProblem> {
    let mut depth: usize = 0;
    let mut chain: usize = 0;
    let mut previous = Tok::Newline;
    for token in lexer::lex(code, rustpython_parser::Mode::Module) {
        // Lexical errors are reported by the parser, with a better message.
        let Ok((token, range)) = token else {
            return None;
        };
        let postfix = matches!(
            previous,
            Tok::Name { .. } | Tok::String { .. } | Tok::Rpar | Tok::Rsqb | Tok::Rbrace
        );
        let opens = matches!(token, Tok::Lpar | Tok::Lsqb | Tok::Lbrace);
        let chains = (opens && postfix)
            || matches!(
                token,
                Tok::Plus
                    | Tok::Minus
                    | Tok::Star
                    | Tok::Slash
                    | Tok::DoubleSlash
                    | Tok::Percent
                    | Tok::DoubleStar
                    | Tok::At
                    | Tok::Vbar
                    | Tok::Amper
                    | Tok::CircumFlex
                    | Tok::LeftShift
                    | Tok::RightShift
                    | Tok::Tilde
                    | Tok::Not
                    | Tok::And
                    | Tok::Or
                    | Tok::Dot
                    | Tok::Lambda
                    | Tok::If
                    | Tok::Else
                    | Tok::Await
                    | Tok::Yield
            );
        if opens {
            depth += 1;
            if depth > MAX_NESTING {
                return Some(lines.problem(
                    range.start(),
                    format!("brackets nested more than {MAX_NESTING} deep"),
                ));
            }
        }
        if matches!(token, Tok::Rpar | Tok::Rsqb | Tok::Rbrace) {
            depth = depth.saturating_sub(1);
        }
        if chains {
            chain += 1;
            if chain > MAX_OPERATOR_CHAIN {
                return Some(lines.problem(
                    range.start(),
                    format!(
                        "statement too complex: more than {MAX_OPERATOR_CHAIN} operators, \
                         attribute accesses or calls in one statement"
                    ),
                ));
            }
        }
        if token == Tok::Newline {
            chain = 0;
        }
        previous = token;
    }
    None
}

/// Turns the parser's byte offsets into 1-based lines and columns.
struct LineIndex<'a> {
    code: &'a str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(code: &'a str) -> Self {
        let mut starts = vec![0];
        let bytes = code.as_bytes();
        for (i, byte) in bytes.iter().enumerate() {
            match byte {
                b'\n' => starts.push(i + 1),
                // A lone carriage return ends a line too, as it does for Python.
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
        }
        Self { code, starts }
    }

    fn problem(&self, offset: TextSize, message: String) -> CodeProblem {
        let offset = (u32::from(offset) as usize).min(self.code.len());
        // The line whose start is the last one at or before `offset`.
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = match self.code.get(start..offset) {
            Some(text) => text.chars().count(),
            None => offset.saturating_sub(start),
        };
        CodeProblem {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
            message,
        }
    }
}

/// A node still to visit.
enum Node {
    Stmt(Stmt),
    Expr(Expr),
    Pattern(Pattern),
}

/// Finds forbidden calls and imports anywhere in the tree: nested functions, lambdas,
/// comprehensions, decorators, default arguments, annotations, `match` cases, f-strings.
///
/// Every node type is destructured with all of its fields named, so a parser upgrade that
/// adds a field fails to compile here instead of silently hiding code from the check.
struct Walker<'a, 'b> {
    lines: &'a LineIndex<'b>,
    problems: &'a mut Vec<CodeProblem>,
}

impl Walker<'_, '_> {
    fn walk(&mut self, body: Vec<Stmt>) {
        let mut todo: Vec<Node> = body.into_iter().rev().map(Node::Stmt).collect();
        while let Some(node) = todo.pop() {
            match node {
                Node::Stmt(stmt) => self.stmt(stmt, &mut todo),
                Node::Expr(expr) => self.expr(expr, &mut todo),
                Node::Pattern(pattern) => pattern_children(pattern, &mut todo),
            }
        }
    }

    fn report(&mut self, at: TextSize, message: String) {
        self.problems.push(self.lines.problem(at, message));
    }

    fn stmt(&mut self, stmt: Stmt, todo: &mut Vec<Node>) {
        let at = stmt.start();
        match stmt {
            Stmt::FunctionDef(ast::StmtFunctionDef {
                range: _,
                name: _,
                args,
                body,
                decorator_list,
                returns,
                type_comment: _,
                type_params,
            })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
                range: _,
                name: _,
                args,
                body,
                decorator_list,
                returns,
                type_comment: _,
                type_params,
            }) => {
                push_stmts(body, todo);
                push_exprs(decorator_list, todo);
                push_boxed(returns, todo);
                arguments_children(*args, todo);
                type_params_children(type_params, todo);
            }
            Stmt::ClassDef(ast::StmtClassDef {
                range: _,
                name: _,
                bases,
                keywords,
                body,
                decorator_list,
                type_params,
            }) => {
                push_exprs(bases, todo);
                keywords_children(keywords, todo);
                push_stmts(body, todo);
                push_exprs(decorator_list, todo);
                type_params_children(type_params, todo);
            }
            Stmt::Return(ast::StmtReturn { range: _, value }) => push_boxed(value, todo),
            Stmt::Delete(ast::StmtDelete { range: _, targets }) => push_exprs(targets, todo),
            Stmt::Assign(ast::StmtAssign {
                range: _,
                targets,
                value,
                type_comment: _,
            }) => {
                push_exprs(targets, todo);
                todo.push(Node::Expr(*value));
            }
            Stmt::TypeAlias(ast::StmtTypeAlias {
                range: _,
                name,
                type_params,
                value,
            }) => {
                todo.push(Node::Expr(*name));
                type_params_children(type_params, todo);
                todo.push(Node::Expr(*value));
            }
            Stmt::AugAssign(ast::StmtAugAssign {
                range: _,
                target,
                op: _,
                value,
            }) => {
                todo.push(Node::Expr(*target));
                todo.push(Node::Expr(*value));
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                range: _,
                target,
                annotation,
                value,
                simple: _,
            }) => {
                todo.push(Node::Expr(*target));
                todo.push(Node::Expr(*annotation));
                push_boxed(value, todo);
            }
            Stmt::For(ast::StmtFor {
                range: _,
                target,
                iter,
                body,
                orelse,
                type_comment: _,
            })
            | Stmt::AsyncFor(ast::StmtAsyncFor {
                range: _,
                target,
                iter,
                body,
                orelse,
                type_comment: _,
            }) => {
                todo.push(Node::Expr(*target));
                todo.push(Node::Expr(*iter));
                push_stmts(body, todo);
                push_stmts(orelse, todo);
            }
            Stmt::While(ast::StmtWhile {
                range: _,
                test,
                body,
                orelse,
            })
            | Stmt::If(ast::StmtIf {
                range: _,
                test,
                body,
                orelse,
            }) => {
                todo.push(Node::Expr(*test));
                push_stmts(body, todo);
                push_stmts(orelse, todo);
            }
            Stmt::With(ast::StmtWith {
                range: _,
                items,
                body,
                type_comment: _,
            })
            | Stmt::AsyncWith(ast::StmtAsyncWith {
                range: _,
                items,
                body,
                type_comment: _,
            }) => {
                for WithItem {
                    range: _,
                    context_expr,
                    optional_vars,
                } in items
                {
                    todo.push(Node::Expr(context_expr));
                    push_boxed(optional_vars, todo);
                }
                push_stmts(body, todo);
            }
            Stmt::Match(ast::StmtMatch {
                range: _,
                subject,
                cases,
            }) => {
                todo.push(Node::Expr(*subject));
                for MatchCase {
                    range: _,
                    pattern,
                    guard,
                    body,
                } in cases
                {
                    todo.push(Node::Pattern(pattern));
                    push_boxed(guard, todo);
                    push_stmts(body, todo);
                }
            }
            Stmt::Raise(ast::StmtRaise {
                range: _,
                exc,
                cause,
            }) => {
                push_boxed(exc, todo);
                push_boxed(cause, todo);
            }
            Stmt::Try(ast::StmtTry {
                range: _,
                body,
                handlers,
                orelse,
                finalbody,
            })
            | Stmt::TryStar(ast::StmtTryStar {
                range: _,
                body,
                handlers,
                orelse,
                finalbody,
            }) => {
                push_stmts(body, todo);
                for handler in handlers {
                    let ExceptHandler::ExceptHandler(ast::ExceptHandlerExceptHandler {
                        range: _,
                        type_,
                        name: _,
                        body,
                    }) = handler;
                    push_boxed(type_, todo);
                    push_stmts(body, todo);
                }
                push_stmts(orelse, todo);
                push_stmts(finalbody, todo);
            }
            Stmt::Assert(ast::StmtAssert {
                range: _,
                test,
                msg,
            }) => {
                todo.push(Node::Expr(*test));
                push_boxed(msg, todo);
            }
            Stmt::Import(ast::StmtImport { range: _, names }) => {
                for alias in names {
                    let module = alias.name.as_str();
                    if module == "subprocess" || module.starts_with("subprocess.") {
                        self.report(
                            at,
                            format!("import of {module} is not allowed (it runs shell commands)"),
                        );
                    }
                }
            }
            Stmt::ImportFrom(ast::StmtImportFrom {
                range: _,
                module,
                names,
                level: _,
            }) => {
                let module = module.as_ref().map(|m| m.as_str()).unwrap_or_default();
                if module == "subprocess" || module.starts_with("subprocess.") {
                    self.report(
                        at,
                        format!("import from {module} is not allowed (it runs shell commands)"),
                    );
                } else if module == "os" {
                    for alias in names {
                        let name = alias.name.as_str();
                        if name == "system" || name == "*" {
                            self.report(
                                at,
                                format!(
                                    "from os import {name} is not allowed (os.system runs shell commands)"
                                ),
                            );
                        }
                    }
                }
            }
            Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_) => {}
            Stmt::Expr(ast::StmtExpr { range: _, value }) => todo.push(Node::Expr(*value)),
        }
    }

    fn expr(&mut self, expr: Expr, todo: &mut Vec<Node>) {
        let at = expr.start();
        match expr {
            Expr::Call(ast::ExprCall {
                range: _,
                func,
                args,
                keywords,
            }) => {
                if let Some(name) = forbidden_call(&func) {
                    self.report(at, format!("call to {name}() is not allowed"));
                }
                todo.push(Node::Expr(*func));
                push_exprs(args, todo);
                keywords_children(keywords, todo);
            }
            Expr::BoolOp(ast::ExprBoolOp {
                range: _,
                op: _,
                values,
            }) => push_exprs(values, todo),
            Expr::NamedExpr(ast::ExprNamedExpr {
                range: _,
                target,
                value,
            }) => {
                todo.push(Node::Expr(*target));
                todo.push(Node::Expr(*value));
            }
            Expr::BinOp(ast::ExprBinOp {
                range: _,
                left,
                op: _,
                right,
            }) => {
                todo.push(Node::Expr(*left));
                todo.push(Node::Expr(*right));
            }
            Expr::UnaryOp(ast::ExprUnaryOp {
                range: _,
                op: _,
                operand,
            }) => todo.push(Node::Expr(*operand)),
            Expr::Lambda(ast::ExprLambda {
                range: _,
                args,
                body,
            }) => {
                arguments_children(*args, todo);
                todo.push(Node::Expr(*body));
            }
            Expr::IfExp(ast::ExprIfExp {
                range: _,
                test,
                body,
                orelse,
            }) => {
                todo.push(Node::Expr(*test));
                todo.push(Node::Expr(*body));
                todo.push(Node::Expr(*orelse));
            }
            Expr::Dict(ast::ExprDict {
                range: _,
                keys,
                values,
            }) => {
                todo.extend(keys.into_iter().flatten().map(Node::Expr));
                push_exprs(values, todo);
            }
            Expr::Set(ast::ExprSet { range: _, elts })
            | Expr::List(ast::ExprList {
                range: _,
                elts,
                ctx: _,
            })
            | Expr::Tuple(ast::ExprTuple {
                range: _,
                elts,
                ctx: _,
            }) => push_exprs(elts, todo),
            Expr::ListComp(ast::ExprListComp {
                range: _,
                elt,
                generators,
            })
            | Expr::SetComp(ast::ExprSetComp {
                range: _,
                elt,
                generators,
            })
            | Expr::GeneratorExp(ast::ExprGeneratorExp {
                range: _,
                elt,
                generators,
            }) => {
                todo.push(Node::Expr(*elt));
                comprehensions_children(generators, todo);
            }
            Expr::DictComp(ast::ExprDictComp {
                range: _,
                key,
                value,
                generators,
            }) => {
                todo.push(Node::Expr(*key));
                todo.push(Node::Expr(*value));
                comprehensions_children(generators, todo);
            }
            Expr::Await(ast::ExprAwait { range: _, value })
            | Expr::YieldFrom(ast::ExprYieldFrom { range: _, value })
            | Expr::Attribute(ast::ExprAttribute {
                range: _,
                value,
                attr: _,
                ctx: _,
            })
            | Expr::Starred(ast::ExprStarred {
                range: _,
                value,
                ctx: _,
            }) => todo.push(Node::Expr(*value)),
            Expr::Yield(ast::ExprYield { range: _, value }) => push_boxed(value, todo),
            Expr::Compare(ast::ExprCompare {
                range: _,
                left,
                ops: _,
                comparators,
            }) => {
                todo.push(Node::Expr(*left));
                push_exprs(comparators, todo);
            }
            Expr::FormattedValue(ast::ExprFormattedValue {
                range: _,
                value,
                conversion: _,
                format_spec,
            }) => {
                todo.push(Node::Expr(*value));
                push_boxed(format_spec, todo);
            }
            Expr::JoinedStr(ast::ExprJoinedStr { range: _, values }) => push_exprs(values, todo),
            Expr::Subscript(ast::ExprSubscript {
                range: _,
                value,
                slice,
                ctx: _,
            }) => {
                todo.push(Node::Expr(*value));
                todo.push(Node::Expr(*slice));
            }
            Expr::Slice(ast::ExprSlice {
                range: _,
                lower,
                upper,
                step,
            }) => {
                push_boxed(lower, todo);
                push_boxed(upper, todo);
                push_boxed(step, todo);
            }
            Expr::Constant(_) | Expr::Name(_) => {}
        }
    }
}

/// The name of the forbidden callee, if `func` is one: a builtin that runs code
/// (`eval`, also as `builtins.eval`), `os.system`, or anything under `subprocess`.
fn forbidden_call(func: &Expr) -> Option<String> {
    match func {
        Expr::Name(name) if FORBIDDEN_BUILTINS.contains(&name.id.as_str()) => {
            Some(name.id.to_string())
        }
        Expr::Attribute(attribute) => {
            let attr = attribute.attr.as_str();
            let dotted = dotted_name(func)?;
            let root = dotted.split('.').next().unwrap_or_default();
            let forbidden = root == "subprocess"
                || dotted == "os.system"
                || (matches!(root, "builtins" | "__builtins__")
                    && FORBIDDEN_BUILTINS.contains(&attr));
            forbidden.then_some(dotted)
        }
        _ => None,
    }
}

/// `a.b.c` for an attribute chain rooted at a plain name, else `None`. Iterative, like
/// the rest of the walk.
fn dotted_name(expr: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = expr;
    loop {
        match current {
            Expr::Attribute(attribute) => {
                parts.push(attribute.attr.as_str());
                current = &attribute.value;
            }
            Expr::Name(name) => {
                parts.push(name.id.as_str());
                break;
            }
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

fn push_stmts(stmts: Vec<Stmt>, todo: &mut Vec<Node>) {
    todo.extend(stmts.into_iter().map(Node::Stmt));
}

fn push_exprs(exprs: Vec<Expr>, todo: &mut Vec<Node>) {
    todo.extend(exprs.into_iter().map(Node::Expr));
}

fn push_boxed(expr: Option<Box<Expr>>, todo: &mut Vec<Node>) {
    if let Some(expr) = expr {
        todo.push(Node::Expr(*expr));
    }
}

/// Default values and annotations of parameters: `def f(x=eval("1"))` runs `eval` when
/// the function is defined.
fn arguments_children(arguments: Arguments, todo: &mut Vec<Node>) {
    let Arguments {
        range: _,
        posonlyargs,
        args,
        vararg,
        kwonlyargs,
        kwarg,
    } = arguments;
    for ast::ArgWithDefault {
        range: _,
        def,
        default,
    } in posonlyargs.into_iter().chain(args).chain(kwonlyargs)
    {
        arg_children(def, todo);
        push_boxed(default, todo);
    }
    for arg in vararg.into_iter().chain(kwarg) {
        arg_children(*arg, todo);
    }
}

fn arg_children(arg: ast::Arg, todo: &mut Vec<Node>) {
    let ast::Arg {
        range: _,
        arg: _,
        annotation,
        type_comment: _,
    } = arg;
    push_boxed(annotation, todo);
}

fn keywords_children(keywords: Vec<Keyword>, todo: &mut Vec<Node>) {
    for Keyword {
        range: _,
        arg: _,
        value,
    } in keywords
    {
        todo.push(Node::Expr(value));
    }
}

fn comprehensions_children(generators: Vec<Comprehension>, todo: &mut Vec<Node>) {
    for Comprehension {
        range: _,
        target,
        iter,
        ifs,
        is_async: _,
    } in generators
    {
        todo.push(Node::Expr(target));
        todo.push(Node::Expr(iter));
        push_exprs(ifs, todo);
    }
}

fn type_params_children(type_params: Vec<TypeParam>, todo: &mut Vec<Node>) {
    for type_param in type_params {
        match type_param {
            TypeParam::TypeVar(ast::TypeParamTypeVar {
                range: _,
                name: _,
                bound,
            }) => push_boxed(bound, todo),
            TypeParam::ParamSpec(_) | TypeParam::TypeVarTuple(_) => {}
        }
    }
}

fn pattern_children(pattern: Pattern, todo: &mut Vec<Node>) {
    match pattern {
        Pattern::MatchValue(ast::PatternMatchValue { range: _, value }) => {
            todo.push(Node::Expr(*value));
        }
        Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => {}
        Pattern::MatchSequence(ast::PatternMatchSequence { range: _, patterns })
        | Pattern::MatchOr(ast::PatternMatchOr { range: _, patterns }) => {
            todo.extend(patterns.into_iter().map(Node::Pattern));
        }
        Pattern::MatchMapping(ast::PatternMatchMapping {
            range: _,
            keys,
            patterns,
            rest: _,
        }) => {
            push_exprs(keys, todo);
            todo.extend(patterns.into_iter().map(Node::Pattern));
        }
        Pattern::MatchClass(ast::PatternMatchClass {
            range: _,
            cls,
            patterns,
            kwd_attrs: _,
            kwd_patterns,
        }) => {
            todo.push(Node::Expr(*cls));
            todo.extend(patterns.into_iter().chain(kwd_patterns).map(Node::Pattern));
        }
        Pattern::MatchAs(ast::PatternMatchAs {
            range: _,
            pattern,
            name: _,
        }) => {
            if let Some(pattern) = pattern {
                todo.push(Node::Pattern(*pattern));
            }
        }
    }
}

#[cfg(test)]
#[path = "strategy_code_tests.rs"]
mod tests;
