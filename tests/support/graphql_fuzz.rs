//! Schema-driven GraphQL fuzzing of the live service: the schema is read by
//! introspection, and every root field of Query and Mutation is sent requests whose
//! arguments are generated from their declared types (hostile strings, out-of-range
//! numbers, unknown enum values, missing and unknown input fields, nulls where none are
//! allowed, ids that exist and ids that do not), as variables or as inline literals,
//! with selection sets drawn from the return types. Shared by the integration test (a
//! short run) and `cargo bench --bench fuzz` (included with `#[path]`).
//!
//! What must hold for every request: no HTTP 5xx, no dropped connection or timeout,
//! a JSON body, every error with `extensions.code` (and none `INTERNAL`), and, for
//! mutations, no partial write: a mutation answered with an error and no data leaves the
//! number of events in the log as it was. Requests are sent one at a time, so the count
//! before and after belongs to that request alone (the service must run without its
//! runtime and monitors, which write events of their own).
//!
//! Most requests are "tame" (values a client could mean: known ids, plausible strings
//! from the schema's descriptions and from earlier answers) so that the service gets
//! past validation and into its commands; the rest are "wild". `FUZZ_SEED` replays a
//! run; `FUZZ_TRACE=1` prints each request and its answer.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value, json};
use sqlx::PgPool;

/// Longer than any request may take: beyond it the service is taken to hang.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Object fields nested below a root field's own selection (`bots { nodes { id } }`).
const MAX_OBJECT_DEPTH: usize = 2;
/// Reproductions kept per kind of failure (all are counted).
const KEPT_PER_KIND: usize = 10;
/// Transport errors in a row after which the service is taken to be gone.
const GIVE_UP_AFTER: usize = 5;
/// Share of requests with hostile values, and of those sent as the viewer.
const WILD: f64 = 0.35;
const AS_VIEWER: f64 = 0.1;
/// How much of a request a reproduction shows.
const SHOWN: usize = 400;

/// Strings a client of this domain would send, by the name of the argument or input
/// field they go to. The schema's types say "String"; its validation wants exchange
/// names, Python code, dates, pairs… Without these few mutations would pass it.
const HINTS: &[(&str, &[&str])] = &[
    (
        "name",
        &["binance", "kraken", "okx", "bybit", "fuzz-{n}", "fuzz {n}"],
    ),
    ("code", &[STRATEGY_CODE]),
    ("description", &["fuzzed", ""]),
    ("startDate", &["2024-01-01", "2024-02-01"]),
    ("endDate", &["2024-03-01", "2024-04-01"]),
    ("stakeCurrency", &["USDT", "BTC"]),
    ("pairs", &["BTC/USDT", "ETH/USDT"]),
    ("timeframe", &["5m", "1h"]),
    ("value", &["fuzz-secret-{n}"]),
    ("nameContains", &["fuzz", "bin"]),
    ("pair", &["BTC/USDT"]),
    ("cpu", &["500m", "0.5", "2"]),
    ("memory", &["512Mi", "2Gi"]),
    ("aggregateTypes", &["bot", "exchange", "strategy"]),
    ("eventTypes", &["BotCreated", "ExchangeCreated"]),
];

const STRATEGY_CODE: &str = "from freqtrade.strategy import IStrategy\n\n\
    class Fuzz(IStrategy):\n    timeframe = '5m'\n    minimal_roi = {'0': 0.1}\n";

/// Characters that have broken services: controls, NUL, bidi overrides, BOM, astral.
const ODD_CHARS: &[char] = &[
    '\0',
    '\u{1}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{200b}',
    '\u{202e}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10ffff}',
    '\u{1d11e}',
    '\u{1f600}',
    'é',
    '日',
    '\n',
    '\r',
    '\t',
    '"',
    '\\',
    '\'',
    '<',
    '>',
    '&',
    '%',
    '$',
    '{',
    '}',
];

const ODD_STRINGS: &[&str] = &[
    "'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "../../../../etc/passwd",
    "%s%s%n%x",
    "{{7*7}}${7*7}",
    "<script>alert(1)</script>",
    "$(reboot)",
    "null",
    "undefined",
    "true",
    "NaN",
    "-Infinity",
    "1e309",
    "0x7fffffff",
    "-0",
    "99999999999999999999999999",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "{\"a\": [1, 2, {\"b\": null}]}",
    "[]",
    "2024-02-30",
    "9999-12-31T23:59:59Z",
    " ",
    "\t\n",
];

const ODD_DATETIMES: &[&str] = &[
    "2024-13-45T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "9999-12-31T23:59:59.999999999+14:00",
    "1970-01-01T00:00:00Z",
    "2024-02-29T24:00:00Z",
    "yesterday",
    "",
];

/// What to run.
pub struct Plan {
    /// `http://host:port` of the service.
    pub base: String,
    /// The service's database, to count its events.
    pub pool: PgPool,
    /// Bearer tokens.
    pub admin: String,
    pub viewer: String,
    pub requests: usize,
    pub seed: u64,
}

/// The seed to run with: `FUZZ_SEED` to replay a run, else a random one.
pub fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| rand::rng().random())
}

