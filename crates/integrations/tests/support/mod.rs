//! Shared helpers: the SMTP sink, an independent `.eml` parser (mailparse) and the contract
//! every [`Mailer`] adapter must pass.

pub mod smtp_sink;

use std::path::{Path, PathBuf};
use tessera_domain::Email;
use tessera_domain::ports::{Mailer, OutgoingMail};

/// A delivered message as a mail client would see it.
#[derive(Debug)]
pub struct ParsedMail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The decoded body, line breaks normalised to `\n`.
    pub text: String,
    pub date: i64,
    pub message_id: String,
    pub mime_version: String,
    pub content_type: String,
    pub transfer_encoding: String,
}

pub fn parse_eml(raw: &[u8]) -> ParsedMail {
    let parsed = mailparse::parse_mail(raw).expect("parseable RFC 5322 message");
    let headers = parsed.headers.as_slice();
    let value = |name: &str| {
        mailparse::MailHeaderMap::get_first_value(headers, name).unwrap_or_else(|| panic!("missing header {name}"))
    };
    let addresses = |name: &str| -> Vec<String> {
        let header = mailparse::MailHeaderMap::get_first_header(headers, name).unwrap();
        mailparse::addrparse_header(header)
            .unwrap()
            .iter()
            .map(|a| match a {
                mailparse::MailAddr::Single(info) => match &info.display_name {
                    Some(name) => format!("{name} <{}>", info.addr),
                    None => info.addr.clone(),
                },
                mailparse::MailAddr::Group(group) => panic!("unexpected group {group:?}"),
            })
            .collect()
    };
    let from = addresses("From");
    assert_eq!(from.len(), 1, "one From mailbox");
    ParsedMail {
        from: from[0].clone(),
        to: addresses("To"),
        subject: value("Subject"),
        text: parsed.get_body().unwrap().replace("\r\n", "\n"),
        date: mailparse::dateparse(&value("Date")).unwrap(),
        message_id: value("Message-ID"),
        mime_version: value("MIME-Version"),
        content_type: value("Content-Type"),
        transfer_encoding: value("Content-Transfer-Encoding"),
    }
}

/// Where an adapter's mails can be read back, oldest first.
pub trait Inbox {
    /// The raw bytes of the next mail the adapter delivered.
    async fn next(&mut self) -> Vec<u8>;
}

impl Inbox for smtp_sink::SmtpSink {
    async fn next(&mut self) -> Vec<u8> {
        self.next_delivery().await.data
    }
}

/// The `.eml` files of a directory, read in name (= time) order.
pub struct FileInbox {
    pub dir: PathBuf,
    pub seen: usize,
}

impl Inbox for FileInbox {
    async fn next(&mut self) -> Vec<u8> {
        let files = eml_files(&self.dir);
        assert_eq!(files.len(), self.seen + 1, "exactly one new file per mail: {files:?}");
        self.seen += 1;
        std::fs::read(&files[self.seen - 1]).unwrap()
    }
}

/// The `.eml` files in `dir`, sorted by name; panics on any other entry (temporary files).
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in &files {
        assert_eq!(f.extension().and_then(|e| e.to_str()), Some("eml"), "unexpected file {f:?}");
    }
    files
}

pub fn mail(to: &str, subject: &str, text: &str) -> OutgoingMail {
    OutgoingMail { to: Email::parse(to).unwrap(), subject: subject.to_owned(), text: text.to_owned() }
}

/// A reset link longer than any MIME line limit for encoded text, full of `=` and `&`.
pub fn long_reset_link() -> String {
    format!(
        "https://login.example.com/reset-password?token={}&tenant_slug=acme-corp&redirect=%2Fhome%3Fx%3D1",
        "Zm9vYmFy_-".repeat(9)
    )
}

/// Mails in → the same recipient, subject and text out, with every header a client needs.
pub async fn mailer_contract(mailer: &dyn Mailer, inbox: &mut impl Inbox, expected_from: &str) {
    let link = long_reset_link();
    let cases = [
        mail("alice@example.com", "Your Tessera code", "Your code is 123456.\nIt expires in 10 minutes.\n"),
        mail(
            "Zoe.Muller@Example.org",
            "Réinitialisation du mot de passe — Zoë ✓",
            &format!("Grüße, Zoë! 日本語 ✓\n\nOpen this link within 30 minutes:\n{link}\n\n— Tessera\n"),
        ),
        mail(
            "bob@example.net",
            "A subject long enough that every header writer has to fold it somewhere, with ümlauts near the end ✓",
            "Line one\n.starts with a dot\n..two dots\nFrom the start of a line\n\n\ntrailing spaces   \nend",
        ),
    ];
    let mut previous_ids = Vec::new();
    let mut texts = Vec::new();
    for sent in &cases {
        mailer.send(sent).await.unwrap();
        let got = parse_eml(&inbox.next().await);
        assert_eq!(got.to, vec![sent.to.as_str().to_owned()]);
        assert_eq!(got.from, expected_from);
        assert_eq!(got.subject, sent.subject);
        assert_eq!(got.text.trim_end_matches('\n'), sent.text.trim_end_matches('\n'), "body of {:?}", sent.subject);
        assert_eq!(got.mime_version, "1.0");
        assert_eq!(got.content_type.to_ascii_lowercase().replace(' ', ""), "text/plain;charset=utf-8");
        assert!(
            ["7bit", "8bit", "quoted-printable", "base64"].contains(&got.transfer_encoding.as_str()),
            "{}",
            got.transfer_encoding
        );
        let now = chrono::Utc::now().timestamp();
        assert!((now - got.date).abs() < 120, "Date {} is now", got.date);
        assert!(got.message_id.starts_with('<') && got.message_id.ends_with('>'), "{}", got.message_id);
        assert!(!previous_ids.contains(&got.message_id), "Message-IDs are unique");
        previous_ids.push(got.message_id);
        texts.push(got.text);
    }
    // SPEC §6.4/§6.5: the code and the link come out as they went in.
    assert!(texts[0].contains("Your code is 123456."), "{}", texts[0]);
    assert!(texts[1].lines().any(|l| l == link), "{}", texts[1]);
}
