//! Mail adapters for [`Mailer`] (SPEC §6.4 email codes, §6.5 reset and change mails):
//! [`FileMailer`] writes one `.eml` per message (development, tests, `mail.transport = file`),
//! [`SmtpMailer`] hands messages to an SMTP relay (`mail.transport = smtp`).
//!
//! Mails carry one-time secrets (codes, reset links): neither adapter logs a body, a password
//! or a full recipient address — at most the recipient's domain and the subject.

mod file;
mod smtp;

pub use file::FileMailer;
pub use smtp::{SmtpMailer, SmtpSettings, SmtpTls};

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use tessera_domain::RepoError;
use tessera_domain::ports::{Mailer, OutgoingMail};

/// The sender used when none is configured.
pub const DEFAULT_FROM: &str = "Tessera <no-reply@localhost>";

/// Builds the mailer the composition root asked for: `file` (one `.eml` per message under
/// `{data_dir}/mail/`, SPEC §1) or `smtp` (needs `smtp`). When `smtp` is given with the file
/// transport, only its `from` is used.
///
/// # Errors
/// A message naming the problem: an unknown transport, `smtp` without settings, an invalid
/// sender address or inconsistent SMTP settings.
pub fn mailer_from(transport: &str, data_dir: &Path, smtp: Option<SmtpSettings>) -> Result<Arc<dyn Mailer>, String> {
    match transport {
        "file" => {
            let mut mailer = FileMailer::new(data_dir.join("mail"));
            if let Some(settings) = smtp {
                mailer = mailer.with_from(&settings.from)?;
            }
            Ok(Arc::new(mailer))
        }
        "smtp" => {
            let settings =
                smtp.ok_or_else(|| "mail transport `smtp` needs SMTP settings (host, port, …)".to_owned())?;
            Ok(Arc::new(SmtpMailer::new(settings)?))
        }
        other => Err(format!("unknown mail transport `{other}`: must be `file` or `smtp`")),
    }
}

/// Parses a sender such as `Tessera <no-reply@example.com>` or `no-reply@example.com`.
pub(crate) fn parse_from(from: &str) -> Result<Mailbox, String> {
    from.trim().parse::<Mailbox>().map_err(|e| format!("invalid sender address `{from}`: {e}"))
}

/// The built-in [`DEFAULT_FROM`] mailbox (a constant known to be valid).
pub(crate) fn default_from() -> Mailbox {
    Mailbox::new(Some("Tessera".to_owned()), lettre::Address::new_dangerous("no-reply", "localhost"))
}

/// How the body is put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEncoding {
    /// `8bit` (the text as written, so codes and links are greppable in the file), falling
    /// back to lettre's choice when a line is too long for it.
    EightBit,
    /// lettre's choice: `7bit` when possible, else `quoted-printable` or `base64` — safe
    /// with every SMTP server, 8BITMIME or not.
    Auto,
}

/// An error composing a message; carries no mail content.
#[derive(Debug)]
pub(crate) struct ComposeError(String);

impl std::fmt::Display for ComposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ComposeError {}

/// The RFC 5322 message for `mail`: From, To, Subject, Date, Message-ID, MIME-Version,
/// `Content-Type: text/plain; charset=utf-8` and a Content-Transfer-Encoding.
pub(crate) fn compose(
    from: &Mailbox,
    mail: &OutgoingMail,
    date: SystemTime,
    encoding: BodyEncoding,
) -> Result<Message, RepoError> {
    let to = mail
        .to
        .as_str()
        .parse::<lettre::Address>()
        .map_err(|e| RepoError::unavailable(ComposeError(format!("recipient address refused: {e}"))))?;
    let message_id = format!("<{}@{}>", uuid::Uuid::now_v7().simple(), from.email.domain());
    let body = match encoding {
        BodyEncoding::EightBit => eight_bit_body(&mail.text).unwrap_or_else(|| Body::new(mail.text.clone())),
        BodyEncoding::Auto => Body::new(mail.text.clone()),
    };
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(header_safe(&mail.subject))
        .date(date)
        .message_id(Some(message_id))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body))
        .map_err(|e| RepoError::unavailable(ComposeError(format!("message refused: {e}"))))
}

/// The longest line RFC 5322 §2.1.1 allows, without its CRLF.
const MAX_LINE: usize = 998;

/// `text` as an `8bit` body: CRLF line endings, every line as written (lettre would switch
/// to quoted-printable past 76 characters, splitting long links with soft breaks and `=3D`).
/// `None` when a line is longer than [`MAX_LINE`] octets or the text holds a NUL.
fn eight_bit_body(text: &str) -> Option<Body> {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    // lettre ends the body with a CRLF of its own.
    let normalized = normalized.strip_suffix('\n').unwrap_or(&normalized);
    if normalized.contains('\0') || normalized.split('\n').any(|line| line.len() > MAX_LINE) {
        return None;
    }
    let crlf = normalized.replace('\n', "\r\n");
    Some(Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit))
}

