//! The SAM template (`infra/template.yaml`) agrees with the code it deploys.
//!
//! - every function builds a binary that a workspace crate under `functions/` defines,
//!   from the workspace root, for `provided.al2023` on arm64;
//! - every function's environment is exactly the list of variables its configuration
//!   reads (`qnet_app::config`);
//! - every function's IAM policy grants what its adapters call
//!   (`qnet_aws::RECORD_STORE_IAM_ACTIONS`, `qnet_aws::BLOB_STORE_IAM_ACTIONS`,
//!   `qnet_aws::MAIL_SENDER_IAM_ACTIONS`, `qnet_aws::JOB_QUEUE_IAM_ACTIONS`), on the
//!   table, its indexes, the bucket prefixes the function works on, the stack's SES
//!   identity and configuration set and the digest queue only, and nothing the
//!   adapters do not call;
//! - the HTTP API's routes are the operations of the OpenAPI document, and a route
//!   carries the JWT authorizer exactly when the document says login is required;
//! - the table and the bucket keep the protections the operations guide relies on;
//! - inbound mail: the SES receipt rule stores the raw message under `raw-mail/`
//!   before it invokes the email ingest function, and SES may do both;
//! - digests: the planner runs on Monday mornings in London and reads GSI1 only;
//!   the sender reports batch item failures from a queue with a dead-letter queue
//!   and a visibility timeout that outlasts it; bounces and complaints reach the
//!   SES events function, whose failures are kept; every dead-letter queue has an
//!   alarm.
//!
//! The template is read as YAML; CloudFormation's short-form tags (`!Ref`, `!Sub`,
//! `!GetAtt`, ...) are rewritten into their long form (`{"Ref": ...}`,
//! `{"Fn::Sub": ...}`, `{"Fn::GetAtt": [..]}`) so the checks below see one shape.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Reading the template
// ---------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

fn template_path() -> PathBuf {
    workspace_root().join("infra").join("template.yaml")
}

/// Converts YAML into JSON, turning CloudFormation short-form tags into the long
/// form: `!Ref x` → `{"Ref": x}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`,
/// `!Condition c` → `{"Condition": c}`, any other `!Name v` → `{"Fn::Name": v}`.
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64().expect("a YAML number is i64, u64 or f64"))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => panic!("unsupported mapping key in the template: {other:?}"),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value);
            match name {
                "Ref" => json!({ "Ref": inner }),
                "Condition" => json!({ "Condition": inner }),
                "GetAtt" => {
                    let parts = match inner {
                        Value::String(s) => {
                            let (resource, attribute) =
                                s.split_once('.').unwrap_or_else(|| panic!("!GetAtt {s} names no attribute"));
                            json!([resource, attribute])
                        }
                        other => other,
                    };
                    json!({ "Fn::GetAtt": parts })
                }
                other => {
                    let mut m = Map::new();
                    m.insert(format!("Fn::{other}"), inner);
                    Value::Object(m)
                }
            }
        }
    }
}

struct Template {
    doc: Value,
}

impl Template {
    fn load() -> Template {
        let path = template_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
        Template { doc: yaml_to_json(yaml) }
    }

    fn resources(&self) -> &Map<String, Value> {
        self.doc["Resources"].as_object().expect("the template has Resources")
    }

    fn resource(&self, logical_id: &str) -> &Value {
        self.resources().get(logical_id).unwrap_or_else(|| panic!("the template has no resource {logical_id}"))
    }

    fn of_type(&self, ty: &str) -> Vec<(&str, &Value)> {
        self.resources().iter().filter(|(_, r)| r["Type"] == ty).map(|(k, r)| (k.as_str(), r)).collect()
    }

    /// The one resource of a type.
    fn only(&self, ty: &str) -> (&str, &Value) {
        let all = self.of_type(ty);
        assert_eq!(all.len(), 1, "expected exactly one {ty}, found {:?}", all.iter().map(|(k, _)| k).collect::<Vec<_>>());
        all[0]
    }

    /// The files bucket (uploads, attachments, raw mail): every bucket but the
    /// web app's, which CloudFront serves.
    fn files_bucket(&self) -> (&str, &Value) {
        let all: Vec<_> = self.of_type("AWS::S3::Bucket").into_iter().filter(|(id, _)| *id != WEB_BUCKET).collect();
        assert_eq!(
            all.len(),
            1,
            "expected one files bucket besides {WEB_BUCKET}, found {:?}",
            all.iter().map(|(k, _)| k).collect::<Vec<_>>()
        );
        all[0]
    }

    fn functions(&self) -> BTreeMap<String, Function> {
        self.of_type("AWS::Serverless::Function")
            .into_iter()
            .map(|(id, r)| (id.to_string(), Function::new(id, r, &self.doc["Globals"]["Function"])))
            .collect()
    }
}

/// A function's properties, with `Globals.Function` filled in where the function
/// does not set a property itself.
struct Function {
    id: String,
    props: Map<String, Value>,
    metadata: Value,
}

impl Function {
    fn new(id: &str, resource: &Value, globals: &Value) -> Function {
        let mut props = globals.as_object().cloned().unwrap_or_default();
        for (k, v) in resource["Properties"].as_object().expect("a function has Properties") {
            props.insert(k.clone(), v.clone());
        }
        Function { id: id.to_string(), props, metadata: resource["Metadata"].clone() }
    }

    fn prop(&self, name: &str) -> &Value {
        self.props.get(name).unwrap_or(&Value::Null)
    }

    fn str_prop(&self, name: &str) -> &str {
        self.prop(name).as_str().unwrap_or_else(|| panic!("{}: {name} is not a plain string", self.id))
    }

    fn binary(&self) -> &str {
        self.metadata["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: Metadata.BuildProperties.Binary is missing", self.id))
    }

    fn environment(&self) -> &Map<String, Value> {
        self.prop("Environment")["Variables"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: Environment.Variables is missing", self.id))
    }

    fn events(&self) -> Vec<(&str, &Value)> {
        self.prop("Events").as_object().map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect()).unwrap_or_default()
    }

    /// Every statement of the function's inline policies. Panics on anything that
    /// is not an inline statement list (SAM policy templates such as
    /// `DynamoDBCrudPolicy`, managed policy names): those grant more than the
    /// adapters need.
    fn statements(&self) -> Vec<&Value> {
        let policies = self.prop("Policies");
        let list: Vec<&Value> = match policies {
            Value::Null => vec![],
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut out = Vec::new();
        for policy in list {
            let statement = policy
                .get("Statement")
                .unwrap_or_else(|| panic!("{}: only inline `Statement` policies are allowed, found {policy}", self.id));
            match statement {
                Value::Array(items) => out.extend(items.iter()),
                other => out.push(other),
            }
        }
        out
    }
}

/// Where the receipt rule stores raw inbound mail (`QNET_RAW_MAIL_PREFIX`), and
/// what the lifecycle rule `expire-raw-mail` expires.
const RAW_MAIL_PREFIX: &str = "raw-mail/";

/// The actions of the one SES receipt rule, in order.
fn receipt_actions(t: &Template) -> &Vec<Value> {
    let (id, rule) = t.only("AWS::SES::ReceiptRule");
    rule["Properties"]["Rule"]["Actions"].as_array().unwrap_or_else(|| panic!("{id}: Rule.Actions"))
}

/// The receipt rule's one S3 action.
fn receipt_s3_action(t: &Template) -> &Value {
    let s3: Vec<&Value> = receipt_actions(t).iter().filter_map(|a| a.get("S3Action")).collect();
    assert_eq!(s3.len(), 1, "the receipt rule has exactly one S3 action");
    s3[0]
}

/// Days after which the bucket's enabled lifecycle rules expire objects under
/// `prefix`.
fn expiry_days(bucket: &Value, prefix: &str) -> Option<u64> {
    bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .expect("lifecycle rules")
        .iter()
        .filter(|r| r["Status"] == "Enabled")
        .find(|r| r["Prefix"] == prefix || r["Filter"]["Prefix"] == prefix)
        .and_then(|r| r["ExpirationInDays"].as_u64())
}

/// The queue DigestSenderFunction reads: the logical id its one SQS event names.
fn digest_queue(t: &Template) -> String {
    queue_of(t, "DigestSenderFunction")
}

/// The queue BoardNotifierFunction reads (board follower-email jobs).
fn board_queue(t: &Template) -> String {
    queue_of(t, "BoardNotifierFunction")
}

/// The queue a function's one SQS event names.
fn queue_of(t: &Template, function: &str) -> String {
    let functions = t.functions();
    let sender = functions.get(function).unwrap_or_else(|| panic!("the template has {function}"));
    let sqs: Vec<&Value> = sender.events().into_iter().filter(|(_, e)| e["Type"] == "SQS").map(|(_, e)| e).collect();
    assert_eq!(sqs.len(), 1, "{function}: one SQS event expected");
    sqs[0]["Properties"]["Queue"]["Fn::GetAtt"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{function}'s SQS event names its queue with !GetAtt <Queue>.Arn"))
        .to_string()
}

/// The logical id a `!GetAtt X.Arn` value names.
fn arn_of(v: &Value) -> Option<&str> {
    let parts = v["Fn::GetAtt"].as_array()?;
    (parts.len() == 2 && parts[1] == "Arn").then(|| parts[0].as_str()).flatten()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

// ---------------------------------------------------------------------------
// The functions of the workspace
// ---------------------------------------------------------------------------

/// Binary name → crate directory, for every `[[bin]]` (or implicit `src/main.rs`
/// binary) of the workspace members under `functions/`.
fn function_binaries() -> BTreeMap<String, PathBuf> {
    let root = workspace_root();
    let workspace: toml::Table = toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml"))
        .expect("root Cargo.toml parses");
    let members: BTreeSet<String> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| m.as_str().expect("member paths are strings").trim_end_matches('/').to_string())
        .collect();

    let mut out = BTreeMap::new();
    let functions_dir = root.join("functions");
    for entry in std::fs::read_dir(&functions_dir).expect("functions/ exists") {
        let dir = entry.expect("readable functions/ entry").path();
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.is_file() {
            continue;
        }
        let relative = format!("functions/{}", dir.file_name().unwrap().to_string_lossy());
        if !members.contains(&relative) {
            continue;
        }
        let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(&manifest_path).unwrap())
            .unwrap_or_else(|e| panic!("{relative}/Cargo.toml: {e}"));
        let bins: Vec<String> = manifest
            .get("bin")
            .and_then(|b| b.as_array())
            .map(|bins| bins.iter().filter_map(|b| b.get("name").and_then(|n| n.as_str()).map(str::to_string)).collect())
            .unwrap_or_default();
        if bins.is_empty() && dir.join("src/main.rs").is_file() {
            let package = manifest["package"]["name"].as_str().expect("package.name").to_string();
            out.insert(package, dir.clone());
        }
        for bin in bins {
            out.insert(bin, dir.clone());
        }
    }
    out
}

/// The variables each deployed function reads, by the function's logical id.
fn variables_by_function() -> BTreeMap<&'static str, &'static [&'static str]> {
    use qnet_app::config::{
        API_VARIABLES, ATTACHMENT_CHECK_VARIABLES, DIGEST_PLANNER_VARIABLES, DIGEST_SENDER_VARIABLES, EMAIL_INGEST_VARIABLES,
        PRE_SIGNUP_VARIABLES, SES_EVENTS_VARIABLES,
    };
    use qnet_app::config::{COFFEE_ROUND_VARIABLES, MENTORING_VARIABLES};
    BTreeMap::from([
        ("ApiFunction", API_VARIABLES),
        ("PreSignupFunction", PRE_SIGNUP_VARIABLES),
        ("AttachmentCheckFunction", ATTACHMENT_CHECK_VARIABLES),
        ("EmailIngestFunction", EMAIL_INGEST_VARIABLES),
        ("DigestPlannerFunction", DIGEST_PLANNER_VARIABLES),
        ("DigestSenderFunction", DIGEST_SENDER_VARIABLES),
        ("BoardNotifierFunction", qnet_app::config::BOARD_NOTIFIER_VARIABLES),
        ("SesEventsFunction", SES_EVENTS_VARIABLES),
        ("SearchIndexerFunction", qnet_app::config::SEARCH_INDEXER_VARIABLES),
        ("MentoringFunction", MENTORING_VARIABLES),
        ("CoffeeRoundFunction", COFFEE_ROUND_VARIABLES),
        ("EventRemindersFunction", qnet_app::config::EVENT_REMINDERS_VARIABLES),
        ("EngagementFunction", qnet_app::config::ENGAGEMENT_VARIABLES),
    ])
}

// ---------------------------------------------------------------------------
// (a) build: code location, binary, runtime
// ---------------------------------------------------------------------------

