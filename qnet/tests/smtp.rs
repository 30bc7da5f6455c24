//! `qnet serve --smtp`: a real SMTP conversation on loopback ends as a pending
//! case study and an acknowledgement in the outbox.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qnet");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn expect(reader: &mut impl BufRead, code: &str) {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

#[test]
fn a_message_sent_over_smtp_becomes_a_case_study() {
    let dir = tempfile::tempdir().unwrap();
    let (http, smtp) = (free_port(), free_port());
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{http}"),
            "--web-addr",
            "127.0.0.1:0",
            "--smtp",
            &format!("127.0.0.1:{smtp}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("QNET_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", smtp)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = server.kill();
                panic!("no SMTP listener: {e}");
            }
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    expect(&mut reader, "220");
    for (cmd, code) in [
        ("EHLO laptop.local", "250"),
        ("MAIL FROM:<jo@leedsth.nhs.uk>", "250"),
        ("RCPT TO:<case-studies@qnet.localhost>", "250"),
        ("DATA", "354"),
    ] {
        write!(w, "{cmd}\r\n").unwrap();
        expect(&mut reader, code);
    }
    let message = "From: Jo Bloggs <jo@leedsth.nhs.uk>\r\nTo: case-studies@qnet.localhost\r\nSubject: Quicker discharge letters\r\n\
                   Message-ID: <smtp-test-1@leedsth.nhs.uk>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\nAim: Send discharge letters within 24 hours.\r\n\r\n\
                   What we did: Templates and a daily huddle.\r\n.\r\n";
    w.write_all(message.as_bytes()).unwrap();
    expect(&mut reader, "250");
    write!(w, "QUIT\r\n").unwrap();

    let outbox = dir.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = Vec::new();
    while Instant::now() < deadline {
        sent = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default();
        if !sent.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(sent.len(), 1, "one acknowledgement in the outbox");
    let ack = std::fs::read_to_string(sent[0].path()).unwrap();
    assert!(ack.contains("In-Reply-To: <smtp-test-1@leedsth.nhs.uk>"));
    assert!(ack.contains("jo@leedsth.nhs.uk"));
}