/// A subject cannot carry line breaks or other control characters (header injection).
fn header_safe(subject: &str) -> String {
    subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// The part of the recipient that may be logged.
pub(crate) fn recipient_domain(mail: &OutgoingMail) -> &str {
    mail.to.as_str().rsplit_once('@').map_or("", |(_, domain)| domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::Email;

    fn mail(subject: &str, text: &str) -> OutgoingMail {
        OutgoingMail {
            to: Email::parse("Alice@Example.com").unwrap(),
            subject: subject.to_owned(),
            text: text.to_owned(),
        }
    }

    fn formatted(m: &OutgoingMail, encoding: BodyEncoding) -> String {
        let message = compose(&default_from(), m, SystemTime::UNIX_EPOCH, encoding).unwrap();
        String::from_utf8(message.formatted()).unwrap()
    }

    #[test]
    fn default_from_matches_the_documented_constant() {
        assert_eq!(parse_from(DEFAULT_FROM).unwrap(), default_from());
        assert_eq!(default_from().to_string(), DEFAULT_FROM);
    }

    #[test]
    fn parse_from_accepts_bare_and_named_addresses_and_refuses_garbage() {
        assert_eq!(parse_from("no-reply@example.com").unwrap().email.to_string(), "no-reply@example.com");
        let named = parse_from(" Acme Login <login@acme.test> ").unwrap();
        assert_eq!(named.name.as_deref(), Some("Acme Login"));
        assert!(parse_from("not an address").unwrap_err().contains("invalid sender address"));
    }

    #[test]
    fn compose_writes_every_rfc5322_and_mime_header() {
        let text = formatted(&mail("Your code", "Code: 123456"), BodyEncoding::EightBit);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        for expected in [
            "From: Tessera <no-reply@localhost>\r\n",
            "To: alice@example.com\r\n",
            "Subject: Your code\r\n",
            "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: 8bit\r\n",
        ] {
            assert!(format!("{head}\r\n").contains(expected), "missing {expected:?} in {head}");
        }
        let id = head.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap();
        assert!(id.starts_with('<') && id.ends_with("@localhost>"), "{id}");
        assert_eq!(body.trim_end(), "Code: 123456");
    }

    #[test]
    fn compose_gives_each_message_its_own_id() {
        let a = formatted(&mail("s", "t"), BodyEncoding::Auto);
        let b = formatted(&mail("s", "t"), BodyEncoding::Auto);
        let id = |s: &str| s.lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_owned();
        assert_ne!(id(&a), id(&b));
    }

    #[test]
    fn compose_keeps_line_breaks_out_of_the_subject() {
        let text = formatted(&mail("Hi\r\nBcc: evil@example.com", "x"), BodyEncoding::EightBit);
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(text.contains("Subject: Hi  Bcc: evil@example.com\r\n"), "{text}");
    }

    #[test]
    fn compose_eight_bit_keeps_utf8_and_long_urls_verbatim() {
        let link = format!("https://login.example.com/reset?token={}&tenant=acme", "A".repeat(120));
        let text = formatted(&mail("Réinitialisation", &format!("Bonjour Zoë,\n\n{link}\n")), BodyEncoding::EightBit);
        assert!(text.contains(&link), "{text}");
        assert!(text.contains("Bonjour Zoë,\r\n"), "{text}");
    }

    #[test]
    fn compose_eight_bit_normalises_line_endings_and_ends_with_one_crlf() {
        let text = formatted(&mail("s", "a\nb\r\nc\rd\n"), BodyEncoding::EightBit);
        assert!(text.ends_with("\r\n\r\na\r\nb\r\nc\r\nd\r\n"), "{text:?}");
        let text = formatted(&mail("s", "no newline"), BodyEncoding::EightBit);
        assert!(text.ends_with("\r\n\r\nno newline\r\n"), "{text:?}");
    }

    #[test]
    fn compose_keeps_8bit_up_to_the_rfc_line_limit_and_falls_back_past_it() {
        let text = formatted(&mail("s", &"x".repeat(MAX_LINE)), BodyEncoding::EightBit);
        assert!(text.contains("Content-Transfer-Encoding: 8bit"), "{text}");
        let text = formatted(&mail("s", &"x".repeat(MAX_LINE + 1)), BodyEncoding::EightBit);
        assert!(!text.contains("Content-Transfer-Encoding: 8bit"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 78), "{text}");
    }

    #[test]
    fn compose_auto_is_ascii_on_the_wire() {
        let text = formatted(&mail("Grüße", "Grüße, dein Code: 654321"), BodyEncoding::Auto);
        assert!(text.is_ascii(), "{text}");
    }

    #[test]
    fn recipient_domain_is_only_the_domain() {
        assert_eq!(recipient_domain(&mail("s", "t")), "example.com");
    }

    #[test]
    fn mailer_from_refuses_unknown_transports_and_smtp_without_settings() {
        let dir = std::env::temp_dir();
        assert!(mailer_from("sendmail", &dir, None).err().unwrap().contains("`file` or `smtp`"));
        assert!(mailer_from("smtp", &dir, None).err().unwrap().contains("needs SMTP settings"));
        assert!(mailer_from("file", &dir, None).is_ok());
    }

    #[test]
    fn mailer_from_reports_a_bad_sender() {
        let settings = SmtpSettings { from: "nope".to_owned(), ..SmtpSettings::new("localhost") };
        assert!(mailer_from("file", &std::env::temp_dir(), Some(settings.clone())).err().unwrap().contains("nope"));
        assert!(mailer_from("smtp", &std::env::temp_dir(), Some(settings)).err().unwrap().contains("nope"));
    }
}
