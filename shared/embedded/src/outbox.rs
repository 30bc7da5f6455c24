//! The local stand-in for SES outbound: every message is written whole to
//! `<data_dir>/outbox/` as an `.eml` file, which any mail client opens and which
//! `qnet serve` lists at `/_local/outbox`.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use qnet_ports::{MailError, MailSender, OutgoingMail};

#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

/// One message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub file_name: String,
    pub size: u64,
}

impl Outbox {
    pub fn open(data_dir: &Path) -> io::Result<Outbox> {
        let dir = data_dir.join("outbox");
        fs::create_dir_all(&dir)?;
        Ok(Outbox { dir })
    }

    /// Messages, oldest first (names start with a ULID, which sorts by time).
    pub fn list(&self) -> io::Result<Vec<OutboxEntry>> {
        let mut v = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".eml") {
                v.push(OutboxEntry { file_name: name, size: e.metadata()?.len() });
            }
        }
        v.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        Ok(v)
    }

    /// The bytes of one message, refusing anything that is not a plain name in
    /// the outbox.
    pub fn read(&self, file_name: &str) -> io::Result<Vec<u8>> {
        let plain = file_name.ends_with(".eml")
            && file_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !file_name.starts_with('.');
        if !plain {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such message"));
        }
        fs::read(self.dir.join(file_name))
    }

    fn write(&self, raw: &[u8]) -> io::Result<String> {
        let id = ulid::Ulid::generate().to_string();
        let name = format!("{id}.eml");
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(raw)?;
        f.sync_all()?;
        fs::rename(&tmp, self.dir.join(&name))?;
        Ok(id)
    }
}

#[async_trait]
impl MailSender for Outbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let (outbox, raw) = (self.clone(), mail.raw.clone());
        tokio::task::spawn_blocking(move || outbox.write(&raw))
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?
            .map_err(|e| MailError::Unavailable(format!("cannot write to the outbox: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_lists_and_reads_messages() {
        let dir = std::env::temp_dir().join(format!("qnet-outbox-{}", ulid::Ulid::generate()));
        let outbox = Outbox::open(&dir).unwrap();
        let mail =
            OutgoingMail { from: "a@b.org".into(), to: vec!["c@d.org".into()], raw: b"Subject: hi\r\n\r\nbody\r\n".to_vec() };
        let id = outbox.send(&mail).await.unwrap();
        let list = outbox.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].file_name, format!("{id}.eml"));
        assert_eq!(outbox.read(&list[0].file_name).unwrap(), mail.raw);
        assert!(outbox.read("../secret.key").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
