//! The local runner's one secret: signs session tokens and blob URLs.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

const SECRET_FILE: &str = "secret.key";

/// Reads `<data_dir>/secret.key`, creating it with 32 random bytes (mode 0600) on
/// first use.
///
/// Why a file and not an environment variable: `qnet serve` and `qnet token` run
/// as separate processes and must agree on the key without the developer
/// managing one. Creation writes a private temp file and hard-links it into
/// place, so two processes starting together both end up with the same key
/// (the loser of the race reads the winner's file).
pub fn load_or_create_secret(data_dir: &Path) -> io::Result<[u8; 32]> {
    fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    match read_secret(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }

    let secret: [u8; 32] = rand::random();
    let tmp = data_dir.join(format!("{SECRET_FILE}.{:016x}.tmp", rand::random::<u64>()));
    let created = (|| {
        let mut file = private_file(&tmp)?;
        file.write_all(&secret)?;
        file.sync_all()?;
        fs::hard_link(&tmp, &path)
    })();
    let _ = fs::remove_file(&tmp);
    match created {
        Ok(()) => {
            fs::File::open(data_dir)?.sync_all()?;
            Ok(secret)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_secret(&path),
        Err(e) => Err(e),
    }
}

fn read_secret(path: &Path) -> io::Result<[u8; 32]> {
    let bytes = fs::read(path)?;
    bytes.try_into().map_err(|bytes: Vec<u8>| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} holds {} bytes, expected 32; delete it to make a new one (this signs everyone out)",
                path.display(),
                bytes.len()
            ),
        )
    })
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reads_the_same_key() {
        let dir = std::env::temp_dir().join(format!("qnet-secret-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = load_or_create_secret(&dir.join("nested")).unwrap();
        let second = load_or_create_secret(&dir.join("nested")).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.join("nested").join(SECRET_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(dir.join("nested").join(SECRET_FILE), b"short").unwrap();
        assert_eq!(load_or_create_secret(&dir.join("nested")).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(&dir).unwrap();
    }
}
