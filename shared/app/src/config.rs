//! Configuration: read from the environment once at start-up and validated, with
//! one error naming every missing or bad variable.

use std::collections::BTreeMap;

/// Every variable a deployed function reads. The SAM template test checks that
/// each function's `Environment.Variables` are exactly its list here.
pub mod vars {
    pub const TABLE_NAME: &str = "QNET_TABLE_NAME";
    pub const BUCKET_NAME: &str = "QNET_BUCKET_NAME";
    pub const JWT_ISSUER: &str = "QNET_JWT_ISSUER";
    pub const JWT_AUDIENCE: &str = "QNET_JWT_AUDIENCE";
    pub const LOG_LEVEL: &str = "QNET_LOG_LEVEL";
    pub const MAIL_FROM: &str = "QNET_MAIL_FROM";
    pub const RAW_MAIL_PREFIX: &str = "QNET_RAW_MAIL_PREFIX";
    pub const SES_CONFIGURATION_SET: &str = "QNET_SES_CONFIGURATION_SET";
    pub const WEB_BASE_URL: &str = "QNET_WEB_BASE_URL";
    pub const PUBLIC_API_URL: &str = "QNET_PUBLIC_API_URL";
    pub const DIGEST_FROM: &str = "QNET_DIGEST_FROM";
    pub const INBOUND_DOMAIN: &str = "QNET_INBOUND_DOMAIN";
    pub const DIGEST_QUEUE_URL: &str = "QNET_DIGEST_QUEUE_URL";
    pub const BOARD_QUEUE_URL: &str = "QNET_BOARD_QUEUE_URL";
    pub const SES_MAX_PER_SECOND: &str = "QNET_SES_MAX_PER_SECOND";
    pub const LINK_SIGNING_KEY_ARN: &str = "QNET_LINK_SIGNING_KEY_ARN";
    pub const MATCHING_WEIGHTS: &str = "QNET_MATCHING_WEIGHTS";
    pub const MENTORING_OFFER_DAYS: &str = "QNET_MENTORING_OFFER_DAYS";
    /// Optional, and not set by the template: where the API fetches the user
    /// pool's key set when not at the issuer (moto in tests).
    pub const JWKS_URL: &str = "QNET_JWKS_URL";
}

/// Variables read by each deployed function, by the SAM logical id's function name.
pub const API_VARIABLES: &[&str] = &[
    vars::TABLE_NAME,
    vars::BUCKET_NAME,
    vars::JWT_ISSUER,
    vars::JWT_AUDIENCE,
    vars::WEB_BASE_URL,
    vars::PUBLIC_API_URL,
    vars::MAIL_FROM,
    vars::SES_CONFIGURATION_SET,
    vars::LINK_SIGNING_KEY_ARN,
    vars::MATCHING_WEIGHTS,
    vars::MENTORING_OFFER_DAYS,
    vars::BOARD_QUEUE_URL,
    vars::LOG_LEVEL,
];
pub const PRE_SIGNUP_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::LOG_LEVEL];
pub const ATTACHMENT_CHECK_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::BUCKET_NAME, vars::LOG_LEVEL];
pub const EMAIL_INGEST_VARIABLES: &[&str] = &[
    vars::TABLE_NAME,
    vars::BUCKET_NAME,
    vars::MAIL_FROM,
    vars::RAW_MAIL_PREFIX,
    vars::SES_CONFIGURATION_SET,
    vars::WEB_BASE_URL,
    vars::PUBLIC_API_URL,
    vars::BOARD_QUEUE_URL,
    vars::LOG_LEVEL,
];

pub const DIGEST_PLANNER_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::DIGEST_QUEUE_URL, vars::LOG_LEVEL];
pub const DIGEST_SENDER_VARIABLES: &[&str] = &[
    vars::TABLE_NAME,
    vars::DIGEST_FROM,
    vars::WEB_BASE_URL,
    vars::PUBLIC_API_URL,
    vars::INBOUND_DOMAIN,
    vars::SES_CONFIGURATION_SET,
    vars::SES_MAX_PER_SECOND,
    vars::LOG_LEVEL,
];
pub const BOARD_NOTIFIER_VARIABLES: &[&str] =
    &[vars::TABLE_NAME, vars::MAIL_FROM, vars::WEB_BASE_URL, vars::SES_CONFIGURATION_SET, vars::LOG_LEVEL];