/// What happened.
#[derive(Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub requests: usize,
    pub by_status: BTreeMap<u16, usize>,
    /// Errors by `extensions.code` (`NO_CODE` for one without).
    pub by_code: BTreeMap<String, usize>,
    /// Answered with data and no error.
    pub succeeded: usize,
    /// Mutations whose event count was compared before and after.
    pub mutations_checked: usize,
    pub mutations_succeeded: usize,
    /// Requests per root field (`Query.bots`), every root field listed.
    pub exercised: BTreeMap<String, usize>,
    /// Answers with data and no error, per root field.
    pub succeeded_by_field: BTreeMap<String, usize>,
    /// Failures by kind, all counted.
    pub failure_counts: BTreeMap<&'static str, usize>,
    /// The first few of each kind, each with the request that caused it.
    pub reproductions: Vec<String>,
    pub latencies: Vec<Duration>,
    /// The slowest request, described.
    pub slowest: String,
}

impl Report {
    /// Everything that must not have happened: counts by kind, then reproductions.
    pub fn failures(&self) -> Vec<String> {
        let mut failures: Vec<String> = self
            .failure_counts
            .iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect();
        failures.extend(self.reproductions.iter().cloned());
        failures
    }

    /// Answers with an HTTP status of 500 or above.
    pub fn server_errors(&self) -> usize {
        self.by_status.range(500..).map(|(_, n)| n).sum()
    }

    /// Root fields not sent a single request.
    pub fn unexercised(&self) -> Vec<String> {
        self.exercised
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(field, _)| field.clone())
            .collect()
    }

    /// Root fields never answered with data and no error (some need what the fuzzer
    /// cannot make, such as a running bot with trades).
    pub fn never_succeeded(&self) -> Vec<String> {
        self.exercised
            .keys()
            .filter(|field| !self.succeeded_by_field.contains_key(*field))
            .cloned()
            .collect()
    }

    /// The latency below which 99 % of the requests were answered.
    pub fn p99(&self) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let at = (sorted.len() * 99).div_ceil(100).saturating_sub(1);
        sorted.get(at).copied().unwrap_or_default()
    }

    pub fn max_latency(&self) -> Duration {
        self.latencies.iter().max().copied().unwrap_or_default()
    }

    fn fail(&mut self, kind: &'static str, reproduction: String) {
        let count = self.failure_counts.entry(kind).or_default();
        *count += 1;
        if *count <= KEPT_PER_KIND {
            self.reproductions.push(format!("{kind}: {reproduction}"));
        }
    }
}

/// Panics on threads other than the one that installed the hook (a request handler's,
/// when the service runs in-process), described. The previous hook still runs.
pub fn watch_panics() -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let installer = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread.id() != installer
            && let Ok(mut seen) = record.lock()
        {
            seen.push(format!("thread {:?}: {info}", thread.name()));
        }
        previous(info);
    }));
    seen
}

/// Runs the plan: reads the schema, then sends `plan.requests` generated requests one
/// at a time.
pub async fn run(plan: &Plan) -> Report {
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("HTTP client");
    let schema = Schema::fetch(&http, &plan.base, &plan.admin)
        .await
        .unwrap_or_else(|e| panic!("introspection: {e}"));
    let roots = schema.root_fields();
    let mut report = Report {
        seed: plan.seed,
        exercised: roots
            .iter()
            .map(|(op, f)| (op.qualified(&f.name), 0))
            .collect(),
        ..Report::default()
    };
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut seen = Seen::default();
    let mut transport_errors = 0;
    let mut slowest = Duration::ZERO;
    let trace = std::env::var_os("FUZZ_TRACE").is_some();
    // Root fields are dealt from shuffled rounds: each is sent once per round, so every
    // run of at least one round exercises them all, whatever the seed.
    let mut deck: Vec<usize> = Vec::new();
    for _ in 0..plan.requests {
        if deck.is_empty() {
            deck = (0..roots.len()).collect();
            deck.shuffle(&mut rng);
        }
        let Some((operation, field)) = deck.pop().and_then(|i| roots.get(i)) else {
            break;
        };
        let wild = rng.random_bool(WILD);
        let viewer = rng.random_bool(AS_VIEWER);
        let request = Generator {
            schema: &schema,
            seen: &seen,
            rng: &mut rng,
            wild,
            root: &field.name,
        }
        .request(*operation, field, viewer);
        let token = if viewer { &plan.viewer } else { &plan.admin };
        let before = match operation {
            Operation::Mutation => Some(event_count(&plan.pool).await),
            Operation::Query => None,
        };
        let started = Instant::now();
        let answer = send(&http, &plan.base, token, &request).await;
        let took = started.elapsed();
        report.requests += 1;
        *report.exercised.entry(request.qualified()).or_default() += 1;
        if took >= slowest {
            slowest = took;
            report.slowest = format!("{took:?}: {}", request.describe());
        }
        report.latencies.push(took);
        match answer {
            Ok((status, body)) => {
                transport_errors = 0;
                let after = match before {
                    Some(_) => Some(event_count(&plan.pool).await),
                    None => None,
                };
                let answer = Answer { status, body };
                if trace {
                    eprintln!(
                        "{} → {status} {}",
                        request.describe(),
                        shorten(&String::from_utf8_lossy(&answer.body))
                    );
                }
                answer.judge(&request, &mut report);
                if let (Some(before), Some(after)) = (before, after) {
                    answer.check_writes(&request, before, after, &mut report);
                }
                if let Some(data) = answer.data_of(&request.field) {
                    if request.deletes() && data == Value::Bool(true) {
                        seen.forget(&request);
                    }
                    seen.harvest(&schema, &field.ty, data, &field.name);
                }
            }
            Err(e) => {
                transport_errors += 1;
                report.fail(
                    "transport error (dropped, refused or timed out)",
                    format!("{e}; {}", request.describe()),
                );
                if transport_errors >= GIVE_UP_AFTER {
                    report.fail(
                        "service stopped answering",
                        format!("{GIVE_UP_AFTER} transport errors in a row"),
                    );
                    break;
                }
            }
        }
    }
    report
}

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .expect("count events")
}

