//! The writer the SIGKILL test kills (tests/tests/group_commit.rs): 32
//! concurrent tasks write to the embedded store in `<dir>` until killed. Each
//! write is one transaction of two items (a new entry and its writer's
//! counter, incremented), and each is acknowledged on stdout (`ack <writer>
//! <n>`) only after the store answered it, as the API acknowledges a request.

use std::io::Write as _;
use std::sync::Arc;

use qnet_embedded::EmbeddedRecordStore;
use qnet_ports::{Condition, Item, RecordStore, Write};
use serde_json::json;

const WRITERS: usize = 32;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let dir = std::env::args().nth(1).expect("usage: store-writer <data dir>");
    let store = Arc::new(EmbeddedRecordStore::open(std::path::Path::new(&dir)).expect("the store opens"));
    for w in 0..WRITERS {
        store.put(Item::new(format!("W#{w}"), "COUNT", json!({"n": 0})), Condition::NotExists).await.expect("a counter");
    }
    println!("ready");
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.spawn(async move {
            for n in 1u64.. {
                let writes = vec![
                    Write::Put {
                        item: Item::new(format!("W#{w}"), format!("E#{n:09}"), json!({"n": n})),
                        condition: Condition::NotExists,
                    },
                    Write::increment(format!("W#{w}"), "COUNT", "n", 1),
                ];
                store.transact(writes).await.expect("the write succeeds");
                let mut out = std::io::stdout().lock();
                writeln!(out, "ack {w} {n}").and_then(|()| out.flush()).expect("stdout");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
