//! The start-up kit every Lambda's `main.rs` uses, so each is a dozen lines:
//!
//! ```no_run
//! use qnet_app::config::CoffeeRoundConfig;
//! use qnet_lambda::{RunError, ScheduleInput};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), qnet_lambda::Error> {
//!     let (config, kit) = qnet_lambda::start::<CoffeeRoundConfig>().await?;
//!     let app = kit.app(&config.table_name).with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
//!     let app = &app;
//!     qnet_lambda::run_event(move |event: serde_json::Value| async move {
//!         let now = ScheduleInput::parse(&event)?.now_or(app.clock().as_ref());
//!         Ok::<_, RunError>(format!("ran for {now}"))
//!     })
//!     .await
//! }
//! ```
//!
//! [`start`] reads the function's configuration (every missing or bad variable
//! in one error), starts the JSON logger and loads the AWS SDK configuration
//! (no network call: credentials are fetched by the first request that needs
//! them). The [`Kit`] then builds only the clients the function asks for, and
//! [`run_event`] / [`run_http`] hand the handler to the Lambda runtime. A
//! scheduled function reads its input with [`ScheduleInput`].
//!
//! It is its own crate because it joins the app to the AWS adapters and the
//! Lambda runtime: `qnet-app` may depend on neither, and `qnet-aws` only on
//! the ports.

use std::future::Future;
use std::sync::Arc;

use qnet_app::App;
use qnet_app::config::{
    ApiConfig, CoffeeRoundConfig, ConfigError, DigestPlannerConfig, DigestSenderConfig, EngagementConfig, EventRemindersConfig,
    IngestConfig, MentoringConfig, Reader, StorageConfig, TableConfig,
};
use qnet_app::links::LinkSigner;
use qnet_aws::aws_config::SdkConfig;
use qnet_aws::{SesMailSender, SqsJobQueue};
use qnet_ports::SystemClock;

mod schedule;

pub use lambda_runtime::Error;
pub use schedule::{RunError, ScheduleError, ScheduleInput};

/// A function's configuration: the `qnet_app::config` type it reads.
pub trait FunctionConfig: Sized {
    fn read(reader: Reader<'_>) -> Result<Self, ConfigError>;
    fn log_level(&self) -> &str;
}

macro_rules! function_config {
    ($($config:ty),* $(,)?) => {$(
        impl FunctionConfig for $config {
            fn read(reader: Reader<'_>) -> Result<Self, ConfigError> {
                <$config>::read(reader)
            }
            fn log_level(&self) -> &str {
                &self.log_level
            }
        }
    )*};
}

function_config!(
    ApiConfig,
    TableConfig,
    StorageConfig,
    IngestConfig,
    DigestPlannerConfig,
    DigestSenderConfig,
    MentoringConfig,
    CoffeeRoundConfig,
    EventRemindersConfig,
    EngagementConfig,
);

/// Reads the configuration `C` from the environment, starts logging at its
/// level and loads the AWS SDK configuration.
pub async fn start<C: FunctionConfig>() -> Result<(C, Kit), Error> {
    let config = C::read(Reader::from_env())?;
    qnet_app::logging::init(config.log_level());
    let sdk = qnet_aws::from_env::sdk_config().await;
    Ok((config, Kit { sdk }))
}

/// Builds the adapters a function needs from the SDK configuration, at init.
pub struct Kit {
    pub sdk: SdkConfig,
}

impl Kit {
    /// The application on the table, with no bucket (`NoBlobs`: least
    /// privilege for a function that never touches files) and the system clock.
    pub fn app(&self, table_name: &str) -> App {
        App::new(
            Arc::new(qnet_aws::from_env::record_store(&self.sdk, table_name)),
            Arc::new(qnet_app::NoBlobs),
            Arc::new(SystemClock),
        )
    }

    /// The application on the table and the bucket, with the system clock.
    pub fn app_with_bucket(&self, table_name: &str, bucket_name: &str) -> App {
        App::new(
            Arc::new(qnet_aws::from_env::record_store(&self.sdk, table_name)),
            Arc::new(qnet_aws::from_env::blob_store(&self.sdk, bucket_name)),
            Arc::new(SystemClock),
        )
    }

    /// SES, through the configuration set (bounces and complaints) when there is one.
    pub fn mailer(&self, configuration_set: &Option<String>) -> Arc<SesMailSender> {
        Arc::new(SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&self.sdk), configuration_set.clone()))
    }

    /// The SQS queue at `queue_url`.
    pub fn queue(&self, queue_url: &str) -> Arc<SqsJobQueue> {
        Arc::new(qnet_aws::from_env::job_queue(&self.sdk, queue_url))
    }

    /// The link signer whose key is the Secrets Manager secret `arn`, read on
    /// first need (`LinkSigner::ensure_loaded`), not during init.
    pub fn link_signer(&self, arn: &str) -> LinkSigner {
        LinkSigner::deferred(qnet_aws::from_env::link_key_loader(&self.sdk, arn))
    }
}

/// Runs an event handler: each invocation's payload (any JSON type: an
/// `S3Event`, an `SqsEvent`, a schedule's `serde_json::Value`) goes to
/// `handler`, whose answer is the invocation's response and whose error fails
/// the invocation (Lambda retries it).
pub async fn run_event<E, R, Err, F, Fut>(handler: F) -> Result<(), Error>
where
    E: serde::de::DeserializeOwned,
    R: serde::Serialize,
    Err: Into<Error>,
    F: Fn(E) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<E>| async move {
        handler(event.payload).await.map_err(Into::into)
    }))
    .await
}

/// Serves an HTTP router (API Gateway HTTP API, payload version 2).
#[cfg(feature = "http")]
pub async fn run_http<'a, S, R, E>(service: S) -> Result<(), Error>
where
    S: lambda_http::Service<lambda_http::Request, Response = R, Error = E>,
    S::Future: Send + 'a,
    R: lambda_http::IntoResponse,
    E: std::fmt::Debug + Into<lambda_runtime::Diagnostic>,
{
    lambda_http::run(service).await
}