#[test]
fn every_function_builds_a_workspace_binary_from_the_workspace_root() {
    let t = Template::load();
    let binaries = function_binaries();
    let root = workspace_root().canonicalize().unwrap();
    let functions = t.functions();
    assert!(!functions.is_empty(), "the template declares no functions");

    let mut seen_binaries = BTreeSet::new();
    for f in functions.values() {
        let code_uri = f.str_prop("CodeUri");
        let resolved = template_path().parent().unwrap().join(code_uri);
        let resolved = resolved.canonicalize().unwrap_or_else(|e| panic!("{}: CodeUri {code_uri}: {e}", f.id));
        assert_eq!(
            resolved, root,
            "{}: CodeUri {code_uri} must resolve to the workspace root (cargo-lambda builds the workspace)",
            f.id
        );

        assert_eq!(f.metadata["BuildMethod"], "rust-cargolambda", "{}: Metadata.BuildMethod", f.id);
        let binary = f.binary();
        assert!(
            binaries.contains_key(binary),
            "{}: Binary {binary} is not a [[bin]] of a workspace crate under functions/ (known: {:?})",
            f.id,
            binaries.keys().collect::<Vec<_>>()
        );
        assert!(seen_binaries.insert(binary.to_string()), "{}: binary {binary} is deployed twice", f.id);

        assert_eq!(f.str_prop("Handler"), "bootstrap", "{}: Handler", f.id);
        assert_eq!(f.str_prop("Runtime"), "provided.al2023", "{}: Runtime", f.id);
        assert_eq!(f.prop("Architectures"), &json!(["arm64"]), "{}: Architectures", f.id);
        let timeout = f.prop("Timeout").as_u64().unwrap_or_else(|| panic!("{}: Timeout must be explicit", f.id));
        assert!((1..=900).contains(&timeout), "{}: Timeout {timeout}", f.id);
        let memory = f.prop("MemorySize").as_u64().unwrap_or_else(|| panic!("{}: MemorySize must be explicit", f.id));
        assert!((128..=10240).contains(&memory), "{}: MemorySize {memory}", f.id);
    }

    // Every function crate is deployed: a binary nobody deploys is a forgotten function.
    let deployed: BTreeSet<&String> = seen_binaries.iter().collect();
    let defined: BTreeSet<&String> = binaries.keys().collect();
    assert_eq!(deployed, defined, "the template's binaries and the functions/ crates' binaries differ");
}

// ---------------------------------------------------------------------------
// (b) environment
// ---------------------------------------------------------------------------

#[test]
fn every_function_gets_exactly_the_variables_its_configuration_reads() {
    let t = Template::load();
    let expected = variables_by_function();
    let functions = t.functions();
    assert_eq!(
        functions.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected.keys().copied().collect::<BTreeSet<_>>(),
        "each deployed function needs its variable list in qnet_app::config (and in this test)"
    );
    for (id, f) in &functions {
        let got: BTreeSet<&str> = f.environment().keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = expected[id.as_str()].iter().copied().collect();
        assert_eq!(got, want, "{id}: Environment.Variables must be exactly what its configuration reads");
    }
}

#[test]
fn environment_values_point_at_this_stacks_resources() {
    let t = Template::load();
    let (table_id, _) = t.only("AWS::DynamoDB::Table");
    let (bucket_id, bucket) = t.files_bucket();
    let bucket_name = &bucket["Properties"]["BucketName"];
    let (pool_id, _) = t.only("AWS::Cognito::UserPool");
    let (client_id, _) = t.only("AWS::Cognito::UserPoolClient");
    let (_, api) = t.only("AWS::Serverless::HttpApi");
    let jwt = &api["Properties"]["Auth"]["Authorizers"];
    let jwt = jwt.as_object().expect("the HTTP API has authorizers").values().next().expect("one JWT authorizer");

    for f in t.functions().values() {
        for (name, value) in f.environment() {
            match name.as_str() {
                "QNET_TABLE_NAME" => assert_eq!(value, &json!({ "Ref": table_id }), "{}: {name}", f.id),
                "QNET_BUCKET_NAME" => assert!(
                    value == &json!({ "Ref": bucket_id }) || value == bucket_name,
                    "{}: {name} must be the bucket (by Ref or by its BucketName), found {value}",
                    f.id
                ),
                "QNET_LOG_LEVEL" => assert_eq!(value, &json!({ "Ref": "LogLevel" }), "{}: {name}", f.id),
                "QNET_JWT_ISSUER" => {
                    assert_eq!(value, &jwt["JwtConfiguration"]["issuer"], "{}: {name} must be the authorizer's issuer", f.id);
                    assert!(
                        strings(&value["Fn::Sub"]).iter().any(|s| s.contains(&format!("${{{pool_id}}}"))),
                        "{}: {name}",
                        f.id
                    );
                }
                "QNET_JWT_AUDIENCE" => {
                    assert_eq!(value, &json!({ "Ref": client_id }), "{}: {name}", f.id);
                    assert_eq!(jwt["JwtConfiguration"]["audience"], json!([{ "Ref": client_id }]), "authorizer audience");
                }
                // Ingest acknowledges from the case study address; every other
                // function's notices come from the digest's (notices') address.
                "QNET_MAIL_FROM" if f.id == "EmailIngestFunction" => {
                    assert_eq!(value, &json!({ "Ref": "CaseStudyAddress" }), "{}: {name}", f.id)
                }
                "QNET_MAIL_FROM" => assert_eq!(value, &json!({ "Ref": "DigestFromAddress" }), "{}: {name}", f.id),
                // The stack's own generated secret, by ARN: the function reads it on
                // first need, so the key is never in its environment.
                "QNET_LINK_SIGNING_KEY_ARN" => {
                    let (secret_id, secret) = t.only("AWS::SecretsManager::Secret");
                    assert!(secret["Properties"]["GenerateSecretString"]["PasswordLength"].as_u64() >= Some(32), "a long key");
                    assert_eq!(value, &json!({ "Ref": secret_id }), "{}: {name} must be the stack's secret's ARN", f.id);
                }
                "QNET_RAW_MAIL_PREFIX" => {
                    assert_eq!(value, &json!(RAW_MAIL_PREFIX), "{}: {name}", f.id);
                    assert_eq!(
                        &receipt_s3_action(&t)["ObjectKeyPrefix"],
                        value,
                        "{}: {name} must be where the receipt rule stores raw mail",
                        f.id
                    );
                }
                "QNET_SES_CONFIGURATION_SET" => {
                    let (set_id, _) = t.only("AWS::SES::ConfigurationSet");
                    assert_eq!(value, &json!({ "Ref": set_id }), "{}: {name}", f.id);
                }
                "QNET_WEB_BASE_URL" => assert_eq!(value, &json!({ "Ref": "WebBaseUrl" }), "{}: {name}", f.id),
                "QNET_DIGEST_FROM" => assert_eq!(value, &json!({ "Ref": "DigestFromAddress" }), "{}: {name}", f.id),
                "QNET_INBOUND_DOMAIN" => {
                    assert_eq!(value, &json!({ "Ref": "MailDomain" }), "{}: {name} is the domain the receipt rule takes", f.id)
                }
                "QNET_SES_MAX_PER_SECOND" => {
                    assert_eq!(value, &json!({ "Ref": "DigestSendRatePerFunction" }), "{}: {name}", f.id)
                }
                // Links to the API's pages come from the configured origin only
                // (never a request's Host): one parameter for every function.
                "QNET_PUBLIC_API_URL" => {
                    assert_eq!(value, &json!({ "Ref": "PublicApiUrl" }), "{}: {name} must be the configured API origin", f.id)
                }
                "QNET_BOARD_QUEUE_URL" => {
                    assert_eq!(value, &json!({ "Ref": board_queue(&t) }), "{}: {name} must be the queue the notifier reads", f.id)
                }
                "QNET_DIGEST_QUEUE_URL" => {
                    assert_eq!(value, &json!({ "Ref": digest_queue(&t) }), "{}: {name} must be the queue the sender reads", f.id)
                }
                // Mentor matching: one setting for every function that proposes.
                "QNET_MATCHING_WEIGHTS" => assert_eq!(value, &json!({ "Ref": "MatchingWeights" }), "{}: {name}", f.id),
                "QNET_MENTORING_OFFER_DAYS" => {
                    assert_eq!(value, &json!({ "Ref": "MentoringOfferDays" }), "{}: {name}", f.id)
                }
                other => panic!("{}: no check for {other}: add one here", f.id),
            }
        }
    }
}
// ---------------------------------------------------------------------------
// (c) permissions
// ---------------------------------------------------------------------------

/// What the record store adapter calls, as IAM action names.
fn record_store_actions() -> BTreeSet<String> {
    qnet_aws::RECORD_STORE_IAM_ACTIONS.iter().map(|a| a.to_string()).collect()
}

/// What the blob store adapter calls, as IAM action names.
fn blob_store_actions() -> BTreeSet<String> {
    qnet_aws::BLOB_STORE_IAM_ACTIONS.iter().map(|a| a.to_string()).collect()
}

/// What the mail sender adapter calls, as IAM action names.
fn mail_sender_actions() -> BTreeSet<String> {
    qnet_aws::MAIL_SENDER_IAM_ACTIONS.iter().map(|a| a.to_string()).collect()
}

/// What the job queue adapter calls, as IAM action names.
fn job_queue_actions() -> BTreeSet<String> {
    qnet_aws::JOB_QUEUE_IAM_ACTIONS.iter().map(|a| a.to_string()).collect()
}

/// The digest planner's part of the record store: one `query` (GSI1).
const PLANNER_RECORD_ACTIONS: &[&str] = &["dynamodb:Query"];

/// The digest sender's part of the record store: `get`, `query`, `put`, `delete`
/// and `transact` with puts and deletes only (no `Write::Check`, so no
/// `ConditionCheckItem`: [`the_digest_sender_path_writes_no_condition_checks`]).
const SENDER_RECORD_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"];

/// The SES events function's part of the record store: suppression items by key.
const SES_EVENTS_RECORD_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem"];

/// Bucket-level S3 actions (granted on the bucket, not on its objects).
const BUCKET_LEVEL_ACTIONS: &[&str] = &["s3:ListBucket"];

/// The read-only part of the record store: what `get` and `query` call.
const RECORD_READ_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];

/// The part of the blob store email ingest uses: `get` (the raw message) and `put`
/// (attachments), plus `s3:ListBucket` for "no such key". It never deletes, copies
/// or presigns; [`ingest_calls_only_these_blob_operations`] checks its code.
const INGEST_BLOB_ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "s3:ListBucket"];

/// Object actions on the bucket: which key prefixes a function may touch, and with
/// which actions.
type ObjectGrants = &'static [(&'static str, &'static [&'static str])];

