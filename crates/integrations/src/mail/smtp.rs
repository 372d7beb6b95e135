//! The SMTP mailer over lettre's async transport (tokio, rustls with the ring provider).

use super::{BodyEncoding, DEFAULT_FROM, compose, parse_from, recipient_domain};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, SystemTime};
use tessera_domain::RepoError;
use tessera_domain::ports::{Mailer, OutgoingMail};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a relay on localhost or a private network only).
    None,
    /// Plain connection upgraded with `STARTTLS`, which is required: a relay that does not
    /// offer it gets no mail (no silent downgrade). Usually port 587.
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Usually port 465.
    Tls,
}

impl SmtpTls {
    /// The usual port for the mode: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    /// `none`, `starttls` or `tls` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            _ => Err(format!("unknown SMTP TLS mode `{s}`: must be `none`, `starttls` or `tls`")),
        }
    }
}

impl std::fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        })
    }
}

/// Where and how to hand mails over. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// With `password`, authenticates with `PLAIN` or `LOGIN` (whichever the relay offers).
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub tls: SmtpTls,
    /// The sender: `Name <address>` or a bare address.
    pub from: String,
    /// Bounds one whole hand-over (connect, TLS, auth, transfer).
    pub timeout_seconds: u64,
}

impl SmtpSettings {
    /// `host` on port 587 with required `STARTTLS`, no credentials, sending as
    /// [`DEFAULT_FROM`], 10 s timeout.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: SmtpTls::StartTls.default_port(),
            username: None,
            password: None,
            tls: SmtpTls::StartTls,
            from: DEFAULT_FROM.to_owned(),
            timeout_seconds: 10,
        }
    }
}

/// Hands each mail to an SMTP relay on a fresh connection (mail is rare: password resets,
/// codes, notifications). Every failure — unreachable relay, refused TLS or credentials, a
/// rejected recipient, the timeout — is `RepoError::Unavailable`.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    host: String,
    port: u16,
    tls: SmtpTls,
}

impl SmtpMailer {
    /// # Errors
    /// A message naming the problem: an empty host, an invalid sender, a username without a
    /// password (or the reverse), a zero timeout, or TLS parameters the host name cannot make.
    pub fn new(settings: SmtpSettings) -> Result<Self, String> {
        let SmtpSettings { host, port, username, password, tls, from, timeout_seconds } = settings;
        let host = host.trim().to_owned();
        if host.is_empty() {
            return Err("SMTP host must not be empty".to_owned());
        }
        if timeout_seconds == 0 {
            return Err("SMTP timeout must be at least 1 second".to_owned());
        }
        let from = parse_from(&from)?;
        let timeout = Duration::from_secs(timeout_seconds);
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone()).port(port).timeout(Some(timeout));
        builder = match tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(tls_parameters(&host)?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls_parameters(&host)?)),
        };
        builder = match (username, password) {
            (Some(user), Some(password)) => {
                builder.credentials(Credentials::new(user, password.expose_secret().to_owned()))
            }
            (None, None) => builder,
            (Some(_), None) => return Err("SMTP username is set but the password is missing".to_owned()),
            (None, Some(_)) => return Err("SMTP password is set but the username is missing".to_owned()),
        };
        Ok(Self { transport: builder.build(), from, timeout, host, port, tls })
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, String> {
    TlsParameters::new(host.to_owned()).map_err(|e| format!("SMTP TLS for `{host}`: {e}"))
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), RepoError> {
        let message = compose(&self.from, mail, SystemTime::now(), BodyEncoding::Auto)?;
        let error = match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => {
                tracing::info!(
                    recipient_domain = recipient_domain(mail),
                    subject = %mail.subject,
                    relay = %self.host,
                    "mail handed to the SMTP relay"
                );
                return Ok(());
            }
            Ok(Err(e)) => {
                tracing::warn!(
                    recipient_domain = recipient_domain(mail),
                    relay = %self.host,
                    port = self.port,
                    error = %loggable(&e),
                    "mail could not be handed to the SMTP relay"
                );
                RepoError::unavailable(e)
            }
            Err(elapsed) => {
                tracing::warn!(
                    recipient_domain = recipient_domain(mail),
                    relay = %self.host,
                    port = self.port,
                    timeout_seconds = self.timeout.as_secs(),
                    "SMTP hand-over timed out"
                );
                RepoError::unavailable(elapsed)
            }
        };
        Err(error)
    }
}

/// What of an SMTP error may be logged: a relay's answer text can quote the recipient's
/// address, so refusals are logged by their code only.
fn loggable(error: &lettre::transport::smtp::Error) -> String {
    match error.status() {
        Some(code) if error.is_permanent() => format!("relay refused permanently ({code})"),
        Some(code) if error.is_transient() => format!("relay refused for now ({code})"),
        Some(code) => format!("unexpected relay answer ({code})"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_print_and_have_their_ports() {
        for (name, mode, port) in
            [("none", SmtpTls::None, 25), ("StartTLS", SmtpTls::StartTls, 587), ("tls", SmtpTls::Tls, 465)]
        {
            let parsed: SmtpTls = name.parse().unwrap();
            assert_eq!(parsed, mode);
            assert_eq!(parsed.to_string(), name.to_ascii_lowercase());
            assert_eq!(parsed.default_port(), port);
        }
        assert!("ssl".parse::<SmtpTls>().unwrap_err().contains("`none`, `starttls` or `tls`"));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let settings = SmtpSettings {
            username: Some("mailer".to_owned()),
            password: Some(SecretString::from("hunter2-secret")),
            ..SmtpSettings::new("smtp.example.com")
        };
        assert!(!format!("{settings:?}").contains("hunter2-secret"));
        let mailer = SmtpMailer::new(settings).unwrap();
        let shown = format!("{mailer:?}");
        assert!(!shown.contains("hunter2-secret") && shown.contains("smtp.example.com"), "{shown}");
    }

    #[test]
    fn every_tls_mode_builds_a_transport() {
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            let settings = SmtpSettings { tls, port: tls.default_port(), ..SmtpSettings::new("smtp.example.com") };
            assert!(SmtpMailer::new(settings).is_ok(), "{tls}");
        }
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let base = SmtpSettings::new("smtp.example.com");
        let only_user = SmtpSettings { username: Some("u".to_owned()), ..base.clone() };
        assert!(SmtpMailer::new(only_user).unwrap_err().contains("password is missing"));
        let only_password = SmtpSettings { password: Some(SecretString::from("p")), ..base.clone() };
        assert!(SmtpMailer::new(only_password).unwrap_err().contains("username is missing"));
        assert!(SmtpMailer::new(SmtpSettings { host: " ".to_owned(), ..base.clone() }).unwrap_err().contains("host"));
        assert!(SmtpMailer::new(SmtpSettings { timeout_seconds: 0, ..base.clone() }).unwrap_err().contains("timeout"));
        assert!(SmtpMailer::new(SmtpSettings { from: "x".to_owned(), ..base }).unwrap_err().contains("sender"));
    }
}