/// Posts one request; the status and the raw body.
async fn send(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    request: &Request,
) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let body = json!({ "query": request.text, "variables": request.variables });
    let response = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok((status, bytes.to_vec()))
}

/// One answer, to judge.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The root field's data, when the body has it.
    fn data_of(&self, field: &str) -> Option<Value> {
        self.json()
            .and_then(|body| body.get("data")?.get(field).cloned())
            .filter(|data| !data.is_null())
    }

    /// Counts the status and the codes; records 5xx, bodies that are not JSON, errors
    /// without a code or with `INTERNAL`.
    fn judge(&self, request: &Request, report: &mut Report) {
        *report.by_status.entry(self.status).or_default() += 1;
        if self.status >= 500 {
            report.fail(
                "HTTP 5xx",
                format!("{} answered {}", request.describe(), self.status),
            );
        }
        let Some(body) = self.json() else {
            report.fail(
                "body not JSON",
                format!(
                    "{} answered {}: {}",
                    request.describe(),
                    self.status,
                    shorten(&String::from_utf8_lossy(&self.body))
                ),
            );
            return;
        };
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        for error in &errors {
            let code = error["extensions"]["code"].as_str().unwrap_or("NO_CODE");
            *report.by_code.entry(code.to_owned()).or_default() += 1;
            match code {
                "NO_CODE" => report.fail(
                    "error without extensions.code",
                    format!("{} answered {error}", request.describe()),
                ),
                "INTERNAL" => report.fail(
                    "INTERNAL error",
                    format!("{} answered {error}", request.describe()),
                ),
                _ => {}
            }
        }
        if errors.is_empty() && body["data"].is_object() {
            report.succeeded += 1;
            *report
                .succeeded_by_field
                .entry(request.qualified())
                .or_default() += 1;
            if request.operation == Operation::Mutation {
                report.mutations_succeeded += 1;
            }
        } else if errors.is_empty() {
            report.fail(
                "neither data nor errors",
                format!("{} answered {body}", request.describe()),
            );
        }
    }

    /// A mutation that answered an error and no data must not have written anything.
    fn check_writes(&self, request: &Request, before: i64, after: i64, report: &mut Report) {
        report.mutations_checked += 1;
        let failed = self
            .json()
            .is_none_or(|body| body["errors"].as_array().is_some_and(|e| !e.is_empty()));
        if failed && self.data_of(&request.field).is_none() && after != before {
            report.fail(
                "partial write (error, no data, events written)",
                format!(
                    "{} answered {}: {}; events {before} → {after}",
                    request.describe(),
                    self.status,
                    shorten(&String::from_utf8_lossy(&self.body))
                ),
            );
        }
    }
}

/// The first [`SHOWN`] characters of `text`, marked when cut.
fn shorten(text: &str) -> String {
    let count = text.chars().count();
    if count <= SHOWN {
        return text.to_owned();
    }
    let head: String = text.chars().take(SHOWN).collect();
    format!("{head}… ({count} chars)")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Query,
    Mutation,
}

impl Operation {
    fn keyword(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Mutation => "mutation",
        }
    }

    fn qualified(self, field: &str) -> String {
        match self {
            Self::Query => format!("Query.{field}"),
            Self::Mutation => format!("Mutation.{field}"),
        }
    }
}

/// One generated request.
struct Request {
    operation: Operation,
    field: String,
    text: String,
    variables: Value,
    viewer: bool,
}

impl Request {
    fn qualified(&self) -> String {
        self.operation.qualified(&self.field)
    }

    /// A mutation whose name says it deletes.
    fn deletes(&self) -> bool {
        self.operation == Operation::Mutation && self.field.starts_with("delete")
    }

    /// Enough to reproduce it: who, the document and the variables (shortened).
    fn describe(&self) -> String {
        format!(
            "as {} {} variables {}",
            if self.viewer { "viewer" } else { "admin" },
            shorten(&self.text),
            shorten(&self.variables.to_string())
        )
    }
}