/// The API and the attachment check: presigned uploads under `uploads/`, accepted
/// files under `attachments/`.
const UPLOAD_OBJECTS: ObjectGrants = &[
    ("uploads/*", &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    ("attachments/*", &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
];

/// The API also reads the search index snapshots.
const API_OBJECTS: ObjectGrants = &[
    ("uploads/*", &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    ("attachments/*", &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    ("search/*", &["s3:GetObject"]),
];

/// The search indexer only writes snapshots.
const INDEXER_OBJECTS: ObjectGrants = &[("search/*", &["s3:PutObject"])];

/// Email ingest: reads the raw message SES stored (and never changes it), writes
/// attachments.
const INGEST_OBJECTS: ObjectGrants = &[("raw-mail/*", &["s3:GetObject"]), ("attachments/*", &["s3:GetObject", "s3:PutObject"])];

struct Grants {
    actions: BTreeSet<String>,
}

/// Checks every statement's shape and collects the granted actions. `objects`
/// lists the key prefixes the function may touch and the actions allowed on each.
fn grants(t: &Template, f: &Function, objects: ObjectGrants) -> Grants {
    let (table_id, _) = t.only("AWS::DynamoDB::Table");
    let (bucket_id, bucket) = t.files_bucket();
    let bucket_name = bucket["Properties"]["BucketName"]["Fn::Sub"].as_str().expect("the bucket's name is a !Sub string");
    let table_resources = [
        json!({ "Fn::GetAtt": [table_id, "Arn"] }),
        json!({ "Fn::Sub": format!("${{{table_id}.Arn}}/index/*") }),
        json!({ "Fn::Sub": format!("${{{table_id}.Arn}}/index/GSI1") }),
        json!({ "Fn::Sub": format!("${{{table_id}.Arn}}/index/GSI2") }),
    ];
    // The digest planner sends to the digest queue; the API and the email
    // ingest to the board queue (every_function_… checks who has sqs at all).
    let queue_resource = if f.id == "DigestPlannerFunction" {
        json!({ "Fn::GetAtt": [digest_queue(t), "Arn"] })
    } else {
        json!({ "Fn::GetAtt": [board_queue(t), "Arn"] })
    };
    let secret_resource = json!({ "Ref": t.only("AWS::SecretsManager::Secret").0 });
    let bucket_itself = |r: &Value| -> bool {
        r == &json!({ "Fn::GetAtt": [bucket_id, "Arn"] })
            || r == &json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{bucket_name}") })
    };
    // The prefix an object resource names, if it is one of this bucket's.
    let object_prefix = |r: &Value| -> Option<String> {
        let s = r["Fn::Sub"].as_str()?;
        s.strip_prefix(&format!("${{{bucket_id}.Arn}}/"))
            .or_else(|| s.strip_prefix(&format!("arn:${{AWS::Partition}}:s3:::{bucket_name}/")))
            .map(str::to_string)
    };
    let ses_resources: Vec<Value> = t
        .of_type("AWS::SES::ConfigurationSet")
        .into_iter()
        .map(|(set_id, _)| {
            json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:configuration-set/${{{set_id}}}") })
        })
        .chain([json!({ "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}" })])
        .collect();

    let mut actions = BTreeSet::new();
    for st in f.statements() {
        assert_eq!(st["Effect"], "Allow", "{}: only Allow statements expected, found {st}", f.id);
        assert!(st.get("NotAction").is_none() && st.get("NotResource").is_none(), "{}: no NotAction/NotResource", f.id);
        assert!(st.get("Principal").is_none(), "{}: an identity policy names no principal", f.id);
        let st_actions = strings(&st["Action"]);
        let resources: Vec<&Value> = match &st["Resource"] {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        assert!(!st_actions.is_empty() && !resources.is_empty(), "{}: statement without actions or resources: {st}", f.id);
        for a in &st_actions {
            assert!(!a.contains('*'), "{}: wildcard action {a}", f.id);
            let service = a.split(':').next().unwrap();
            for r in &resources {
                match service {
                    "dynamodb" => assert!(table_resources.contains(r), "{}: {a} on {r}: only the table and its indexes", f.id),
                    "s3" if BUCKET_LEVEL_ACTIONS.contains(&a.as_str()) => {
                        assert!(bucket_itself(r), "{}: {a} on {r}: only on this stack's bucket", f.id)
                    }
                    "s3" => {
                        let prefix = object_prefix(r).unwrap_or_else(|| panic!("{}: {a} on {r}: only this stack's bucket", f.id));
                        let allowed = objects.iter().find(|(p, _)| *p == prefix).map(|(_, acts)| *acts).unwrap_or_else(|| {
                            panic!(
                                "{}: {a} on {prefix}: the function works on {:?} only",
                                f.id,
                                objects.iter().map(|(p, _)| p).collect::<Vec<_>>()
                            )
                        });
                        assert!(allowed.contains(&a.as_str()), "{}: {a} on {prefix}: only {allowed:?} there", f.id);
                    }
                    "ses" => assert!(
                        ses_resources.contains(r),
                        "{}: {a} on {r}: only the mail domain's identity and this stack's configuration set",
                        f.id
                    ),
                    "sqs" => assert_eq!(*r, &queue_resource, "{}: {a} on {r}: only the queue it feeds", f.id),
                    "secretsmanager" => assert_eq!(*r, &secret_resource, "{}: {a} on {r}: only the link-signing key", f.id),
                    other => panic!("{}: unexpected service {other} in {a}", f.id),
                }
            }
        }
        actions.extend(st_actions);
    }
    Grants { actions }
}

#[test]
fn every_function_may_call_what_its_adapters_call_and_no_more() {
    let t = Template::load();
    let records = record_store_actions();
    let blobs = blob_store_actions();
    let mail = mail_sender_actions();
    for a in RECORD_READ_ACTIONS {
        assert!(records.contains(*a), "{a} should be among qnet_aws::RECORD_STORE_IAM_ACTIONS");
    }
    for a in INGEST_BLOB_ACTIONS {
        assert!(blobs.contains(*a), "{a} should be among qnet_aws::BLOB_STORE_IAM_ACTIONS");
    }
    for a in PLANNER_RECORD_ACTIONS.iter().chain(SENDER_RECORD_ACTIONS).chain(SES_EVENTS_RECORD_ACTIONS) {
        assert!(records.contains(*a), "{a} should be among qnet_aws::RECORD_STORE_IAM_ACTIONS");
    }
    let set = |actions: &[&str]| -> BTreeSet<String> { actions.iter().map(|a| a.to_string()).collect() };
    let read_only = set(RECORD_READ_ACTIONS);
    let indexer: BTreeSet<String> = read_only.iter().cloned().chain(["s3:PutObject".to_string()]).collect();
    let planner: BTreeSet<String> = set(PLANNER_RECORD_ACTIONS).union(&job_queue_actions()).cloned().collect();
    let sender: BTreeSet<String> = set(SENDER_RECORD_ACTIONS).union(&mail).cloned().collect();
    let ses_events = set(SES_EVENTS_RECORD_ACTIONS);
    let both: BTreeSet<String> = records.union(&blobs).cloned().collect();
    // The API also sends address confirmations and enqueues board jobs; it and
    // the mentoring pass sign links with the key they read from Secrets Manager.
    let secret = set(qnet_aws::SECRET_VALUE_IAM_ACTIONS);
    let api: BTreeSet<String> = both.union(&mail).cloned().chain(job_queue_actions()).chain(secret.iter().cloned()).collect();
    let mentoring: BTreeSet<String> = sender.union(&secret).cloned().collect();
    let ingest: BTreeSet<String> = records
        .iter()
        .cloned()
        .chain(INGEST_BLOB_ACTIONS.iter().map(|a| a.to_string()))
        .chain(mail.iter().cloned())
        .chain(job_queue_actions())
        .collect();

    let none: ObjectGrants = &[];
    let expected: BTreeMap<&str, (&BTreeSet<String>, ObjectGrants)> = BTreeMap::from([
        ("ApiFunction", (&api, API_OBJECTS)),
        ("SearchIndexerFunction", (&indexer, INDEXER_OBJECTS)),
        ("AttachmentCheckFunction", (&both, UPLOAD_OBJECTS)),
        ("PreSignupFunction", (&read_only, none)),
        ("EmailIngestFunction", (&ingest, INGEST_OBJECTS)),
        ("DigestPlannerFunction", (&planner, none)),
        ("DigestSenderFunction", (&sender, none)),
        // Claims and reply tokens: the digest sender's actions.
        ("BoardNotifierFunction", (&sender, none)),
        ("SesEventsFunction", (&ses_events, none)),
        // Like the sender: get, query, put, delete and transactions of puts and
        // deletes only (no `Write::Check`).
        ("MentoringFunction", (&mentoring, none)),
        ("CoffeeRoundFunction", (&sender, none)),
        ("EventRemindersFunction", (&sender, none)),
        // Claims, weekly slots and opt-out tokens: the sender's actions.
        ("EngagementFunction", (&sender, none)),
    ]);
    let functions = t.functions();
    assert_eq!(
        functions.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected.keys().copied().collect::<BTreeSet<_>>(),
        "each deployed function needs its expected permissions here"
    );
    for (id, f) in &functions {
        let (want, objects) = expected[id.as_str()];
        let got = grants(&t, f, objects).actions;
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(want).collect();
        assert!(missing.is_empty(), "{id}: the policy lacks {missing:?}, which its adapters call");
        assert!(extra.is_empty(), "{id}: the policy grants {extra:?}, which its adapters never call");
    }
}

/// The blob store operations the ingest path calls (the application's ingest step
/// and the function's handler), as IAM actions: they must be within
/// [`INGEST_BLOB_ACTIONS`], which is what the template grants.
#[test]
fn ingest_calls_only_these_blob_operations() {
    let root = workspace_root();
    // The ingest folder counts as all of its files (the router and the case-study ingest).
    let sources = ["shared/app/src/ingest", "functions/email-ingest/src/lib.rs"];
    let mut called = BTreeSet::new();
    for path in sources {
        let text = rust_text(&root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let compact: String = text.split_whitespace().collect();
        for (i, _) in compact.match_indices("blobs.") {
            let method: String =
                compact[i + "blobs.".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !compact[i + "blobs.".len() + method.len()..].starts_with('(') {
                continue;
            }
            let actions: &[&str] = match method.as_str() {
                "get" | "head" | "presign_get" => &["s3:GetObject"],
                "put" | "presign_put" => &["s3:PutObject"],
                "copy" => &["s3:GetObject", "s3:PutObject"],
                "delete" => &["s3:DeleteObject"],
                other => panic!("{path}: blobs.{other}(): unknown blob store operation; map it to IAM actions here"),
            };
            called.extend(actions.iter().copied());
        }
    }
    assert!(called.contains("s3:GetObject"), "the ingest path reads the raw message through the blob store");
    for a in &called {
        assert!(INGEST_BLOB_ACTIONS.contains(a), "the ingest path calls {a}, which EmailIngestFunction is not granted");
    }
}

// ---------------------------------------------------------------------------
// (d) routes and the OpenAPI document
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    Public,
    Optional,
    Required,
}

/// `(METHOD, path)` → login, from the API's OpenAPI document.
fn documented_operations() -> BTreeMap<(String, String), Login> {
    let doc: Value = qnet_api::openapi_json();
    let global_security = doc.get("security").cloned();
    let paths = doc["paths"].as_object().expect("the OpenAPI document has paths");
    let mut out = BTreeMap::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            let Some(op) = item.get(method) else { continue };
            let security = op.get("security").cloned().or_else(|| global_security.clone());
            let login = match security {
                None => Login::Public,
                Some(Value::Array(reqs)) if reqs.is_empty() => Login::Public,
                Some(Value::Array(reqs)) => {
                    let anonymous = reqs.iter().any(|r| r.as_object().is_some_and(|m| m.is_empty()));
                    if anonymous { if reqs.len() == 1 { Login::Public } else { Login::Optional } } else { Login::Required }
                }
                Some(other) => panic!("{method} {path}: security is not a list: {other}"),
            };
            out.insert((method.to_ascii_uppercase(), path.clone()), login);
        }
    }
    out
}

#[test]
fn routes_are_the_documented_operations_with_the_documented_login() {
    let t = Template::load();
    let (api_id, api) = t.only("AWS::Serverless::HttpApi");
    let auth = &api["Properties"]["Auth"];
    let authorizers: BTreeSet<&String> =
        auth["Authorizers"].as_object().expect("the HTTP API defines its JWT authorizer").keys().collect();
    assert_eq!(authorizers.len(), 1, "one JWT authorizer expected");
    let jwt_name = authorizers.iter().next().unwrap().as_str();
    let default_authorizer = auth["DefaultAuthorizer"].as_str();

    let mut routes: BTreeMap<(String, String), bool> = BTreeMap::new();
    let mut default_routes = Vec::new();
    for f in t.functions().values() {
        for (name, event) in f.events() {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let props = &event["Properties"];
            assert_eq!(props["ApiId"], json!({ "Ref": api_id }), "{}.{name}: ApiId", f.id);
            let authorizer = props["Auth"]["Authorizer"].as_str().or(default_authorizer).unwrap_or("NONE");
            assert!(authorizer == "NONE" || authorizer == jwt_name, "{}.{name}: unknown authorizer {authorizer}", f.id);
            let protected = authorizer != "NONE";
            match (props["Method"].as_str(), props["Path"].as_str()) {
                (None, None) => {
                    assert!(!protected, "{}.{name}: the $default route must not require login (unknown paths get a 404)", f.id);
                    default_routes.push(format!("{}.{name}", f.id));
                }
                (Some(method), Some(path)) => {
                    let key = (method.to_ascii_uppercase(), path.to_string());
                    assert!(routes.insert(key.clone(), protected).is_none(), "{key:?} is routed twice");
                }
                _ => panic!("{}.{name}: an HttpApi event names both Method and Path, or neither ($default)", f.id),
            }
        }
    }
    assert_eq!(default_routes.len(), 1, "exactly one $default route expected, found {default_routes:?}");
    assert!(default_routes[0].starts_with("ApiFunction."), "the $default route belongs to the API function");

    let documented = documented_operations();
    let routed: BTreeSet<&(String, String)> = routes.keys().collect();
    let operations: BTreeSet<&(String, String)> = documented.keys().collect();
    let undocumented: Vec<_> = routed.difference(&operations).collect();
    let unrouted: Vec<_> = operations.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routes in the template that the OpenAPI document lacks: {undocumented:?}");
    assert!(unrouted.is_empty(), "operations in the OpenAPI document that the template does not route: {unrouted:?}");

    for (key, protected) in &routes {
        let login = documented[key];
        assert_eq!(
            *protected,
            login == Login::Required,
            "{} {}: the document says login is {login:?}, the route {} the JWT authorizer",
            key.0,
            key.1,
            if *protected { "carries" } else { "lacks" }
        );
    }
}

#[test]
fn the_jwt_authorizer_trusts_this_user_pool_and_client() {
    let t = Template::load();
    let (pool_id, _) = t.only("AWS::Cognito::UserPool");
    let (client_id, client) = t.only("AWS::Cognito::UserPoolClient");
    let (_, api) = t.only("AWS::Serverless::HttpApi");
    let jwt = api["Properties"]["Auth"]["Authorizers"].as_object().unwrap().values().next().unwrap();
    assert_eq!(jwt["IdentitySource"], "$request.header.Authorization");
    assert_eq!(
        jwt["JwtConfiguration"]["issuer"],
        json!({ "Fn::Sub": format!("https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{pool_id}}}") })
    );
    assert_eq!(jwt["JwtConfiguration"]["audience"], json!([{ "Ref": client_id }]));
    assert_eq!(client["Properties"]["GenerateSecret"], json!(false), "a browser client has no secret");

    let cors = &api["Properties"]["CorsConfiguration"];
    assert_eq!(cors["AllowOrigins"], json!([{ "Ref": "FrontendOrigin" }]));
    let access_logs = &api["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"];
    let log_group = access_logs[0].as_str().expect("access logs go to a log group of this stack");
    assert!(!t.resource(log_group)["Properties"]["RetentionInDays"].is_null(), "{log_group}: access logs need a retention");
}

// ---------------------------------------------------------------------------
// Identity: groups and the pre-sign-up trigger
// ---------------------------------------------------------------------------

#[test]
fn the_user_pool_has_a_group_per_assigned_role_and_the_pre_signup_trigger() {
    let t = Template::load();
    let (pool_id, pool) = t.only("AWS::Cognito::UserPool");
    let groups: BTreeSet<String> = t
        .of_type("AWS::Cognito::UserPoolGroup")
        .into_iter()
        .map(|(id, g)| {
            assert_eq!(g["Properties"]["UserPoolId"], json!({ "Ref": pool_id }), "{id}: UserPoolId");
            g["Properties"]["GroupName"].as_str().expect("GroupName").to_string()
        })
        .collect();
    // Every signed-in person is a member; the other roles are groups.
    let roles: BTreeSet<String> =
        qnet_domain::Role::ALL.into_iter().filter(|r| *r != qnet_domain::Role::Member).map(|r| r.as_str().to_string()).collect();
    let extra: BTreeSet<String> = groups.difference(&roles).cloned().collect();
    assert!(roles.is_subset(&groups), "groups {groups:?} must include every assigned role {roles:?}");
    assert!(extra.iter().all(|g| g == "member"), "groups that are no role: {extra:?}");

    let p = &pool["Properties"];
    assert_eq!(p["UsernameAttributes"], json!(["email"]));
    assert_eq!(p["LambdaConfig"]["PreSignUp"], json!({ "Fn::GetAtt": ["PreSignupFunction", "Arn"] }));
    let schema = p["Schema"].as_array().expect("Schema");
    let email = schema.iter().find(|a| a["Name"] == "email").expect("email attribute");
    assert_eq!(email["Required"], json!(true));
    assert!(schema.iter().any(|a| a["Name"] == "name"), "name attribute");

    let permitted = t.of_type("AWS::Lambda::Permission").into_iter().any(|(_, perm)| {
        let pp = &perm["Properties"];
        pp["Principal"] == "cognito-idp.amazonaws.com"
            && pp["Action"] == "lambda:InvokeFunction"
            && pp["FunctionName"] == json!({ "Fn::GetAtt": ["PreSignupFunction", "Arn"] })
            && pp["SourceArn"] == json!({ "Fn::GetAtt": [pool_id, "Arn"] })
    });
    assert!(permitted, "cognito-idp needs permission to invoke PreSignupFunction");
}

#[test]
fn uploads_trigger_the_attachment_check() {
    let t = Template::load();
    let (bucket_id, _) = t.files_bucket();
    let functions = t.functions();
    let f = &functions["AttachmentCheckFunction"];
    let s3_events: Vec<&Value> = f.events().into_iter().filter(|(_, e)| e["Type"] == "S3").map(|(_, e)| e).collect();
    assert_eq!(s3_events.len(), 1, "one S3 event expected");
    let p = &s3_events[0]["Properties"];
    assert_eq!(p["Bucket"], json!({ "Ref": bucket_id }));
    assert_eq!(strings(&p["Events"]), vec!["s3:ObjectCreated:*".to_string()]);
    assert_eq!(p["Filter"]["S3Key"]["Rules"], json!([{ "Name": "prefix", "Value": "uploads/" }]));
    // No other function is triggered by the bucket.
    for (id, other) in &functions {
        if id != "AttachmentCheckFunction" {
            assert!(other.events().iter().all(|(_, e)| e["Type"] != "S3"), "{id} has an S3 event");
        }
    }
}

// ---------------------------------------------------------------------------
// Inbound mail: SES receipt rule → raw-mail/ → EmailIngestFunction
// ---------------------------------------------------------------------------

/// The ARN of the one receipt rule, spelled as the template must spell it where
/// it cannot refer to the rule (the rule depends on those resources).
fn receipt_rule_arn(t: &Template) -> Value {
    let (set_id, _) = t.only("AWS::SES::ReceiptRuleSet");
    let (rule_id, rule) = t.only("AWS::SES::ReceiptRule");
    let name = rule["Properties"]["Rule"]["Name"]["Fn::Sub"]
        .as_str()
        .unwrap_or_else(|| panic!("{rule_id}: Rule.Name is a !Sub string (so that others can spell its ARN)"));
    json!({ "Fn::Sub": format!(
        "arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:receipt-rule-set/${{{set_id}}}:receipt-rule/{name}"
    ) })
}

#[test]
fn the_receipt_rule_stores_raw_mail_before_it_invokes_email_ingest() {
    let t = Template::load();
    let (bucket_id, bucket) = t.files_bucket();
    let (set_id, _) = t.only("AWS::SES::ReceiptRuleSet");
    let (rule_id, rule) = t.only("AWS::SES::ReceiptRule");
    let p = &rule["Properties"];
    assert_eq!(p["RuleSetName"], json!({ "Ref": set_id }), "{rule_id}: RuleSetName");
    let r = &p["Rule"];
    assert_eq!(r["Enabled"], json!(true), "{rule_id}: Enabled");
    assert_eq!(r["ScanEnabled"], json!(true), "{rule_id}: spam and virus verdicts feed ingest");
    assert_eq!(r["TlsPolicy"], "Require", "{rule_id}: TlsPolicy");
    // The whole domain: the case study address, reply+TOKEN@ and unsubscribe+TOKEN@.
    assert_eq!(r["Recipients"], json!([{ "Ref": "MailDomain" }]), "{rule_id}: Recipients");

    let actions = receipt_actions(&t);
    let position = |kind: &str| -> usize {
        let at: Vec<usize> = actions.iter().enumerate().filter(|(_, a)| a.get(kind).is_some()).map(|(i, _)| i).collect();
        assert_eq!(at.len(), 1, "{rule_id}: exactly one {kind} expected, found {}", at.len());
        at[0]
    };
    let (store, invoke) = (position("S3Action"), position("LambdaAction"));
    assert!(store < invoke, "{rule_id}: the raw message must be stored before the function that reads it is invoked");
    let s3 = &actions[store]["S3Action"];
    assert!(
        s3["BucketName"] == json!({ "Ref": bucket_id }) || s3["BucketName"] == bucket["Properties"]["BucketName"],
        "{rule_id}: the S3 action stores into this stack's bucket, found {}",
        s3["BucketName"]
    );
    assert_eq!(s3["ObjectKeyPrefix"], RAW_MAIL_PREFIX, "{rule_id}: the S3 action stores under {RAW_MAIL_PREFIX}");
    assert!(s3.get("TopicArn").is_none(), "{rule_id}: no SNS notification: the Lambda action is the trigger");
    let lambda = &actions[invoke]["LambdaAction"];
    assert_eq!(lambda["FunctionArn"], json!({ "Fn::GetAtt": ["EmailIngestFunction", "Arn"] }), "{rule_id}: LambdaAction");
    assert_eq!(lambda["InvocationType"], "Event", "{rule_id}: SES invokes ingest asynchronously (Lambda retries)");

    // Raw mail is kept for 30 days, then the lifecycle rule removes it.
    assert_eq!(expiry_days(bucket, RAW_MAIL_PREFIX), Some(30), "{bucket_id}: {RAW_MAIL_PREFIX} expires after 30 days");

    // SES may invoke the function, for this rule of this account only.
    let arn = receipt_rule_arn(&t);
    let permissions: Vec<&str> = t
        .of_type("AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, perm)| perm["Properties"]["Principal"] == "ses.amazonaws.com")
        .map(|(id, perm)| {
            let pp = &perm["Properties"];
            assert_eq!(pp["Action"], "lambda:InvokeFunction", "{id}: Action");
            assert_eq!(pp["FunctionName"], json!({ "Fn::GetAtt": ["EmailIngestFunction", "Arn"] }), "{id}: FunctionName");
            assert_eq!(pp["SourceAccount"], json!({ "Ref": "AWS::AccountId" }), "{id}: SourceAccount");
            assert_eq!(pp["SourceArn"], arn, "{id}: SourceArn must be the receipt rule");
            id
        })
        .collect();
    assert_eq!(permissions.len(), 1, "ses.amazonaws.com needs exactly one permission to invoke EmailIngestFunction");

    // SES may write raw mail, under raw-mail/ only, for this rule of this account only.
    let mut ses_writes = Vec::new();
    for (policy_id, bp) in t.of_type("AWS::S3::BucketPolicy") {
        if bp["Properties"]["Bucket"] == json!({ "Ref": WEB_BUCKET }) {
            continue;
        }
        assert_eq!(bp["Properties"]["Bucket"], json!({ "Ref": bucket_id }), "{policy_id}: Bucket");
        for s in bp["Properties"]["PolicyDocument"]["Statement"].as_array().expect("statements") {
            if s["Principal"]["Service"] != "ses.amazonaws.com" {
                continue;
            }
            assert_eq!(s["Effect"], "Allow", "{policy_id}: SES statement");
            assert_eq!(strings(&s["Action"]), vec!["s3:PutObject".to_string()], "{policy_id}: SES may only put objects");
            assert_eq!(
                strings(&s["Resource"]["Fn::Sub"]),
                vec![format!("${{{bucket_id}.Arn}}/{RAW_MAIL_PREFIX}*")],
                "{policy_id}: SES writes under {RAW_MAIL_PREFIX} only"
            );
            let condition = &s["Condition"]["StringEquals"];
            assert_eq!(condition["aws:SourceAccount"], json!({ "Ref": "AWS::AccountId" }), "{policy_id}: aws:SourceAccount");
            assert_eq!(condition["aws:SourceArn"], arn, "{policy_id}: aws:SourceArn must be the receipt rule");
            ses_writes.push(policy_id);
        }
    }
    assert_eq!(ses_writes.len(), 1, "a bucket policy must let SES store raw mail");

    // SES checks both when the rule is created.
    let depends_on = strings(&rule["DependsOn"]);
    for needed in [ses_writes[0], permissions[0]] {
        assert!(depends_on.iter().any(|d| d == needed), "{rule_id}: DependsOn must name {needed}");
    }
}

// ---------------------------------------------------------------------------
// Digests: schedule → DigestPlannerFunction → DigestQueue → DigestSenderFunction;
// SES events: configuration set → SNS → SesEventsFunction; dead-letter queues
// ---------------------------------------------------------------------------

#[test]
fn the_digest_planner_runs_on_monday_mornings_in_london_and_reads_gsi1_only() {
    let t = Template::load();
    let functions = t.functions();
    let planner = &functions["DigestPlannerFunction"];
    let events = planner.events();
    assert_eq!(events.len(), 1, "DigestPlannerFunction: one event, its schedule");
    let (name, event) = events[0];
    assert_eq!(event["Type"], "ScheduleV2", "DigestPlannerFunction.{name}: an EventBridge Scheduler schedule");
    let p = &event["Properties"];
    assert_eq!(p["ScheduleExpression"], "cron(0 7 ? * MON *)", "DigestPlannerFunction.{name}: Mondays 07:00");
    assert_eq!(
        p["ScheduleExpressionTimezone"], "Europe/London",
        "DigestPlannerFunction.{name}: London time, whatever the clocks do"
    );
    assert!(
        p["RetryPolicy"]["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0),
        "DigestPlannerFunction.{name}: RetryPolicy"
    );
    // The input is passed verbatim: the handler reads `now` from it.
    let input: Value = serde_json::from_str(p["Input"].as_str().expect("Input is a JSON string")).expect("Input is JSON");
    assert_eq!(input["now"], "<aws.scheduler.scheduled-time>", "DigestPlannerFunction.{name}: `now` is the scheduled time");
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("tests/fixtures/events/eventbridge-scheduler-digest.json")).unwrap(),
    )
    .unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&input), keys(&fixture), "the fixture is this schedule's input, filled in");

    // The members of a cadence come from one index; nothing else of the table.
    let (table_id, _) = t.only("AWS::DynamoDB::Table");
    for st in planner.statements() {
        if strings(&st["Action"]).iter().any(|a| a.starts_with("dynamodb:")) {
            assert_eq!(
                st["Resource"],
                json!([{ "Fn::Sub": format!("${{{table_id}.Arn}}/index/GSI1") }]),
                "DigestPlannerFunction: DynamoDB on GSI1 only"
            );
        }
    }
}

#[test]
fn the_board_notifier_reports_batch_item_failures_from_a_queue_with_a_dead_letter_queue() {
    let t = Template::load();
    let functions = t.functions();
    let notifier = &functions["BoardNotifierFunction"];
    let events = notifier.events();
    assert_eq!(events.len(), 1, "BoardNotifierFunction: one event, its queue");
    let (name, event) = events[0];
    assert_eq!(event["Type"], "SQS");
    let p = &event["Properties"];
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec!["ReportBatchItemFailures".to_string()],
        "BoardNotifierFunction.{name}: only the failed records come back, never the whole batch"
    );
    assert!(p["BatchSize"].as_u64().is_some_and(|n| (1..=10).contains(&n)), "BoardNotifierFunction.{name}: BatchSize 1..=10");
    let queue_id = board_queue(&t);
    let queue = t.resource(&queue_id);
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    let q = &queue["Properties"];
    assert!(q["SqsManagedSseEnabled"] == json!(true) || !q["KmsMasterKeyId"].is_null(), "{queue_id}: encryption at rest");
    let timeout = notifier.prop("Timeout").as_u64().unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().expect("an explicit VisibilityTimeout");
    assert!(visibility >= 6 * timeout, "{queue_id}: VisibilityTimeout {visibility} must be at least 6 × Timeout {timeout}");
    let redrive = &q["RedrivePolicy"];
    let max_receives = redrive["maxReceiveCount"].as_u64().expect("RedrivePolicy.maxReceiveCount");
    assert!((3..=10).contains(&max_receives), "{queue_id}: maxReceiveCount {max_receives}");
    let dlq_id = arn_of(&redrive["deadLetterTargetArn"]).expect("RedrivePolicy.deadLetterTargetArn is !GetAtt <Queue>.Arn");
    let dlq = t.resource(dlq_id);
    assert_eq!(dlq["Type"], "AWS::SQS::Queue", "{dlq_id}");
    let retention = |r: &Value| r["Properties"]["MessageRetentionPeriod"].as_u64().unwrap_or(345_600);
    assert_eq!(retention(dlq), 14 * 86_400, "{dlq_id}: dead letters are kept 14 days");
    assert!(retention(dlq) > retention(queue), "{dlq_id}: a message keeps its first enqueue time in the dead-letter queue");
    // The API (posts, replies) and the email ingest (replies by email) write to this very queue.
    for f in ["ApiFunction", "EmailIngestFunction"] {
        assert_eq!(functions[f].environment()["QNET_BOARD_QUEUE_URL"], json!({ "Ref": queue_id }), "{f}");
    }
}

#[test]
fn the_digest_sender_reports_batch_item_failures_from_a_queue_with_a_dead_letter_queue() {
    let t = Template::load();
    let functions = t.functions();
    let sender = &functions["DigestSenderFunction"];
    let events = sender.events();
    assert_eq!(events.len(), 1, "DigestSenderFunction: one event, its queue");
    let (name, event) = events[0];
    assert_eq!(event["Type"], "SQS");
    let p = &event["Properties"];
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec!["ReportBatchItemFailures".to_string()],
        "DigestSenderFunction.{name}: only the failed records come back, never the whole batch"
    );
    assert!(p["BatchSize"].as_u64().is_some_and(|n| (1..=10).contains(&n)), "DigestSenderFunction.{name}: BatchSize 1..=10");
    assert!(
        p["ScalingConfig"]["MaximumConcurrency"].as_u64().is_some_and(|n| n >= 2),
        "DigestSenderFunction.{name}: ScalingConfig.MaximumConcurrency bounds the SES rate"
    );

    let queue_id = digest_queue(&t);
    let queue = t.resource(&queue_id);
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    let q = &queue["Properties"];
    assert!(q["SqsManagedSseEnabled"] == json!(true) || !q["KmsMasterKeyId"].is_null(), "{queue_id}: encryption at rest");
    let timeout = sender.prop("Timeout").as_u64().unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().expect("an explicit VisibilityTimeout");
    assert!(
        visibility >= 6 * timeout,
        "{queue_id}: VisibilityTimeout {visibility} must be at least 6 × the sender's Timeout {timeout}"
    );

    let redrive = &q["RedrivePolicy"];
    let max_receives = redrive["maxReceiveCount"].as_u64().expect("{queue_id}: RedrivePolicy.maxReceiveCount");
    assert!((3..=10).contains(&max_receives), "{queue_id}: maxReceiveCount {max_receives}");
    let dlq_id = arn_of(&redrive["deadLetterTargetArn"]).expect("RedrivePolicy.deadLetterTargetArn is !GetAtt <Queue>.Arn");
    let dlq = t.resource(dlq_id);
    assert_eq!(dlq["Type"], "AWS::SQS::Queue", "{dlq_id}");
    let retention = |r: &Value| r["Properties"]["MessageRetentionPeriod"].as_u64().unwrap_or(345_600);
    assert_eq!(retention(dlq), 14 * 86_400, "{dlq_id}: dead letters are kept 14 days");
    assert!(retention(dlq) > retention(queue), "{dlq_id}: a message keeps its first enqueue time in the dead-letter queue");

    // The planner writes to this very queue.
    let planner = &functions["DigestPlannerFunction"];
    assert_eq!(planner.environment()["QNET_DIGEST_QUEUE_URL"], json!({ "Ref": queue_id }));
}