pub const SES_EVENTS_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::LOG_LEVEL];
pub const SEARCH_INDEXER_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::BUCKET_NAME, vars::LOG_LEVEL];
pub const MENTORING_VARIABLES: &[&str] = &[
    vars::TABLE_NAME,
    vars::MAIL_FROM,
    vars::PUBLIC_API_URL,
    vars::SES_CONFIGURATION_SET,
    vars::LINK_SIGNING_KEY_ARN,
    vars::MATCHING_WEIGHTS,
    vars::MENTORING_OFFER_DAYS,
    vars::LOG_LEVEL,
];
pub const COFFEE_ROUND_VARIABLES: &[&str] = &[vars::TABLE_NAME, vars::MAIL_FROM, vars::SES_CONFIGURATION_SET, vars::LOG_LEVEL];
pub const ENGAGEMENT_VARIABLES: &[&str] =
    &[vars::TABLE_NAME, vars::MAIL_FROM, vars::WEB_BASE_URL, vars::PUBLIC_API_URL, vars::SES_CONFIGURATION_SET, vars::LOG_LEVEL];
pub const EVENT_REMINDERS_VARIABLES: &[&str] =
    &[vars::TABLE_NAME, vars::MAIL_FROM, vars::WEB_BASE_URL, vars::SES_CONFIGURATION_SET, vars::LOG_LEVEL];

#[derive(Debug, thiserror::Error)]
#[error("configuration is not usable: {}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Reads a set of variables from a lookup function, collecting every problem.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

pub struct Reader<'a> {
    lookup: Lookup<'a>,
    problems: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn from_env() -> Reader<'static> {
        Reader { lookup: Box::new(|k| std::env::var(k).ok()), problems: Vec::new() }
    }

    pub fn from_map(map: &'a BTreeMap<String, String>) -> Reader<'a> {
        Reader { lookup: Box::new(move |k| map.get(k).cloned()), problems: Vec::new() }
    }

    /// A required, non-empty variable.
    pub fn required(&mut self, name: &str) -> String {
        match (self.lookup)(name) {
            Some(v) if !v.trim().is_empty() => v.trim().to_string(),
            Some(_) => {
                self.problems.push(format!("{name} is empty"));
                String::new()
            }
            None => {
                self.problems.push(format!("{name} is missing"));
                String::new()
            }
        }
    }

    pub fn optional(&mut self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// A required URL starting with `https://` (or `http://` on loopback, for tests).
    pub fn url(&mut self, name: &str) -> String {
        let v = self.required(name);
        if !(v.is_empty() || v.starts_with("https://") || v.starts_with("http://127.0.0.1") || v.starts_with("http://localhost"))
        {
            self.problems.push(format!("{name} must be an https:// URL"));
        }
        v
    }

    pub fn log_level(&mut self) -> String {
        let v = self.optional(vars::LOG_LEVEL).unwrap_or_else(|| "info".into());
        if !["error", "warn", "info", "debug", "trace"].contains(&v.as_str()) {
            self.problems.push(format!("{} must be one of error, warn, info, debug, trace", vars::LOG_LEVEL));
        }
        v
    }

    /// Mentor matching settings (`QNET_MATCHING_WEIGHTS`, `QNET_MENTORING_OFFER_DAYS`):
    /// defaults when absent, a problem when present and bad.
    pub fn mentoring(&mut self) -> crate::mentoring::MentoringSettings {
        let weights = self.optional(vars::MATCHING_WEIGHTS);
        let days = self.optional(vars::MENTORING_OFFER_DAYS);
        crate::mentoring::MentoringSettings::parse(weights.as_deref(), days.as_deref()).unwrap_or_else(|problem| {
            self.problems.push(problem);
            Default::default()
        })
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() { Ok(()) } else { Err(ConfigError { problems: self.problems }) }
    }
}

/// Configuration of the HTTP API function.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub table_name: String,
    pub bucket_name: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// The user pool's key set (`QNET_JWKS_URL`); `None`: the issuer's.
    pub jwks_url: Option<String>,
    /// The web front end, which emails and previews link to.
    pub web_base_url: String,
    /// The API's public origin: links to its own pages (offers, visit requests,
    /// calendar feeds, confirmations) start here, never from a request's Host.
    pub public_api_url: String,
    /// The address emails the API sends come from.
    pub mail_from: String,
    pub configuration_set: Option<String>,
    /// The Secrets Manager secret whose value (32 bytes or more) signs one-off
    /// links in emails: read on first need, never through the environment.
    pub link_signing_key_arn: String,
    /// Mentor matching weights and offer days (defaults when absent).
    pub mentoring: crate::mentoring::MentoringSettings,
    /// The board queue: follower emails for posts and replies.
    pub board_queue_url: String,
    pub log_level: String,
}