/// The standard introspection query cut to what the generator needs, within the
/// service's limit of three nested list fields (types, fields, args).
pub fn introspection_query() -> String {
    let type_ref = format!(
        "kind name {}",
        "ofType { kind name ".repeat(8) + &"}".repeat(8)
    );
    format!(
        "query Introspection {{ __schema {{ queryType {{ name }} mutationType {{ name }}
           types {{ kind name
             fields(includeDeprecated: true) {{ name
               args {{ ...InputValue }} type {{ ...TypeRef }} }}
             inputFields {{ ...InputValue }}
             enumValues(includeDeprecated: true) {{ name }} }} }} }}
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }}
         fragment TypeRef on __Type {{ {type_ref} }}"
    )
}

/// A type as a field, argument or input field declares it.
#[derive(Debug, Clone)]
enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn parse(value: &Value) -> Option<Self> {
        match value["kind"].as_str()? {
            "NON_NULL" => Some(Self::NonNull(Box::new(Self::parse(&value["ofType"])?))),
            "LIST" => Some(Self::List(Box::new(Self::parse(&value["ofType"])?))),
            _ => Some(Self::Named(value["name"].as_str()?.to_owned())),
        }
    }

    fn named(&self) -> &str {
        match self {
            Self::Named(name) => name,
            Self::List(inner) | Self::NonNull(inner) => inner.named(),
        }
    }

    /// As a variable declares it: `[String!]!`.
    fn declared(&self) -> String {
        match self {
            Self::Named(name) => name.clone(),
            Self::List(inner) => format!("[{}]", inner.declared()),
            Self::NonNull(inner) => format!("{}!", inner.declared()),
        }
    }
}

/// An argument or input field.
#[derive(Debug)]
struct InputValue {
    name: String,
    ty: TypeRef,
    has_default: bool,
    /// Backquoted examples in its description (`5m`, `BTC/USDT`).
    examples: Vec<String>,
}

impl InputValue {
    fn parse(value: &Value) -> Option<Self> {
        Some(Self {
            name: value["name"].as_str()?.to_owned(),
            ty: TypeRef::parse(&value["type"])?,
            has_default: !value["defaultValue"].is_null(),
            examples: examples(value["description"].as_str().unwrap_or("")),
        })
    }

    /// Must be given: non-null without a default.
    fn required(&self) -> bool {
        matches!(self.ty, TypeRef::NonNull(_)) && !self.has_default
    }
}

/// The backquoted spans of a description, quotes inside them taken off.
fn examples(description: &str) -> Vec<String> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|span| span.trim_matches('"').to_owned())
        .filter(|span| !span.is_empty() && !span.contains(' '))
        .collect()
}

#[derive(Debug)]
struct Field {
    name: String,
    args: Vec<InputValue>,
    ty: TypeRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Object,
    Abstract,
    Enum,
    InputObject,
}

#[derive(Debug)]
struct TypeDef {
    kind: Kind,
    fields: Vec<Field>,
    input_fields: Vec<InputValue>,
    enum_values: Vec<String>,
}

/// The parts of the schema the generator needs.
struct Schema {
    types: HashMap<String, TypeDef>,
    query: String,
    mutation: Option<String>,
}

impl Schema {
    /// Introspects the service as `token`.
    async fn fetch(http: &reqwest::Client, base: &str, token: &str) -> Result<Self, String> {
        let body: Value = http
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": introspection_query() }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if body.get("errors").is_some() {
            return Err(format!("refused: {body}"));
        }
        Self::parse(&body["data"]["__schema"]).ok_or_else(|| format!("unexpected: {body}"))
    }

    fn parse(schema: &Value) -> Option<Self> {
        let mut types = HashMap::new();
        for ty in schema["types"].as_array()? {
            let kind = match ty["kind"].as_str()? {
                "SCALAR" => Kind::Scalar,
                "OBJECT" => Kind::Object,
                "INTERFACE" | "UNION" => Kind::Abstract,
                "ENUM" => Kind::Enum,
                _ => Kind::InputObject,
            };
            let list = |key: &str| ty[key].as_array().cloned().unwrap_or_default();
            let fields = list("fields")
                .iter()
                .map(|field| {
                    Some(Field {
                        name: field["name"].as_str()?.to_owned(),
                        args: list_of(&field["args"], InputValue::parse)?,
                        ty: TypeRef::parse(&field["type"])?,
                    })
                })
                .collect::<Option<_>>()?;
            let def = TypeDef {
                kind,
                fields,
                input_fields: list_of(&ty["inputFields"], InputValue::parse)?,
                enum_values: list("enumValues")
                    .iter()
                    .filter_map(|v| v["name"].as_str().map(str::to_owned))
                    .collect(),
            };
            types.insert(ty["name"].as_str()?.to_owned(), def);
        }
        Some(Self {
            types,
            query: schema["queryType"]["name"].as_str()?.to_owned(),
            mutation: schema["mutationType"]["name"].as_str().map(str::to_owned),
        })
    }

    /// Every field of Query and Mutation.
    fn root_fields(&self) -> Vec<(Operation, &Field)> {
        let mut roots = Vec::new();
        let named = [
            (Operation::Query, Some(&self.query)),
            (Operation::Mutation, self.mutation.as_ref()),
        ];
        for (operation, name) in named {
            if let Some(def) = name.and_then(|name| self.types.get(name)) {
                roots.extend(def.fields.iter().map(|field| (operation, field)));
            }
        }
        roots
    }

    fn kind(&self, name: &str) -> Option<Kind> {
        self.types.get(name).map(|def| def.kind)
    }
}