#[test]
fn bounces_and_complaints_reach_the_ses_events_function_and_failures_are_kept() {
    let t = Template::load();
    let (set_id, _) = t.only("AWS::SES::ConfigurationSet");
    let (dest_id, dest) = t.only("AWS::SES::ConfigurationSetEventDestination");
    let p = &dest["Properties"];
    assert_eq!(p["ConfigurationSetName"], json!({ "Ref": set_id }), "{dest_id}: on the configuration set mail is sent through");
    let d = &p["EventDestination"];
    assert_eq!(d["Enabled"], json!(true), "{dest_id}: Enabled");
    let types: BTreeSet<String> = strings(&d["MatchingEventTypes"]).into_iter().map(|s| s.to_ascii_lowercase()).collect();
    assert!(types.contains("bounce") && types.contains("complaint"), "{dest_id}: bounces and complaints, found {types:?}");
    let topic = d["SnsDestination"]["TopicARN"]["Ref"].as_str().expect("{dest_id}: SnsDestination.TopicARN is !Ref <Topic>");
    assert_eq!(t.resource(topic)["Type"], "AWS::SNS::Topic");

    // SES may publish to the topic, for this account only.
    let allowed = t.of_type("AWS::SNS::TopicPolicy").into_iter().any(|(_, tp)| {
        tp["Properties"]["Topics"].as_array().is_some_and(|ts| ts.contains(&json!({ "Ref": topic })))
            && tp["Properties"]["PolicyDocument"]["Statement"].as_array().is_some_and(|sts| {
                sts.iter().any(|s| {
                    s["Effect"] == "Allow"
                        && s["Principal"]["Service"] == "ses.amazonaws.com"
                        && strings(&s["Action"]).iter().any(|a| a == "sns:Publish")
                        && s["Condition"]["StringEquals"]["aws:SourceAccount"] == json!({ "Ref": "AWS::AccountId" })
                })
            })
    });
    assert!(allowed, "a topic policy must let ses.amazonaws.com publish to {topic}, for this account");

    let functions = t.functions();
    let f = &functions["SesEventsFunction"];
    let sns: Vec<&Value> = f.events().into_iter().filter(|(_, e)| e["Type"] == "SNS").map(|(_, e)| e).collect();
    assert_eq!(sns.len(), 1, "SesEventsFunction: one SNS event");
    assert_eq!(sns[0]["Properties"]["Topic"], json!({ "Ref": topic }));
    for (id, other) in &functions {
        if id != "SesEventsFunction" {
            assert!(other.events().iter().all(|(_, e)| e["Type"] != "SNS"), "{id} has an SNS event");
        }
    }
    // A malformed event fails the invocation; after Lambda's retries it is kept.
    let dlq = f.prop("DeadLetterQueue");
    assert_eq!(dlq["Type"], "SQS", "SesEventsFunction: DeadLetterQueue");
    let dlq_id = arn_of(&dlq["TargetArn"]).expect("SesEventsFunction: DeadLetterQueue.TargetArn is !GetAtt <Queue>.Arn");
    assert_eq!(t.resource(dlq_id)["Properties"]["MessageRetentionPeriod"], json!(14 * 86_400), "{dlq_id}: kept 14 days");
}