impl ApiConfig {
    pub fn read(mut r: Reader<'_>) -> Result<ApiConfig, ConfigError> {
        let c = ApiConfig {
            table_name: r.required(vars::TABLE_NAME),
            bucket_name: r.required(vars::BUCKET_NAME),
            jwt_issuer: r.url(vars::JWT_ISSUER),
            jwt_audience: r.required(vars::JWT_AUDIENCE),
            jwks_url: r.optional(vars::JWKS_URL).map(|_| r.url(vars::JWKS_URL)),
            web_base_url: r.url(vars::WEB_BASE_URL),
            public_api_url: r.url(vars::PUBLIC_API_URL),
            mail_from: r.required(vars::MAIL_FROM),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            link_signing_key_arn: r.required(vars::LINK_SIGNING_KEY_ARN),
            mentoring: r.mentoring(),
            board_queue_url: r.url(vars::BOARD_QUEUE_URL),
            log_level: r.log_level(),
        };
        if !c.link_signing_key_arn.is_empty() && !c.link_signing_key_arn.starts_with("arn:") {
            r.problems.push(format!("{} must be a secret's ARN", vars::LINK_SIGNING_KEY_ARN));
        }
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

/// Configuration of functions that only need the table (pre-sign-up).
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub table_name: String,
    pub log_level: String,
}

impl TableConfig {
    pub fn read(mut r: Reader<'_>) -> Result<TableConfig, ConfigError> {
        let c = TableConfig { table_name: r.required(vars::TABLE_NAME), log_level: r.log_level() };
        r.finish().map(|_| c)
    }
}

/// Configuration of functions that need the table and the bucket (attachment check).
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub table_name: String,
    pub bucket_name: String,
    pub log_level: String,
}

impl StorageConfig {
    pub fn read(mut r: Reader<'_>) -> Result<StorageConfig, ConfigError> {
        let c = StorageConfig {
            table_name: r.required(vars::TABLE_NAME),
            bucket_name: r.required(vars::BUCKET_NAME),
            log_level: r.log_level(),
        };
        r.finish().map(|_| c)
    }
}

/// Configuration of the email ingest function.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub table_name: String,
    pub bucket_name: String,
    /// The case study address acknowledgements come from.
    pub mail_from: String,
    /// Where the receipt rule's S3 action stores raw mail (`raw-mail/`).
    pub raw_mail_prefix: String,
    /// SES configuration set whose events feed the suppression list.
    pub configuration_set: Option<String>,
    /// The front end that project board emails (sent for replies by email) link to.
    pub web_base_url: String,
    /// The public API: the one-click opt-out links of the emails an answer by
    /// email sends (to the asker and the authors).
    pub public_api_url: String,
    /// The board queue: follower emails for replies by email.
    pub board_queue_url: String,
    pub log_level: String,
}

