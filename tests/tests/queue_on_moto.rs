//! The SQS job queue adapter on moto: what the digest planner enqueues is what
//! the digest sender's event source receives. Test names contain `moto` so
//! nextest runs them one at a time (they reset moto).

use std::collections::BTreeSet;

use qnet_aws::from_env::{ensure_queue, job_queue, sqs_client};
use qnet_ports::JobQueue;
use qnet_tests::moto;

#[tokio::test]
async fn moto_job_queue_enqueues_in_batches_and_every_body_arrives() {
    let config = moto::config().await;
    let client = sqs_client(&config);
    let url = ensure_queue(&client, "qnet-digest-jobs").await.expect("the queue");
    assert_eq!(ensure_queue(&client, "qnet-digest-jobs").await.expect("the same queue"), url, "ensure_queue is idempotent");

    // 25 bodies: batches of 10, 10 and 5.
    let bodies: Vec<String> = (0..25)
        .map(|i| serde_json::json!({"issue_id": "weekly-2026-W10", "member_id": format!("member-{i:02}")}).to_string())
        .collect();
    job_queue(&config, url.clone()).enqueue(bodies.clone()).await.expect("enqueued");

    let mut received = Vec::new();
    for _ in 0..20 {
        if received.len() >= bodies.len() {
            break;
        }
        let out = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("ReceiveMessage");
        for m in out.messages() {
            received.push(m.body().unwrap_or_default().to_string());
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    assert_eq!(received.len(), 25, "each body arrives once");
    let want: BTreeSet<&String> = bodies.iter().collect();
    let got: BTreeSet<&String> = received.iter().collect();
    assert_eq!(got, want);

    // Nothing is enqueued for nothing.
    job_queue(&config, url).enqueue(vec![]).await.expect("an empty enqueue is a no-op");
}
