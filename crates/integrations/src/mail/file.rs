//! The file mailer: one RFC 5322 `.eml` per message, for development and tests.

use super::{BodyEncoding, compose, default_from, parse_from, recipient_domain};
use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use lettre::message::Mailbox;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tessera_domain::RepoError;
use tessera_domain::ports::{Mailer, OutgoingMail};

/// Writes each mail as `{dir}/{UTC timestamp}-{uuid}.eml` (e.g.
/// `20261122T101530.123456Z-0193….eml`), so that names sort in sending order. The body is
/// `8bit` (UTF-8 as written: codes and links can be read straight from the file), each file
/// is written to a temporary name and renamed (a reader never sees half a mail) and, on Unix,
/// readable by its owner only (mails carry one-time secrets). `dir` is created when missing.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
    /// The last timestamp handed out: names stay strictly increasing within the process even
    /// when two mails share a microsecond or the clock steps back.
    last: Mutex<Option<DateTime<Utc>>>,
}

impl FileMailer {
    /// A file mailer into `dir` sending as [`super::DEFAULT_FROM`].
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, from: default_from(), last: Mutex::new(None) }
    }

    /// Sets the sender (`Name <address>` or a bare address).
    ///
    /// # Errors
    /// A message naming the invalid address.
    pub fn with_from(mut self, from: &str) -> Result<Self, String> {
        self.from = parse_from(from)?;
        Ok(self)
    }

    /// The directory the mails go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn next_timestamp(&self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now);
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = match *last {
            Some(previous) if previous >= now => previous + TimeDelta::microseconds(1),
            _ => now,
        };
        *last = Some(next);
        next
    }
}

impl std::fmt::Debug for FileMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMailer").field("dir", &self.dir).field("from", &self.from.to_string()).finish()
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), RepoError> {
        let at = self.next_timestamp();
        let message = compose(&self.from, mail, at.into(), BodyEncoding::EightBit)?;
        let name = format!("{}-{}.eml", at.format("%Y%m%dT%H%M%S%.6fZ"), uuid::Uuid::now_v7());
        let dir = self.dir.clone();
        let bytes = message.formatted();
        let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
            .await
            .map_err(RepoError::unavailable)?;
        match written {
            Ok(path) => {
                tracing::info!(
                    recipient_domain = recipient_domain(mail),
                    subject = %mail.subject,
                    file = %path.display(),
                    "mail written to file"
                );
                Ok(())
            }
            Err(error) => {
                tracing::warn!(
                    recipient_domain = recipient_domain(mail),
                    dir = %self.dir.display(),
                    %error,
                    "mail could not be written"
                );
                Err(RepoError::unavailable(error))
            }
        }
    }
}

/// Writes `bytes` to `dir/.name.tmp`, flushes it to disk and renames it to `dir/name`.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let result = (|| {
        let mut file = open_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map(|()| target)
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_strictly_increase() {
        let mailer = FileMailer::new(PathBuf::from("unused"));
        let mut previous = mailer.next_timestamp();
        for _ in 0..1000 {
            let next = mailer.next_timestamp();
            assert!(next > previous);
            previous = next;
        }
    }

    #[test]
    fn write_atomically_leaves_no_temporary_file_and_creates_the_directory() {
        let dir = std::env::temp_dir().join(format!("tessera-file-mailer-{}", uuid::Uuid::new_v4())).join("a/b");
        let path = write_atomically(&dir, "x.eml", b"hello").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.eml")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn debug_shows_no_secrets() {
        let shown = format!("{:?}", FileMailer::new(PathBuf::from("/data/mail")));
        assert!(shown.contains("/data/mail") && shown.contains("no-reply@localhost"), "{shown}");
    }
}