/// `value` (a JSON array or null) parsed item by item; `None` if one does not parse.
fn list_of<T>(value: &Value, parse: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    match value.as_array() {
        Some(items) => items.iter().map(parse).collect(),
        None => Some(Vec::new()),
    }
}

/// What earlier answers showed: ids by the type that carried them, strings by field.
/// Ordered maps, so that a seed picks the same way on a replay.
#[derive(Default)]
struct Seen {
    ids: BTreeMap<String, Vec<String>>,
    strings: BTreeMap<String, Vec<String>>,
}

impl Seen {
    const KEPT_IDS: usize = 200;
    const KEPT_STRINGS: usize = 30;

    /// Collects ids and short strings from `value`, an answer of type `ty` under
    /// `field`.
    fn harvest(&mut self, schema: &Schema, ty: &TypeRef, value: Value, field: &str) {
        self.walk(schema, ty.named(), &value, field, 0);
    }

    fn walk(&mut self, schema: &Schema, ty: &str, value: &Value, field: &str, depth: usize) {
        if depth > 16 {
            return;
        }
        match value {
            Value::Array(items) => {
                for item in items {
                    self.walk(schema, ty, item, field, depth + 1);
                }
            }
            Value::Object(object) if schema.kind(ty) == Some(Kind::Object) => {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    keep(
                        self.ids.entry(ty.to_owned()).or_default(),
                        id,
                        Self::KEPT_IDS,
                    );
                }
                let Some(def) = schema.types.get(ty) else {
                    return;
                };
                for (key, inner) in object {
                    if let Some(f) = def.fields.iter().find(|f| &f.name == key) {
                        self.walk(schema, f.ty.named(), inner, key, depth + 1);
                    }
                }
            }
            Value::String(s) if s.len() <= 200 => {
                let kept = self.strings.entry(field.to_owned()).or_default();
                keep(kept, s, Self::KEPT_STRINGS);
            }
            _ => {}
        }
    }

    /// Drops the ids `request` names (it deleted what they stood for).
    fn forget(&mut self, request: &Request) {
        let named = format!("{} {}", request.text, request.variables);
        for ids in self.ids.values_mut() {
            ids.retain(|id| !named.contains(id.as_str()));
        }
    }

    /// An id of the type whose name the longest of `names` mentions (`exchangeId`,
    /// `deleteBot`), else of any type.
    fn id(&self, rng: &mut StdRng, names: &[&str]) -> Option<String> {
        let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let typed = self
            .ids
            .iter()
            .filter(|(ty, ids)| {
                let ty = ty.to_lowercase();
                !ids.is_empty() && names.iter().any(|name| name.contains(&ty))
            })
            .max_by_key(|(ty, _)| ty.len())
            .map(|(_, ids)| ids);
        let ids = match typed {
            Some(ids) if rng.random_bool(0.95) => ids,
            _ => {
                let all: Vec<&Vec<String>> = self.ids.values().filter(|v| !v.is_empty()).collect();
                *all.choose(rng)?
            }
        };
        ids.choose(rng).cloned()
    }
}

/// Adds `item` to `kept` unless it is there or `kept` is full.
fn keep(kept: &mut Vec<String>, item: &str, most: usize) {
    if kept.len() < most && !kept.iter().any(|k| k == item) {
        kept.push(item.to_owned());
    }
}

/// A generated value: JSON for a variable, or a GraphQL literal inline.
#[derive(Debug, Clone)]
enum Gen {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Enum(String),
    List(Vec<Gen>),
    Object(Vec<(String, Gen)>),
    /// A JSON scalar's value.
    Json(Value),
}

impl Gen {
    fn float(value: f64) -> Self {
        Number::from_f64(value).map_or(Self::Null, Self::Number)
    }

    fn json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::Str(s) | Self::Enum(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Self::json).collect()),
            Self::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.json()))
                    .collect::<Map<_, _>>(),
            ),
            Self::Json(value) => value.clone(),
        }
    }

    fn literal(&self) -> String {
        match self {
            Self::Enum(name) => name.clone(),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(Self::literal).collect();
                format!("[{}]", items.join(", "))
            }
            Self::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.literal()))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            Self::Json(value) => json_literal(value),
            other => json_literal(&other.json()),
        }
    }
}

/// A JSON value as a GraphQL literal (object keys as names, however odd).
fn json_literal(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json_literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", json_literal(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// Makes one request for a root field.
struct Generator<'a> {
    schema: &'a Schema,
    seen: &'a Seen,
    rng: &'a mut StdRng,
    /// Hostile values, missing and unknown fields, nulls where none are allowed.
    wild: bool,
    /// The root field, whose name says what its `id` argument is of.
    root: &'a str,
}

/// Where a value goes: its name and the examples its description gives.
struct Slot<'a> {
    name: &'a str,
    examples: &'a [String],
}