#[test]
fn every_queue_is_encrypted_and_tls_only_and_every_dead_letter_queue_alarmed() {
    let t = Template::load();
    let functions = t.functions();
    let digest_dlq =
        arn_of(&t.resource(&digest_queue(&t))["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]).unwrap().to_string();
    let ses_dlq = arn_of(&functions["SesEventsFunction"].prop("DeadLetterQueue")["TargetArn"]).unwrap().to_string();
    let alarms = t.of_type("AWS::CloudWatch::Alarm");
    for dlq in [&digest_dlq, &ses_dlq] {
        let alarmed = alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["Namespace"] == "AWS/SQS"
                && p["MetricName"] == "ApproximateNumberOfMessagesVisible"
                && p["ComparisonOperator"] == "GreaterThanThreshold"
                && p["Threshold"].as_f64() == Some(0.0)
                && p["Dimensions"].as_array().is_some_and(|ds| {
                    ds.iter().any(|d| d["Name"] == "QueueName" && d["Value"] == json!({ "Fn::GetAtt": [dlq, "QueueName"] }))
                })
        });
        assert!(alarmed, "{dlq}: an alarm on ApproximateNumberOfMessagesVisible > 0");
    }
    for (id, queue) in t.of_type("AWS::SQS::Queue") {
        let q = &queue["Properties"];
        assert!(q["SqsManagedSseEnabled"] == json!(true) || !q["KmsMasterKeyId"].is_null(), "{id}: encryption at rest");
        let tls_only = t.of_type("AWS::SQS::QueuePolicy").into_iter().any(|(_, qp)| {
            qp["Properties"]["Queues"].as_array().is_some_and(|qs| qs.contains(&json!({ "Ref": id })))
                && qp["Properties"]["PolicyDocument"]["Statement"].as_array().is_some_and(|sts| {
                    sts.iter().any(|s| {
                        s["Effect"] == "Deny"
                            && s["Condition"]["Bool"]["aws:SecureTransport"] == json!("false")
                            && s["Resource"].as_array().is_some_and(|rs| rs.contains(&json!({ "Fn::GetAtt": [id, "Arn"] })))
                    })
                })
        });
        assert!(tls_only, "{id}: a queue policy must deny requests without TLS");
    }
}

/// A source file's text, or every `.rs` file's under a folder, joined.
fn rust_text(path: &std::path::Path) -> std::io::Result<String> {
    if !path.is_dir() {
        return std::fs::read_to_string(path);
    }
    let mut text = String::new();
    for entry in std::fs::read_dir(path)? {
        text.push_str(&rust_text(&entry?.path())?);
    }
    Ok(text)
}

/// The digest sender may not `dynamodb:ConditionCheckItem`: the code on its path
/// must not issue `Write::Check` (which the record store turns into one).
#[test]
fn the_digest_sender_path_writes_no_condition_checks() {
    let root = workspace_root();
    for path in [
        "shared/app/src/digest",
        "shared/app/src/members/suppression.rs",
        "shared/app/src/tokens.rs",
        "functions/digest-sender/src/lib.rs",
        // The mentoring pass and the coffee round (mentoring/coffee.rs) are granted the same actions.
        "shared/app/src/mentoring",
        "shared/app/src/members/mod.rs",
        "shared/app/src/members/organisations.rs",
        "functions/mentoring/src/lib.rs",
        "functions/coffee-round/src/lib.rs",
        // The engagement pass is granted the same actions.
        "shared/app/src/engagement",
        "shared/app/src/reads.rs",
        "functions/engagement/src/lib.rs",
    ] {
        // A feature folder counts as all of its files.
        let text = rust_text(&root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            !text.contains("Write::Check"),
            "{path} issues Write::Check: grant DigestSenderFunction dynamodb:ConditionCheckItem (and SENDER_RECORD_ACTIONS)"
        );
    }
}

// ---------------------------------------------------------------------------
// (e) the table and the bucket
// ---------------------------------------------------------------------------

#[test]
fn the_table_has_its_keys_indexes_ttl_backups_and_encryption() {
    let t = Template::load();
    let (id, table) = t.only("AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain", "{id}: DeletionPolicy");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["KeySchema"],
        json!([{ "AttributeName": "PK", "KeyType": "HASH" }, { "AttributeName": "SK", "KeyType": "RANGE" }])
    );
    let attributes: BTreeMap<&str, &str> = p["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap(), a["AttributeType"].as_str().unwrap()))
        .collect();
    for key in ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"] {
        assert_eq!(attributes.get(key), Some(&"S"), "{id}: attribute {key} must be a string key");
    }
    let indexes = p["GlobalSecondaryIndexes"].as_array().unwrap();
    for name in ["GSI1", "GSI2"] {
        let index = indexes.iter().find(|i| i["IndexName"] == name).unwrap_or_else(|| panic!("{id}: index {name}"));
        assert_eq!(
            index["KeySchema"],
            json!([{ "AttributeName": format!("{name}PK"), "KeyType": "HASH" }, { "AttributeName": format!("{name}SK"), "KeyType": "RANGE" }])
        );
        assert_eq!(index["Projection"]["ProjectionType"], "ALL");
    }
    assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], json!(true), "{id}: PITR");
    assert_eq!(p["TimeToLiveSpecification"], json!({ "AttributeName": "expires_at", "Enabled": true }), "{id}: TTL");
    assert_eq!(p["SSESpecification"]["SSEEnabled"], json!(true), "{id}: encryption");
}