impl IngestConfig {
    pub fn read(mut r: Reader<'_>) -> Result<IngestConfig, ConfigError> {
        let c = IngestConfig {
            table_name: r.required(vars::TABLE_NAME),
            bucket_name: r.required(vars::BUCKET_NAME),
            mail_from: r.required(vars::MAIL_FROM),
            raw_mail_prefix: r.required(vars::RAW_MAIL_PREFIX),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            web_base_url: r.url(vars::WEB_BASE_URL).trim_end_matches('/').into(),
            public_api_url: r.url(vars::PUBLIC_API_URL).trim_end_matches('/').into(),
            board_queue_url: r.url(vars::BOARD_QUEUE_URL),
            log_level: r.log_level(),
        };
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

/// Configuration of the board notifier (`functions/board-notifier`): the
/// same addresses as the API's board emails.
pub type BoardNotifierConfig = EventRemindersConfig;

/// Configuration of the digest planner.
#[derive(Debug, Clone)]
pub struct DigestPlannerConfig {
    pub table_name: String,
    pub queue_url: String,
    pub log_level: String,
}

impl DigestPlannerConfig {
    pub fn read(mut r: Reader<'_>) -> Result<DigestPlannerConfig, ConfigError> {
        let c = DigestPlannerConfig {
            table_name: r.required(vars::TABLE_NAME),
            queue_url: r.url(vars::DIGEST_QUEUE_URL),
            log_level: r.log_level(),
        };
        r.finish().map(|_| c)
    }
}

/// Configuration of the digest sender.
#[derive(Debug, Clone)]
pub struct DigestSenderConfig {
    pub table_name: String,
    pub settings: crate::digest::DigestSettings,
    pub configuration_set: Option<String>,
    pub log_level: String,
}

impl DigestSenderConfig {
    pub fn read(mut r: Reader<'_>) -> Result<DigestSenderConfig, ConfigError> {
        let table_name = r.required(vars::TABLE_NAME);
        let from = r.required(vars::DIGEST_FROM);
        if !from.is_empty() && qnet_domain::member::normalise_email(&from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::DIGEST_FROM));
        }
        let web_base_url = r.url(vars::WEB_BASE_URL);
        let api_base_url = r.url(vars::PUBLIC_API_URL);
        let inbound_domain = r.required(vars::INBOUND_DOMAIN);
        if !inbound_domain.is_empty() && qnet_domain::organisation::normalise_domain(&inbound_domain).is_err() {
            r.problems.push(format!("{} must be a domain name", vars::INBOUND_DOMAIN));
        }
        let max_per_second = match r.optional(vars::SES_MAX_PER_SECOND) {
            None => None,
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n > 0.0 && n.is_finite() => Some(n),
                _ => {
                    r.problems.push(format!("{} must be a positive number", vars::SES_MAX_PER_SECOND));
                    None
                }
            },
        };
        let c = DigestSenderConfig {
            table_name,
            settings: crate::digest::DigestSettings {
                from,
                web_base_url: web_base_url.trim_end_matches('/').into(),
                api_base_url: api_base_url.trim_end_matches('/').into(),
                inbound_domain,
                max_per_second,
            },
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            log_level: r.log_level(),
        };
        r.finish().map(|_| c)
    }
}

/// Configuration of the scheduled mentoring pass (`functions/mentoring`).
#[derive(Debug, Clone)]
pub struct MentoringConfig {
    pub table_name: String,
    /// The address offer and introduction emails come from.
    pub mail_from: String,
    /// The HTTP API, which serves the offer pages the emails link to.
    pub public_api_url: String,
    pub configuration_set: Option<String>,
    /// The secret holding the API's link key: offer links signed here are checked there.
    pub link_signing_key_arn: String,
    pub mentoring: crate::mentoring::MentoringSettings,
    pub log_level: String,
}

