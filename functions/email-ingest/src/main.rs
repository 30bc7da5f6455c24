//! The email ingest Lambda, invoked by the SES receipt rule.

use std::sync::Arc;

use aws_lambda_events::event::ses::SimpleEmailEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{IngestConfig, Reader};
use qnet_app::ingest::IngestOptions;
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = IngestConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name.clone())),
        Arc::new(qnet_aws::from_env::blob_store(&sdk, config.bucket_name.clone())),
        Arc::new(SystemClock),
    )
    .with_web_base_url(&config.web_base_url)
    .with_board_queue(Arc::new(qnet_aws::from_env::job_queue(&sdk, config.board_queue_url.clone())));
    let mailer = qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone());
    let opts = IngestOptions { dry_run: false, mail_from: config.mail_from.clone() };
    let (app, mailer, opts, prefix) = (&app, &mailer, &opts, config.raw_mail_prefix.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SimpleEmailEvent>| async move {
        qnet_email_ingest::handle(app, mailer, event.payload, prefix, opts).await.map(|_| ()).map_err(lambda_runtime::Error::from)
    }))
    .await
}