#[test]
fn the_bucket_is_private_encrypted_tls_only_and_expires_what_it_should() {
    let t = Template::load();
    let (id, bucket) = t.files_bucket();
    assert_eq!(bucket["DeletionPolicy"], "Retain", "{id}: DeletionPolicy");
    let p = &bucket["Properties"];
    assert_eq!(
        p["PublicAccessBlockConfiguration"],
        json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true }),
        "{id}: public access block"
    );
    let rules = p["BucketEncryption"]["ServerSideEncryptionConfiguration"].as_array().expect("encryption rules");
    assert!(
        rules.iter().any(|r| matches!(
            r["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str(),
            Some("AES256" | "aws:kms" | "aws:kms:dsse")
        )),
        "{id}: default encryption"
    );

    let cors = p["CorsConfiguration"]["CorsRules"].as_array().expect("CORS rules");
    assert_eq!(cors.len(), 1);
    assert_eq!(cors[0]["AllowedOrigins"], json!([{ "Ref": "FrontendOrigin" }]));
    let methods: BTreeSet<String> = strings(&cors[0]["AllowedMethods"]).into_iter().collect();
    assert_eq!(methods, BTreeSet::from(["GET".to_string(), "PUT".to_string()]));
    let headers: BTreeSet<String> = strings(&cors[0]["AllowedHeaders"]).into_iter().map(|h| h.to_ascii_lowercase()).collect();
    for h in ["content-type", "content-length", "x-amz-checksum-sha256"] {
        assert!(headers.contains(h), "{id}: CORS must allow {h}");
    }

    let lifecycle = p["LifecycleConfiguration"]["Rules"].as_array().expect("lifecycle rules");
    let enabled = |r: &&Value| r["Status"] == "Enabled";
    assert_eq!(expiry_days(bucket, "uploads/"), Some(1), "{id}: uploads/ expire after a day");
    assert_eq!(expiry_days(bucket, RAW_MAIL_PREFIX), Some(30), "{id}: {RAW_MAIL_PREFIX} expires after 30 days");
    assert!(
        lifecycle.iter().filter(enabled).any(|r| r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].is_u64()
            && r.get("Prefix").is_none()
            && r["Filter"].get("Prefix").is_none()),
        "{id}: incomplete multipart uploads are aborted bucket-wide"
    );

    // TLS only.
    let policies = t.of_type("AWS::S3::BucketPolicy");
    let denies_plain_http = policies.iter().any(|(_, bp)| {
        bp["Properties"]["Bucket"] == json!({ "Ref": id })
            && bp["Properties"]["PolicyDocument"]["Statement"].as_array().is_some_and(|sts| {
                sts.iter().any(|s| {
                    s["Effect"] == "Deny"
                        && s["Principal"] == "*"
                        && strings(&s["Action"]).iter().any(|a| a == "s3:*")
                        && (s["Condition"]["Bool"]["aws:SecureTransport"] == json!("false")
                            || s["Condition"]["Bool"]["aws:SecureTransport"] == json!(false))
                })
            })
    });
    assert!(denies_plain_http, "{id}: a bucket policy must deny requests without TLS");
}

#[test]
fn outputs_name_what_the_front_end_and_operators_need() {
    let t = Template::load();
    let outputs = t.doc["Outputs"].as_object().expect("Outputs");
    for name in [
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "TableName",
        "BucketName",
        "ReceiptRuleSetName",
        "DigestDeadLetterQueueUrl",
        "DigestDeadLetterQueueArn",
        "SesEventsDeadLetterQueueUrl",
        "DigestPlannerFunctionName",
        "SesEventsFunctionName",
        "MentoringFunctionName",
        "CoffeeRoundFunctionName",
        "EventRemindersFunctionName",
        "EngagementFunctionName",
    ] {
        assert!(outputs.contains_key(name), "output {name} is missing");
    }
}

// ---------------------------------------------------------------------------
// The web front end: a private bucket behind CloudFront, one set of security
// headers, Cognito managed login, CORS for the browser, scripts/deploy-web
// ---------------------------------------------------------------------------

/// The bucket that holds the built web app (and that only CloudFront reads).
const WEB_BUCKET: &str = "WebBucket";

/// The id of AWS's managed cache policy "Managed-CachingOptimized".
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

fn web_distribution(t: &Template) -> (&str, &Value) {
    t.only("AWS::CloudFront::Distribution")
}

fn output_value<'a>(t: &'a Template, name: &str) -> &'a Value {
    let v = &t.doc["Outputs"][name]["Value"];
    assert!(!v.is_null(), "output {name} is missing");
    v
}

#[test]
fn the_web_app_is_a_private_bucket_read_by_cloudfront_through_origin_access_control() {
    let t = Template::load();
    let bucket = t.resource(WEB_BUCKET);
    let p = &bucket["Properties"];
    assert_eq!(
        p["PublicAccessBlockConfiguration"],
        json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true }),
        "{WEB_BUCKET}: public access block"
    );
    assert!(
        p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .is_string(),
        "{WEB_BUCKET}: default encryption"
    );
    assert!(p.get("WebsiteConfiguration").is_none(), "{WEB_BUCKET}: no website hosting (CloudFront reads it through the S3 API)");

    // The bucket policy: TLS only, and reads by this distribution only.
    let (dist_id, dist) = web_distribution(&t);
    let policies: Vec<_> = t
        .of_type("AWS::S3::BucketPolicy")
        .into_iter()
        .filter(|(_, bp)| bp["Properties"]["Bucket"] == json!({ "Ref": WEB_BUCKET }))
        .collect();
    assert_eq!(policies.len(), 1, "{WEB_BUCKET} needs one bucket policy");
    let statements = policies[0].1["Properties"]["PolicyDocument"]["Statement"].as_array().expect("statements");
    assert!(
        statements.iter().any(|s| s["Effect"] == "Deny"
            && s["Principal"] == "*"
            && strings(&s["Action"]).iter().any(|a| a == "s3:*")
            && s["Condition"]["Bool"]["aws:SecureTransport"] == json!("false")),
        "{WEB_BUCKET}: the policy must deny requests without TLS"
    );
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        assert_eq!(
            s["Principal"],
            json!({ "Service": "cloudfront.amazonaws.com" }),
            "{WEB_BUCKET}: only CloudFront is allowed in"
        );
        assert_eq!(strings(&s["Action"]), vec!["s3:GetObject".to_string()], "{WEB_BUCKET}: CloudFront only reads");
        assert_eq!(s["Resource"], json!({ "Fn::Sub": format!("${{{WEB_BUCKET}.Arn}}/*") }));
        let source = s["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"].as_str().unwrap_or_default();
        assert!(
            source.ends_with(&format!(":distribution/${{{dist_id}}}")),
            "{WEB_BUCKET}: reads by {dist_id} only, not {source:?}"
        );
    }
    assert!(statements.iter().any(|s| s["Effect"] == "Allow"), "{WEB_BUCKET}: CloudFront must be allowed to read");

    // Origin access control, not the legacy origin access identity.
    assert!(t.of_type("AWS::CloudFront::CloudFrontOriginAccessIdentity").is_empty(), "no legacy origin access identity");
    let c = &dist["Properties"]["DistributionConfig"];
    let origins = c["Origins"].as_array().expect("Origins");
    assert_eq!(origins.len(), 1, "{dist_id}: one origin, the web bucket");
    let origin = &origins[0];
    assert_eq!(origin["DomainName"], json!({ "Fn::GetAtt": [WEB_BUCKET, "RegionalDomainName"] }));
    let oac = origin["OriginAccessControlId"]["Fn::GetAtt"][0].as_str().expect("the origin uses an origin access control");
    let oac_config = &t.resource(oac)["Properties"]["OriginAccessControlConfig"];
    assert_eq!(t.resource(oac)["Type"], "AWS::CloudFront::OriginAccessControl");
    assert_eq!(oac_config["OriginAccessControlOriginType"], "s3");
    assert_eq!(oac_config["SigningBehavior"], "always");
    assert_eq!(oac_config["SigningProtocol"], "sigv4");
    assert_eq!(origin["S3OriginConfig"]["OriginAccessIdentity"], "", "{dist_id}: no origin access identity");

    // The app: index.html at the root and for every app path (SPA fallback).
    assert_eq!(c["Enabled"], json!(true));
    assert_eq!(c["DefaultRootObject"], "index.html");
    let errors = c["CustomErrorResponses"].as_array().expect("CustomErrorResponses");
    for code in [403, 404] {
        let e =
            errors.iter().find(|e| e["ErrorCode"] == json!(code)).unwrap_or_else(|| panic!("{dist_id}: no fallback for {code}"));
        assert_eq!(e["ResponseCode"], json!(200), "{dist_id}: {code} answers the app with 200");
        assert_eq!(e["ResponsePagePath"], "/index.html", "{dist_id}: {code} answers /index.html");
    }

    // HTTPS only, HTTP/2 and 3, compressed, cached by the managed policy, with the headers.
    assert_eq!(c["HttpVersion"], "http2and3");
    let b = &c["DefaultCacheBehavior"];
    assert_eq!(b["TargetOriginId"], origin["Id"]);
    assert_eq!(b["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(b["Compress"], json!(true));
    assert_eq!(b["CachePolicyId"], CACHING_OPTIMIZED, "{dist_id}: Managed-CachingOptimized");
    assert_eq!(b["AllowedMethods"], json!(["GET", "HEAD"]), "{dist_id}: a static site takes no writes");
    let headers_policy = b["ResponseHeadersPolicyId"]["Ref"].as_str().expect("a response headers policy");
    assert_eq!(t.resource(headers_policy)["Type"], "AWS::CloudFront::ResponseHeadersPolicy");
    assert!(c.get("CacheBehaviors").is_none_or(|v| v.as_array().is_some_and(|a| a.is_empty())), "{dist_id}: one behaviour");

    // A custom domain is optional; its certificate must be in us-east-1.
    assert_eq!(
        t.doc["Conditions"]["HasWebDomain"],
        json!({ "Fn::And": [
            { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "WebDomainName" }, ""] }] },
            { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "WebCertificateArn" }, ""] }] }
        ] })
    );
    assert_eq!(c["Aliases"]["Fn::If"][0], "HasWebDomain");
    assert_eq!(c["Aliases"]["Fn::If"][1], json!([{ "Ref": "WebDomainName" }]));
    assert_eq!(c["Aliases"]["Fn::If"][2], json!({ "Ref": "AWS::NoValue" }));
    let cert = &c["ViewerCertificate"]["Fn::If"];
    assert_eq!(cert[0], "HasWebDomain");
    assert_eq!(cert[1]["AcmCertificateArn"], json!({ "Ref": "WebCertificateArn" }));
    assert_eq!(cert[1]["SslSupportMethod"], "sni-only");
    assert_eq!(cert[2], json!({ "CloudFrontDefaultCertificate": true }));
    let parameters = &t.doc["Parameters"];
    for name in ["WebDomainName", "WebCertificateArn"] {
        assert_eq!(parameters[name]["Default"], "", "{name} is optional");
    }
    let pattern = parameters["WebCertificateArn"]["AllowedPattern"].as_str().expect("WebCertificateArn has a pattern");
    assert!(pattern.contains(":acm:us-east-1:"), "WebCertificateArn must be a us-east-1 certificate: {pattern}");
    assert!(parameters["WebCertificateArn"]["Description"].as_str().unwrap().contains("us-east-1"));

    assert_eq!(output_value(&t, "WebBucketName"), &json!({ "Ref": WEB_BUCKET }));
    assert_eq!(output_value(&t, "WebDistributionId"), &json!({ "Ref": dist_id }));
    assert_eq!(output_value(&t, "WebDistributionDomainName"), &json!({ "Fn::GetAtt": [dist_id, "DomainName"] }));
}