impl MentoringConfig {
    pub fn read(mut r: Reader<'_>) -> Result<MentoringConfig, ConfigError> {
        let c = MentoringConfig {
            table_name: r.required(vars::TABLE_NAME),
            mail_from: r.required(vars::MAIL_FROM),
            public_api_url: r.url(vars::PUBLIC_API_URL),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            link_signing_key_arn: r.required(vars::LINK_SIGNING_KEY_ARN),
            mentoring: r.mentoring(),
            log_level: r.log_level(),
        };
        if !c.link_signing_key_arn.is_empty() && !c.link_signing_key_arn.starts_with("arn:") {
            r.problems.push(format!("{} must be a secret's ARN", vars::LINK_SIGNING_KEY_ARN));
        }
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

/// Configuration of the weekly coffee round (`functions/coffee-round`).
#[derive(Debug, Clone)]
pub struct CoffeeRoundConfig {
    pub table_name: String,
    pub mail_from: String,
    pub configuration_set: Option<String>,
    pub log_level: String,
}

impl CoffeeRoundConfig {
    pub fn read(mut r: Reader<'_>) -> Result<CoffeeRoundConfig, ConfigError> {
        let c = CoffeeRoundConfig {
            table_name: r.required(vars::TABLE_NAME),
            mail_from: r.required(vars::MAIL_FROM),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            log_level: r.log_level(),
        };
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

/// Configuration of the daily event reminders (`functions/event-reminders`).
#[derive(Debug, Clone)]
pub struct EventRemindersConfig {
    pub table_name: String,
    /// The address reminders come from (the API's event emails' address).
    pub mail_from: String,
    /// The front end that reminders link to (`/events/{id}`).
    pub web_base_url: String,
    pub configuration_set: Option<String>,
    pub log_level: String,
}

impl EventRemindersConfig {
    pub fn read(mut r: Reader<'_>) -> Result<EventRemindersConfig, ConfigError> {
        let c = EventRemindersConfig {
            table_name: r.required(vars::TABLE_NAME),
            mail_from: r.required(vars::MAIL_FROM),
            web_base_url: r.url(vars::WEB_BASE_URL).trim_end_matches('/').into(),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            log_level: r.log_level(),
        };
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

/// Configuration of the daily engagement pass (`functions/engagement`):
/// experts asked about unanswered questions, and the weekly nudges.
#[derive(Debug, Clone)]
pub struct EngagementConfig {
    pub table_name: String,
    /// The address the emails come from; replies by email go to its domain.
    pub mail_from: String,
    /// The front end the emails link to (`/questions/{id}`, `/settings`, …).
    pub web_base_url: String,
    /// The HTTP API, which serves the one-click unsubscribe pages.
    pub public_api_url: String,
    pub configuration_set: Option<String>,
    pub log_level: String,
}

impl EngagementConfig {
    pub fn read(mut r: Reader<'_>) -> Result<EngagementConfig, ConfigError> {
        let c = EngagementConfig {
            table_name: r.required(vars::TABLE_NAME),
            mail_from: r.required(vars::MAIL_FROM),
            web_base_url: r.url(vars::WEB_BASE_URL).trim_end_matches('/').into(),
            public_api_url: r.url(vars::PUBLIC_API_URL).trim_end_matches('/').into(),
            configuration_set: r.optional(vars::SES_CONFIGURATION_SET),
            log_level: r.log_level(),
        };
        if !c.mail_from.is_empty() && qnet_domain::member::normalise_email(&c.mail_from).is_err() {
            r.problems.push(format!("{} must be an email address", vars::MAIL_FROM));
        }
        r.finish().map(|_| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_problem_at_once() {
        let mut m = BTreeMap::new();
        m.insert(vars::JWT_ISSUER.to_string(), "ftp://x".to_string());
        m.insert(vars::LOG_LEVEL.to_string(), "loud".to_string());
        let err = ApiConfig::read(Reader::from_map(&m)).unwrap_err();
        let text = err.to_string();
        for needle in [vars::TABLE_NAME, vars::BUCKET_NAME, vars::JWT_ISSUER, vars::JWT_AUDIENCE, vars::LOG_LEVEL] {
            assert!(text.contains(needle), "{text} should name {needle}");
        }
    }
}