impl Generator<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn request(&mut self, operation: Operation, field: &Field, viewer: bool) -> Request {
        let mut declarations = Vec::new();
        let mut arguments = Vec::new();
        let mut variables = Map::new();
        for arg in &field.args {
            let present = if arg.required() {
                !(self.wild && self.chance(0.03))
            } else {
                self.chance(0.5)
            };
            if !present {
                continue;
            }
            let slot = Slot {
                name: &arg.name,
                examples: &arg.examples,
            };
            let value = self.value(&arg.ty, &slot);
            if self.chance(0.8) {
                let variable = format!("v{}", declarations.len());
                declarations.push(format!("${variable}: {}", arg.ty.declared()));
                arguments.push(format!("{}: ${variable}", arg.name));
                variables.insert(variable, value.json());
            } else {
                arguments.push(format!("{}: {}", arg.name, value.literal()));
            }
        }
        if self.wild && self.chance(0.03) {
            arguments.push("fuzzUnknown: 1".to_owned());
        }
        let mut text = operation.keyword().to_owned();
        if !declarations.is_empty() {
            let _ = write!(text, "({})", declarations.join(", "));
        }
        let _ = write!(text, " {{ {}", field.name);
        if !arguments.is_empty() {
            let _ = write!(text, "({})", arguments.join(", "));
        }
        text.push_str(&self.selection(field.ty.named(), 1));
        text.push_str(" }");
        if self.wild && self.chance(0.02) {
            let cut = self.rng.random_range(0..text.len());
            text = text.chars().take(cut).collect();
        }
        Request {
            operation,
            field: field.name.clone(),
            text,
            variables: Value::Object(variables),
            viewer,
        }
    }

    /// ` { … }` for an object type at `level` (1 is the root field's), empty for a leaf.
    fn selection(&mut self, ty: &str, level: usize) -> String {
        let schema = self.schema;
        let Some(def) = schema.types.get(ty) else {
            return String::new();
        };
        match def.kind {
            Kind::Abstract => return " { __typename }".to_owned(),
            Kind::Object => {}
            _ => return String::new(),
        }
        let mut picked = Vec::new();
        for field in &def.fields {
            if field.args.iter().any(InputValue::required) {
                continue;
            }
            let leaf = matches!(
                schema.kind(field.ty.named()),
                Some(Kind::Scalar | Kind::Enum)
            );
            if leaf && (field.name == "id" || self.chance(0.6)) {
                picked.push(field.name.clone());
            } else if !leaf && level <= MAX_OBJECT_DEPTH && self.chance(0.5) {
                let inner = self.selection(field.ty.named(), level + 1);
                picked.push(format!("{}{inner}", field.name));
            }
        }
        if picked.is_empty() || (self.wild && self.chance(0.1)) {
            picked.push("__typename".to_owned());
        }
        format!(" {{ {} }}", picked.join(" "))
    }

    fn value(&mut self, ty: &TypeRef, slot: &Slot) -> Gen {
        match ty {
            TypeRef::NonNull(inner) => {
                if self.wild && self.chance(0.03) {
                    Gen::Null
                } else {
                    self.value(inner, slot)
                }
            }
            _ if self.wild && self.chance(0.05) => Gen::Null,
            TypeRef::List(inner) => {
                if self.wild && self.chance(0.05) {
                    return self.value(inner, slot);
                }
                let most = if self.wild { 5 } else { 3 };
                let least = usize::from(!self.wild);
                let n = self.rng.random_range(least..=most);
                Gen::List((0..n).map(|_| self.value(inner, slot)).collect())
            }
            TypeRef::Named(name) => self.named(name, slot),
        }
    }

    fn named(&mut self, name: &str, slot: &Slot) -> Gen {
        let schema = self.schema;
        let Some(def) = schema.types.get(name) else {
            return Gen::Null;
        };
        match def.kind {
            Kind::Enum => self.enumeration(&def.enum_values),
            Kind::InputObject => self.input_object(&def.input_fields),
            _ => self.scalar(name, slot),
        }
    }

    fn enumeration(&mut self, values: &[String]) -> Gen {
        let valid = values.choose(self.rng).cloned();
        match valid {
            Some(value) if !(self.wild && self.chance(0.15)) => Gen::Enum(value),
            Some(value) if self.chance(0.5) => Gen::Enum(value.to_lowercase()),
            _ => Gen::Enum("FUZZ_NOT_A_VALUE".to_owned()),
        }
    }

    fn input_object(&mut self, fields: &[InputValue]) -> Gen {
        let mut object = Vec::new();
        for field in fields {
            let present = if field.required() {
                !(self.wild && self.chance(0.05))
            } else {
                self.chance(if self.wild { 0.5 } else { 0.3 })
            };
            if present {
                let slot = Slot {
                    name: &field.name,
                    examples: &field.examples,
                };
                object.push((field.name.clone(), self.value(&field.ty, &slot)));
            }
        }
        if self.wild && self.chance(0.05) {
            object.push(("fuzzUnknown".to_owned(), Gen::Bool(true)));
        }
        Gen::Object(object)
    }

    fn scalar(&mut self, name: &str, slot: &Slot) -> Gen {
        match name {
            "String" => Gen::Str(self.string(slot)),
            "ID" | "UUID" => Gen::Str(self.id(slot)),
            "Int" => self.int(),
            "Float" => self.float(),
            "Boolean" => self.boolean(),
            "DateTime" => self.datetime(),
            "JSON" => Gen::Json(self.json()),
            _ => self.custom(slot),
        }
    }

    /// A scalar the generator does not know: what its description suggests, a number,
    /// a string or any JSON.
    fn custom(&mut self, slot: &Slot) -> Gen {
        match self.rng.random_range(0..4) {
            0 | 1 => match self.hint(slot) {
                Some(hint) => Gen::Str(hint),
                None => Gen::float(self.rng.random_range(0.01..1000.0)),
            },
            2 => Gen::float(self.rng.random_range(-10.0..1000.0)),
            _ if self.wild => Gen::Json(self.json()),
            _ => Gen::Str(self.string(slot)),
        }
    }

    /// A plausible string for `slot`: from the hints (most often, when there are
    /// any), the description's examples or earlier answers (`after` takes cursors).
    fn hint(&mut self, slot: &Slot) -> Option<String> {
        let n: u64 = self.rng.random();
        let marked = |hint: &str| hint.replace("{n}", &format!("{n:016x}"));
        let hints = HINTS.iter().find(|(name, _)| *name == slot.name);
        if let Some((_, hints)) = hints
            && self.chance(0.85)
        {
            return hints.choose(self.rng).map(|hint| marked(hint));
        }
        let mut candidates: Vec<String> = slot.examples.to_vec();
        let seen_as: &[&str] = match slot.name {
            "after" => &["endCursor", "cursor"],
            name => &[name][..],
        };
        for name in seen_as {
            if let Some(seen) = self.seen.strings.get(*name) {
                candidates.extend(seen.iter().cloned());
            }
        }
        candidates.choose(self.rng).map(|hint| marked(hint))
    }

    fn string(&mut self, slot: &Slot) -> String {
        if !self.wild || self.chance(0.2) {
            let tame = if self.wild { 1.0 } else { 0.95 };
            if self.chance(tame)
                && let Some(hint) = self.hint(slot)
            {
                return hint;
            }
            if !self.wild {
                return format!("fuzz-{:08x}", self.rng.random::<u32>());
            }
        }
        if self.chance(0.2)
            && let Some(hint) = self.hint(slot)
        {
            return self.splice(hint);
        }
        self.wild_string()
    }

    /// `text` with an odd character put in somewhere: a value that looks valid to a
    /// check of its shape but carries a NUL, a bidi override, an astral character….
    fn splice(&mut self, text: String) -> String {
        // NUL most often: PostgreSQL stores it neither in text nor in jsonb.
        let odd = match self.rng.random_bool(0.3) {
            true => '\0',
            false => ODD_CHARS.choose(self.rng).copied().unwrap_or('\0'),
        };
        let at = self.rng.random_range(0..=text.chars().count());
        let mut chars: Vec<char> = text.chars().collect();
        chars.insert(at, odd);
        chars.into_iter().collect()
    }

    fn wild_string(&mut self) -> String {
        match self.rng.random_range(0..11) {
            0 => String::new(),
            1 => {
                let n = self.rng.random_range(1..40);
                (0..n)
                    .map(|_| char::from(self.rng.random_range(0x20u8..0x7f)))
                    .collect()
            }
            2 | 3 => {
                let n = self.rng.random_range(1..40);
                (0..n)
                    .filter_map(|_| ODD_CHARS.choose(self.rng).copied())
                    .collect()
            }
            4 => self.long_string(),
            5 => uuid::Uuid::from_u128(self.rng.random()).to_string(),
            6 => self.json().to_string(),
            7 => self.rng.random::<i64>().to_string(),
            8 => self.datetime().json().as_str().unwrap_or("").to_owned(),
            9 => self.seen.id(self.rng, &[]).unwrap_or_default(),
            _ => ODD_STRINGS
                .choose(self.rng)
                .copied()
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// 1 KB to about 100 KB: one character repeated, or varied text with odd ones.
    fn long_string(&mut self) -> String {
        let n = if self.chance(0.7) {
            self.rng.random_range(1_000..10_000)
        } else {
            self.rng.random_range(10_000..=100_000)
        };
        if self.chance(0.5) {
            let c = ODD_CHARS.choose(self.rng).copied().unwrap_or('a');
            let c = if c == '\0' { 'a' } else { c };
            std::iter::repeat_n(c, n).collect()
        } else {
            (0..n)
                .map(|i| match i % 97 {
                    0 => ODD_CHARS.choose(self.rng).copied().unwrap_or('x'),
                    _ => char::from(b'a' + (i % 26) as u8),
                })
                .collect()
        }
    }

    /// An id: one seen of the type the slot or the root field names, a random UUID, or
    /// garbage.
    fn id(&mut self, slot: &Slot) -> String {
        let owner = slot.name.strip_suffix("Id").unwrap_or(slot.name);
        let names = if owner == "id" {
            vec![self.root]
        } else {
            vec![owner]
        };
        let known = if self.wild { 0.3 } else { 0.9 };
        if self.chance(known)
            && let Some(id) = self.seen.id(self.rng, &names)
        {
            return id;
        }
        if !self.wild || self.chance(0.4) {
            return uuid::Uuid::from_u128(self.rng.random()).to_string();
        }
        match self.rng.random_range(0..4) {
            0 => self
                .seen
                .id(self.rng, &names)
                .map(|id| id.to_uppercase())
                .unwrap_or_default(),
            1 => format!(" {} ", uuid::Uuid::from_u128(self.rng.random())),
            2 => uuid::Uuid::from_u128(self.rng.random())
                .simple()
                .to_string(),
            _ => self.wild_string(),
        }
    }

    fn int(&mut self) -> Gen {
        if !self.wild {
            let small = if self.chance(0.05) {
                0
            } else {
                self.rng.random_range(1..=10)
            };
            return Gen::Number(small.into());
        }
        match self.rng.random_range(0..10) {
            0 => Gen::Number(0.into()),
            1 => Gen::Number((-1).into()),
            2 => Gen::Number(i32::MAX.into()),
            3 => Gen::Number(i32::MIN.into()),
            4 => Gen::Number((i64::from(i32::MAX) + 1).into()),
            5 => Gen::float(1e20),
            6 => Gen::float(1.5),
            7 => Gen::Str("12".to_owned()),
            8 => Gen::Number(self.rng.random::<i32>().into()),
            _ => Gen::Number(self.rng.random_range(0..100).into()),
        }
    }

    fn float(&mut self) -> Gen {
        if !self.wild {
            let cents = self.rng.random_range(1..100_000);
            return Gen::float(f64::from(cents) / 100.0);
        }
        match self.rng.random_range(0..9) {
            0 => Gen::float(0.0),
            1 => Gen::float(-1.0),
            2 => Gen::float(f64::MAX),
            3 => Gen::float(5e-324),
            4 => Gen::float(-0.0),
            5 => Gen::Number(u64::MAX.into()),
            6 => Gen::Str("NaN".to_owned()),
            7 => Gen::Bool(true),
            _ => Gen::float(self.rng.random_range(-1e6..1e6)),
        }
    }

    fn boolean(&mut self) -> Gen {
        if self.wild && self.chance(0.1) {
            return if self.chance(0.5) {
                Gen::Str("true".to_owned())
            } else {
                Gen::Number(1.into())
            };
        }
        Gen::Bool(self.chance(0.5))
    }

    fn datetime(&mut self) -> Gen {
        if self.wild && self.chance(0.5) {
            let odd = ODD_DATETIMES.choose(self.rng).copied().unwrap_or("");
            return Gen::Str(odd.to_owned());
        }
        let ago = chrono::Duration::minutes(self.rng.random_range(-60..100_000));
        Gen::Str((chrono::Utc::now() - ago).to_rfc3339())
    }

    /// A JSON value: a small object of settings when tame; anything, nested deep,
    /// wide, or with keys that look like credentials when wild.
    fn json(&mut self) -> Value {
        if !self.wild {
            let n = self.rng.random_range(0..3);
            let object: Map<String, Value> = (0..n)
                .map(|i| (format!("fuzz_{i}"), self.json_leaf()))
                .collect();
            return Value::Object(object);
        }
        match self.rng.random_range(0..6) {
            0 => {
                let depth = self.rng.random_range(20..200);
                (0..depth).fold(json!(1), |inner, _| json!([inner]))
            }
            1 => {
                let n = self.rng.random_range(100..2_000);
                Value::Object(
                    (0..n)
                        .map(|i| (format!("k{i}"), self.json_leaf()))
                        .collect(),
                )
            }
            2 => json!({ "key": "fuzz", "secret": "fuzz", "password": "fuzz",
                         "exchange": { "key": "fuzz", "secret": "fuzz" } }),
            _ => self.json_any(3),
        }
    }

    fn json_leaf(&mut self) -> Value {
        match self.rng.random_range(0..5) {
            0 => Value::Null,
            1 => Value::Bool(self.chance(0.5)),
            2 => json!(self.rng.random_range(-1000..1000)),
            3 => json!(self.rng.random_range(-1e3..1e3)),
            _ => Value::String(format!("fuzz-{:x}", self.rng.random::<u16>())),
        }
    }

    fn json_any(&mut self, depth: usize) -> Value {
        let pick = if depth == 0 {
            0
        } else {
            self.rng.random_range(0..4)
        };
        match pick {
            0 => self.json_leaf(),
            1 => Value::String(self.wild_string()),
            2 => {
                let n = self.rng.random_range(0..5);
                Value::Array((0..n).map(|_| self.json_any(depth - 1)).collect())
            }
            _ => {
                let n = self.rng.random_range(0..5);
                Value::Object(
                    (0..n)
                        .map(|i| {
                            let key = if self.chance(0.8) {
                                format!("k{i}")
                            } else {
                                self.wild_string()
                            };
                            (key, self.json_any(depth - 1))
                        })
                        .collect(),
                )
            }
        }
    }
}