/// The headers of `web/security-headers.json`, with its placeholders as the
/// template's `!Sub` spells them.
fn security_headers_file(t: &Template) -> BTreeMap<String, String> {
    let path = workspace_root().join("web").join("security-headers.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let headers: BTreeMap<String, String> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a JSON object of strings: {e}", path.display()));
    let (files_bucket, _) = t.files_bucket();
    let cognito =
        "https://${CognitoDomainPrefix}.auth.${AWS::Region}.amazoncognito.com https://cognito-idp.${AWS::Region}.amazonaws.com";
    let uploads = format!("https://${{{files_bucket}.RegionalDomainName}}");
    headers
        .into_iter()
        .map(|(name, value)| {
            assert_eq!(name, name.to_ascii_lowercase(), "{}: header names are lower case", path.display());
            let value = value.replace("{api}", "${PublicApiUrl}").replace("{cognito}", cognito).replace("{uploads}", &uploads);
            // Whatever braces are left outside the template's ${...} are a placeholder this test does not know.
            let outside: String = value
                .split("${")
                .enumerate()
                .map(|(i, part)| if i == 0 { part } else { part.split_once('}').map_or(part, |(_, rest)| rest) })
                .collect();
            assert!(!outside.contains(['{', '}']), "{name}: unknown placeholder in {value:?}");
            (name, value)
        })
        .collect()
}

/// The headers a CloudFront response headers policy adds, by lower-case name.
fn cloudfront_headers(policy: &Value) -> BTreeMap<String, String> {
    let config = &policy["Properties"]["ResponseHeadersPolicyConfig"];
    let security = &config["SecurityHeadersConfig"];
    let mut out = BTreeMap::new();
    let mut add = |name: &str, setting: &Value, value: String| {
        assert_eq!(setting["Override"], json!(true), "{name}: the policy must override what the origin sends");
        out.insert(name.to_string(), value);
    };
    if let Some(csp) = security.get("ContentSecurityPolicy") {
        let value = csp["ContentSecurityPolicy"]["Fn::Sub"]
            .as_str()
            .or_else(|| csp["ContentSecurityPolicy"].as_str())
            .expect("the CSP is a string or a !Sub of one");
        add("content-security-policy", csp, value.to_string());
    }
    if let Some(hsts) = security.get("StrictTransportSecurity") {
        let mut value = format!("max-age={}", hsts["AccessControlMaxAgeSec"].as_u64().expect("AccessControlMaxAgeSec"));
        if hsts["IncludeSubdomains"] == json!(true) {
            value.push_str("; includeSubDomains");
        }
        if hsts["Preload"] == json!(true) {
            value.push_str("; preload");
        }
        add("strict-transport-security", hsts, value);
    }
    if let Some(frame) = security.get("FrameOptions") {
        add("x-frame-options", frame, frame["FrameOption"].as_str().expect("FrameOption").to_string());
    }
    if let Some(nosniff) = security.get("ContentTypeOptions") {
        add("x-content-type-options", nosniff, "nosniff".to_string());
    }
    if let Some(referrer) = security.get("ReferrerPolicy") {
        add("referrer-policy", referrer, referrer["ReferrerPolicy"].as_str().expect("ReferrerPolicy").to_string());
    }
    if let Some(xss) = security.get("XSSProtection") {
        let value = if xss["Protection"] == json!(true) { "1" } else { "0" };
        add("x-xss-protection", xss, value.to_string());
    }
    for item in config["CustomHeadersConfig"]["Items"].as_array().into_iter().flatten() {
        let name = item["Header"].as_str().expect("Header").to_ascii_lowercase();
        add(&name, item, item["Value"].as_str().expect("Value").to_string());
    }
    out
}

#[test]
fn cloudfront_serves_the_security_headers_of_web_security_headers_json() {
    let t = Template::load();
    let (dist_id, dist) = web_distribution(&t);
    let policy_id = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{dist_id}: the default behaviour has no response headers policy of this stack"));
    let served = cloudfront_headers(t.resource(policy_id));
    let file = security_headers_file(&t);
    assert_eq!(served, file, "{policy_id} and web/security-headers.json must send the same headers");

    // What the policy must say, whichever side changes.
    let csp = &file["content-security-policy"];
    let directives: BTreeMap<&str, Vec<&str>> = csp
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            words.next().map(|name| (name, words.collect()))
        })
        .collect();
    for (name, must) in [
        ("default-src", vec!["'self'"]),
        ("script-src", vec!["'self'"]),
        ("frame-ancestors", vec!["'none'"]),
        ("object-src", vec!["'none'"]),
        ("base-uri", vec!["'self'"]),
    ] {
        assert_eq!(directives.get(name), Some(&must), "CSP {name} in {csp:?}");
    }
    for name in ["script-src", "style-src", "default-src"] {
        let sources = directives.get(name).cloned().unwrap_or_default();
        assert!(!sources.iter().any(|s| s.starts_with("'unsafe-")), "CSP {name} allows {sources:?}");
    }
    let connect = directives.get("connect-src").expect("CSP connect-src");
    let (files_bucket, _) = t.files_bucket();
    for origin in [
        "${PublicApiUrl}",
        "https://${CognitoDomainPrefix}.auth.${AWS::Region}.amazoncognito.com",
        "https://cognito-idp.${AWS::Region}.amazonaws.com",
        &format!("https://${{{files_bucket}.RegionalDomainName}}"),
    ] {
        assert!(connect.contains(&origin), "CSP connect-src must name {origin}: {connect:?}");
    }
    assert_eq!(file["strict-transport-security"], "max-age=63072000; includeSubDomains", "HSTS: two years");
    assert_eq!(file["x-frame-options"], "DENY");
    assert_eq!(file["x-content-type-options"], "nosniff");
    assert_eq!(file["referrer-policy"], "no-referrer");

    // The Cognito origin in the CSP is the user pool's domain.
    let (_, domain) = t.only("AWS::Cognito::UserPoolDomain");
    assert_eq!(domain["Properties"]["Domain"], json!({ "Ref": "CognitoDomainPrefix" }));
}

#[test]
fn the_app_client_signs_in_through_managed_login_with_the_code_flow() {
    let t = Template::load();
    let (pool_id, _) = t.only("AWS::Cognito::UserPool");
    let (client_id, client) = t.only("AWS::Cognito::UserPoolClient");
    let p = &client["Properties"];
    assert_eq!(p["GenerateSecret"], json!(false), "{client_id}: a public client (PKCE), no secret");
    assert_eq!(p["AllowedOAuthFlowsUserPoolClient"], json!(true));
    assert_eq!(p["AllowedOAuthFlows"], json!(["code"]), "{client_id}: the authorization code flow only");
    let scopes: BTreeSet<String> = strings(&p["AllowedOAuthScopes"]).into_iter().collect();
    assert_eq!(scopes, BTreeSet::from(["openid", "email", "profile"].map(String::from)));
    assert_eq!(p["SupportedIdentityProviders"], json!(["COGNITO"]));
    assert_eq!(p["CallbackURLs"], json!([{ "Fn::Sub": "${WebBaseUrl}/auth/callback" }]));
    assert_eq!(p["LogoutURLs"], json!([{ "Fn::Sub": "${WebBaseUrl}/" }]));
    assert_eq!(p["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(p["EnableTokenRevocation"], json!(true));

    // Short-lived, rotating refresh tokens (rotation refuses ALLOW_REFRESH_TOKEN_AUTH).
    assert_eq!(p["RefreshTokenRotation"]["Feature"], "ENABLED", "{client_id}: refresh tokens rotate");
    let hours = match p["TokenValidityUnits"]["RefreshToken"].as_str() {
        Some("hours") => p["RefreshTokenValidity"].as_u64().unwrap(),
        Some("minutes") => p["RefreshTokenValidity"].as_u64().unwrap() / 60,
        other => panic!("{client_id}: refresh token validity in {other:?}, not hours or minutes"),
    };
    assert!((1..=24).contains(&hours), "{client_id}: refresh tokens live at most a day, not {hours} hours");
    assert!(
        !strings(&p["ExplicitAuthFlows"]).iter().any(|f| f == "ALLOW_REFRESH_TOKEN_AUTH"),
        "{client_id}: ALLOW_REFRESH_TOKEN_AUTH cannot be used with rotation"
    );

    // Managed login on the pool's domain.
    let (domain_id, domain) = t.only("AWS::Cognito::UserPoolDomain");
    assert_eq!(domain["Properties"]["UserPoolId"], json!({ "Ref": pool_id }));
    assert_eq!(domain["Properties"]["ManagedLoginVersion"], json!(2), "{domain_id}: managed login");
    assert!(domain["Properties"].get("CustomDomainConfig").is_none(), "{domain_id}: a Cognito prefix domain");
    let (_, branding) = t.only("AWS::Cognito::ManagedLoginBranding");
    assert_eq!(branding["Properties"]["ClientId"], json!({ "Ref": client_id }));

    // The API still takes ID tokens of this client only (audience = client id).
    let (_, api) = t.only("AWS::Serverless::HttpApi");
    let jwt = api["Properties"]["Auth"]["Authorizers"].as_object().unwrap().values().next().unwrap();
    assert_eq!(jwt["JwtConfiguration"]["audience"], json!([{ "Ref": client_id }]));

    assert_eq!(
        output_value(&t, "CognitoDomainUrl"),
        &json!({ "Fn::Sub": "https://${CognitoDomainPrefix}.auth.${AWS::Region}.amazoncognito.com" })
    );
    assert_eq!(output_value(&t, "UserPoolClientId"), &json!({ "Ref": client_id }));
    assert_eq!(
        output_value(&t, "CognitoAuthority"),
        &jwt["JwtConfiguration"]["issuer"],
        "the authority is the authorizer's issuer"
    );
}

#[test]
fn cors_lets_the_web_origin_call_every_route_and_upload_files() {
    let t = Template::load();
    let (api_id, api) = t.only("AWS::Serverless::HttpApi");
    let cors = &api["Properties"]["CorsConfiguration"];
    let lower = |v: &Value| -> BTreeSet<String> { strings(v).into_iter().map(|s| s.to_ascii_lowercase()).collect() };
    let set = |items: &[&str]| -> BTreeSet<String> { items.iter().map(|s| s.to_string()).collect() };
    assert_eq!(cors["AllowOrigins"], json!([{ "Ref": "FrontendOrigin" }]));
    let methods: BTreeSet<String> = strings(&cors["AllowMethods"]).into_iter().collect();
    assert_eq!(methods, set(&["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]), "{api_id}: AllowMethods");
    for (method, path) in documented_operations().keys() {
        assert!(methods.contains(method), "{api_id}: CORS refuses {method} {path}");
    }
    assert_eq!(lower(&cors["AllowHeaders"]), set(&["authorization", "content-type", "if-match", "idempotency-key"]));
    assert_eq!(lower(&cors["ExposeHeaders"]), set(&["etag", "location", "retry-after"]));
    assert!(cors["MaxAge"].as_u64().is_some_and(|s| s > 0), "{api_id}: preflights are cached");

    // The files bucket takes the browser's presigned PUT with the headers it signs.
    let (bucket_id, bucket) = t.files_bucket();
    let rules = bucket["Properties"]["CorsConfiguration"]["CorsRules"].as_array().expect("CORS rules");
    let put = rules
        .iter()
        .find(|r| strings(&r["AllowedMethods"]).iter().any(|m| m == "PUT"))
        .unwrap_or_else(|| panic!("{bucket_id}: no CORS rule allows PUT"));
    assert_eq!(put["AllowedOrigins"], json!([{ "Ref": "FrontendOrigin" }]));
    let headers = lower(&put["AllowedHeaders"]);
    for h in ["content-type", "x-amz-checksum-sha256"] {
        assert!(headers.contains(h), "{bucket_id}: CORS must allow {h} (the presigned PUT signs it)");
    }
}

#[test]
fn deploy_web_dry_run_writes_the_config_from_the_stack_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("outputs.json");
    let pool = "eu-west-2_AbCdEf123";
    let described = json!({ "Stacks": [{ "StackName": "qnet-test", "Outputs": [
        { "OutputKey": "ApiUrl", "OutputValue": "https://abc123.execute-api.eu-west-2.amazonaws.com" },
        { "OutputKey": "PublicApiUrl", "OutputValue": "https://api.qnet.example.nhs.uk" },
        { "OutputKey": "UserPoolId", "OutputValue": pool },
        { "OutputKey": "UserPoolClientId", "OutputValue": "1example23456789" },
        { "OutputKey": "CognitoAuthority", "OutputValue": format!("https://cognito-idp.eu-west-2.amazonaws.com/{pool}") },
        { "OutputKey": "CognitoDomainUrl", "OutputValue": "https://qnet-example.auth.eu-west-2.amazoncognito.com" },
        { "OutputKey": "WebBaseUrl", "OutputValue": "https://qnet.example.nhs.uk" },
        { "OutputKey": "WebBucketName", "OutputValue": "qnet-test-webbucket-1abc" },
        { "OutputKey": "WebDistributionId", "OutputValue": "E2EXAMPLE" },
        { "OutputKey": "WebDistributionDomainName", "OutputValue": "d111111abcdef8.cloudfront.net" }
    ]}]});
    std::fs::write(&outputs, described.to_string()).unwrap();
    let script = workspace_root().join("scripts").join("deploy-web");
    let out = std::process::Command::new(&script)
        .args(["--dry-run", "--stack", "qnet-test", "--region", "eu-west-2", "--outputs-file"])
        .arg(&outputs)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deploy-web --dry-run failed: {stderr}");
    let config: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("deploy-web --dry-run must print the config.json on stdout ({e}): {stderr}"));
    assert_eq!(
        config,
        json!({
            "apiBaseUrl": "https://api.qnet.example.nhs.uk",
            "signIn": "cognito",
            "cognito": {
                "authority": format!("https://cognito-idp.eu-west-2.amazonaws.com/{pool}"),
                "domain": "https://qnet-example.auth.eu-west-2.amazoncognito.com",
                "clientId": "1example23456789",
                "redirectUri": "https://qnet.example.nhs.uk/auth/callback",
                "logoutUri": "https://qnet.example.nhs.uk/"
            }
        })
    );
    for step in [
        "npm --prefix",
        "aws s3 sync",
        "s3://qnet-test-webbucket-1abc",
        "--delete",
        "immutable",
        "no-cache",
        "create-invalidation --distribution-id E2EXAMPLE",
        "/index.html /config.json",
    ] {
        assert!(stderr.contains(step), "deploy-web --dry-run does not say it would {step:?}: {stderr}");
    }

    // Outputs of a stack without the web resources: a clear refusal, no config.
    std::fs::write(&outputs, json!({ "Stacks": [{ "Outputs": [] }] }).to_string()).unwrap();
    let out = std::process::Command::new(&script).args(["--dry-run", "--outputs-file"]).arg(&outputs).output().unwrap();
    assert!(!out.status.success(), "deploy-web must refuse outputs without the web bucket");
    assert!(out.stdout.is_empty(), "no config.json for a stack without the web resources");
    assert!(String::from_utf8_lossy(&out.stderr).contains("WebBucketName"));
}

// ---------------------------------------------------------------------------
// Issue 19: secrets stay out of environments, alarms reach someone, the SES
// identity is declared, and the guides name what the template deploys
// ---------------------------------------------------------------------------

#[test]
fn no_function_environment_holds_a_resolved_secret() {
    let t = Template::load();
    for (id, f) in t.functions() {
        for (name, value) in f.environment() {
            for s in strings(value).iter().chain(value.as_str().map(str::to_string).as_ref()) {
                assert!(!s.contains("{{resolve:"), "{id}: {name} resolves a secret into the environment: {s}");
            }
        }
    }
}

fn alarm_topic(t: &Template) -> &str {
    let (topic_id, _) = t
        .of_type("AWS::SNS::Topic")
        .into_iter()
        .find(|(_, topic)| topic["Properties"]["DisplayName"] == "Qnet alarms")
        .expect("an SNS topic for alarms");
    topic_id
}

#[test]
fn every_alarm_notifies_the_alarm_email_and_each_failure_mode_has_one() {
    let t = Template::load();
    let topic = alarm_topic(&t);
    let param = &t.doc["Parameters"]["AlarmEmail"];
    assert_eq!(param["Type"], "String", "an AlarmEmail parameter");
    assert!(param.get("Default").is_none(), "AlarmEmail has no default: alarms must reach someone");
    let subscribed = t.of_type("AWS::SNS::Subscription").into_iter().any(|(_, s)| {
        let p = &s["Properties"];
        p["TopicArn"] == json!({ "Ref": topic }) && p["Protocol"] == "email" && p["Endpoint"] == json!({ "Ref": "AlarmEmail" })
    });
    assert!(subscribed, "AlarmEmail subscribes to {topic}");

    let alarms = t.of_type("AWS::CloudWatch::Alarm");
    for (id, a) in &alarms {
        let actions = a["Properties"]["AlarmActions"].as_array().unwrap_or_else(|| panic!("{id}: AlarmActions"));
        assert!(actions.contains(&json!({ "Ref": topic })), "{id}: notifies {topic}");
    }
    // Each function: errors and throttles.
    for (fid, _) in t.functions() {
        for metric in ["Errors", "Throttles"] {
            let found = alarms.iter().any(|(_, a)| {
                let p = &a["Properties"];
                p["Namespace"] == "AWS/Lambda"
                    && p["MetricName"] == metric
                    && p["Threshold"].as_f64() == Some(0.0)
                    && p["ComparisonOperator"] == "GreaterThanThreshold"
                    && p["Dimensions"] == json!([{ "Name": "FunctionName", "Value": { "Ref": fid } }])
            });
            assert!(found, "{fid}: an alarm on {metric} > 0");
        }
    }
    // The API's 5xx rate: 5xx over requests of this HTTP API.
    let (api_id, _) = t.only("AWS::Serverless::HttpApi");
    let rate = alarms.iter().find(|(_, a)| {
        a["Properties"]["Metrics"].as_array().is_some_and(|ms| {
            ms.iter().any(|m| m["MetricStat"]["Metric"]["MetricName"] == "5xx")
                && ms.iter().any(|m| m["MetricStat"]["Metric"]["MetricName"] == "Count")
        })
    });
    let (rate_id, rate) = rate.expect("an alarm on the API's 5xx rate");
    for m in rate["Properties"]["Metrics"].as_array().unwrap() {
        if !m["MetricStat"].is_null() {
            assert_eq!(m["MetricStat"]["Metric"]["Namespace"], "AWS/ApiGateway", "{rate_id}");
            assert_eq!(
                m["MetricStat"]["Metric"]["Dimensions"],
                json!([{ "Name": "ApiId", "Value": { "Ref": api_id } }]),
                "{rate_id}"
            );
        }
    }
    let expression = rate["Properties"]["Metrics"].as_array().unwrap().iter().find_map(|m| m["Expression"].as_str());
    assert!(expression.is_some_and(|e| e.contains("errors / requests")), "{rate_id}: a rate, not a count");
}

#[test]
fn the_mail_domain_is_a_declared_ses_identity_signed_with_dkim() {
    let t = Template::load();
    let (id, identity) = t.only("AWS::SES::EmailIdentity");
    let p = &identity["Properties"];
    assert_eq!(
        p["EmailIdentity"],
        json!({ "Ref": "MailDomain" }),
        "{id}: the domain the functions send from and SES receives for"
    );
    assert_eq!(p["DkimAttributes"]["SigningEnabled"], json!(true), "{id}: DKIM signing");
    assert_eq!(p["DkimSigningAttributes"]["NextSigningKeyLength"], "RSA_2048_BIT", "{id}: Easy DKIM, 2048-bit");
    let (set_id, _) = t.only("AWS::SES::ConfigurationSet");
    assert_eq!(
        p["ConfigurationSetAttributes"]["ConfigurationSetName"],
        json!({ "Ref": set_id }),
        "{id}: default configuration set"
    );
    // The three DKIM records are outputs, for the domain's DNS.
    for n in 1..=3 {
        let v = output_value(&t, &format!("MailDkimRecord{n}"));
        let sub = v["Fn::Sub"].as_str().unwrap_or_default();
        assert!(
            sub.contains(&format!("${{{id}.DkimDNSTokenName{n}}}")) && sub.contains(&format!("${{{id}.DkimDNSTokenValue{n}}}")),
            "MailDkimRecord{n}: {v}"
        );
    }
}

/// Names following `prefix` in `text` (letters, digits and hyphens).
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// `SomethingFunction` names written as code (between backticks).
fn function_mentions(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.ends_with("Function")
                && s.len() > "Function".len()
                && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && s.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_guides_name_the_functions_schedules_alarms_and_log_groups_the_template_deploys() {
    let t = Template::load();
    let read = |p: &str| std::fs::read_to_string(workspace_root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let (deploy, operations) = (read("docs/deploy.md"), read("docs/operations.md"));
    let both = format!("{deploy}\n{operations}");
    let raw = std::fs::read_to_string(template_path()).unwrap();
    let sub = |v: &Value| v["Fn::Sub"].as_str().map(str::to_string);

    // Functions: deploy.md's list of resources names every one, and neither guide names one that is not there.
    let functions: BTreeSet<String> = t.functions().into_keys().collect();
    let params = t.doc["Parameters"].as_object().expect("Parameters");
    let function_mentions =
        |text: &str| -> BTreeSet<String> { function_mentions(text).into_iter().filter(|n| !params.contains_key(n)).collect() };
    assert_eq!(function_mentions(&deploy), functions, "docs/deploy.md's functions vs the template's");
    let unknown: Vec<_> = function_mentions(&operations).difference(&functions).cloned().collect();
    assert!(unknown.is_empty(), "docs/operations.md names functions the template does not deploy: {unknown:?}");

    // Schedules and alarms: every one is in the guides (operations.md for alarms).
    let stack_prefix = "${AWS::StackName}-";
    let mut schedules = BTreeSet::new();
    for (id, f) in t.functions() {
        for (_, e) in f.events() {
            if e["Type"] == "ScheduleV2" {
                let name = sub(&e["Properties"]["Name"]).unwrap_or_else(|| panic!("{id}: a named schedule"));
                schedules.insert(name.strip_prefix(stack_prefix).expect("schedules are named after the stack").to_string());
            }
        }
    }
    assert!(!schedules.is_empty());
    let documented = names_after(&both, "<stack>-");
    let missing: Vec<_> = schedules.difference(&documented).collect();
    assert!(missing.is_empty(), "schedules the guides do not name (as <stack>-NAME): {missing:?}");
    let alarms: BTreeSet<String> = t
        .of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(id, a)| {
            sub(&a["Properties"]["AlarmName"])
                .and_then(|n| n.strip_prefix(stack_prefix).map(str::to_string))
                .unwrap_or_else(|| panic!("{id}: AlarmName is ${{AWS::StackName}}-NAME"))
        })
        .collect();
    let in_operations = names_after(&operations, "<stack>-");
    let missing: Vec<_> = alarms.difference(&in_operations).collect();
    assert!(missing.is_empty(), "alarms docs/operations.md does not name (as <stack>-NAME): {missing:?}");
    // And every <stack>-NAME the guides mention is a name the template gives.
    let given = names_after(&raw, stack_prefix);
    let stale: Vec<_> = documented.difference(&given).collect();
    assert!(stale.is_empty(), "the guides name <stack>-… resources the template does not have: {stale:?}");

    // Log groups: operations.md names exactly the template's.
    let log_prefix = "/qnet/${Stage}/${AWS::StackName}/";
    let groups: BTreeSet<String> = t
        .of_type("AWS::Logs::LogGroup")
        .into_iter()
        .map(|(id, g)| {
            sub(&g["Properties"]["LogGroupName"])
                .and_then(|n| n.strip_prefix(log_prefix).map(str::to_string))
                .unwrap_or_else(|| panic!("{id}: LogGroupName is {log_prefix}NAME"))
        })
        .collect();
    let mut named = names_after(&operations, "/qnet/<stage>/<stack>/");
    named.extend(names_after(&operations, ".../"));
    assert_eq!(named, groups, "docs/operations.md's log groups vs the template's");
}

#[test]
fn samconfig_has_a_non_interactive_pipeline_profile_like_the_default() {
    let text = std::fs::read_to_string(workspace_root().join("samconfig.toml")).expect("samconfig.toml");
    let doc: toml::Table = toml::from_str(&text).expect("samconfig.toml is TOML");
    let section = |env: &str, cmd: &str| -> toml::Table {
        doc[env][cmd]["parameters"].as_table().unwrap_or_else(|| panic!("[{env}.{cmd}.parameters]")).clone()
    };
    assert_eq!(section("default", "deploy")["confirm_changeset"].as_bool(), Some(true), "the default asks before it changes");
    let mut pipeline_deploy = section("pipeline", "deploy");
    assert_eq!(pipeline_deploy.remove("confirm_changeset").and_then(|v| v.as_bool()), Some(false), "the pipeline does not ask");
    pipeline_deploy.remove("no_progressbar");
    let mut default_deploy = section("default", "deploy");
    default_deploy.remove("confirm_changeset");
    assert_eq!(pipeline_deploy, default_deploy, "otherwise the pipeline deploys as the default does");
    for cmd in ["global", "build", "validate"] {
        assert_eq!(section("pipeline", cmd), section("default", cmd), "[pipeline.{cmd}] as [default.{cmd}]");
    }
}

/// The search indexer rebuilds on a change to any kind of record the index
/// holds (issue 22 added projects): its stream filter lets each one through.
#[test]
fn the_search_indexer_hears_of_every_indexed_kind() {
    let t = Template::load();
    let indexer = t.resource("SearchIndexerFunction");
    let pattern = indexer["Properties"]["Events"]["CaseStudyChanges"]["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"]
        .as_str()
        .expect("a stream filter pattern");
    let pattern: Value = serde_json::from_str(pattern).unwrap();
    let kinds = &pattern["dynamodb"]["Keys"]["SK"]["S"];
    for (_, sk) in
        [qnet_app::keys::case_study("x"), qnet_app::keys::resource("x"), qnet_app::keys::event("x"), qnet_app::keys::project("x")]
    {
        assert!(kinds.as_array().unwrap().contains(&json!(sk)), "{sk} is not in the indexer's stream filter: {kinds}");
    }
}
