//! Invitation e-mails: rendered from templates (subject, plain text, HTML
//! with every value escaped) and sent over SMTP with lettre.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use super::store::{OutMessage, Rendered};
use super::InviteError;

const TEXT_TEMPLATE: &str = include_str!("../../templates/invite/email.txt");
const HTML_TEMPLATE: &str = include_str!("../../templates/invite/email.html");

/// What one e-mail shows.
#[derive(Debug, Clone)]
pub struct MailData {
    pub name: String,
    pub gemeente: String,
    pub buurt: String,
    pub link: String,
    pub code: String,
    pub website: String,
    pub reminder: bool,
}

/// The e-mail templates, built once.
pub struct MailTexts {
    tera: tera::Tera,
}

impl Default for MailTexts {
    fn default() -> MailTexts {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates([("email.txt", TEXT_TEMPLATE), ("email.html", HTML_TEMPLATE)])
            .expect("the shipped e-mail templates parse");
        // Escape every value in the HTML part, never in the plain one.
        tera.autoescape_on(vec![".html"]);
        MailTexts { tera }
    }
}

impl MailTexts {
    pub fn render(&self, d: &MailData) -> Result<Rendered, InviteError> {
        let clean = |s: &str| s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
        let mut ctx = tera::Context::new();
        ctx.insert("naam", &clean(&d.name));
        ctx.insert("gemeente", &clean(&d.gemeente));
        ctx.insert("buurt", &clean(&d.buurt));
        ctx.insert("link", &d.link);
        ctx.insert("code", &d.code);
        ctx.insert("website", &d.website);
        ctx.insert("herinnering", &d.reminder);
        let render = |name: &str| self.tera.render(name, &ctx).map_err(|e| InviteError::Template(e.to_string()));
        let subject = if d.reminder {
            format!("Herinnering: doe mee aan het buurtonderzoek van {}", clean(&d.gemeente))
        } else {
            format!("Uitnodiging: het buurtonderzoek van {}", clean(&d.gemeente))
        };
        Ok(Rendered { subject, text: render("email.txt")?, html: render("email.html")? })
    }
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server answered with an error code: the message was not taken.
    #[error("the mail server refused the message: {message}")]
    Refused { transient: bool, message: String },
    /// No connection could be made: nothing was sent.
    #[error("cannot reach the mail server: {0}")]
    Unreachable(String),
    /// The connection broke during the conversation: the server may or may
    /// not have taken the message.
    #[error("the connection to the mail server broke: {0}")]
    Broken(String),
    /// The message itself cannot be built (a bad address).
    #[error("the message cannot be built: {0}")]
    Invalid(String),
}

/// Something that delivers e-mails: SMTP, or a fake in tests.
pub trait Mailer {
    fn send(&self, msg: &OutMessage) -> Result<(), SendError>;
}

/// SMTP via lettre, with pooled connections.
pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url` like `smtp://127.0.0.1:2525`, `smtp://host:587?tls=required` or
    /// `smtps://user:password@host`; `from` like `Gemeente <noreply@gemeente.nl>`.
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, InviteError> {
        let from: Mailbox =
            from.parse().map_err(|e| InviteError::Config(format!("the sender address {from:?} is not valid: {e}")))?;
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| InviteError::Config(format!("SMTP_URL is not understood ({e}): use smtp://HOST:PORT")))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(SmtpMailer { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, msg: &OutMessage) -> Result<(), SendError> {
        let to: Mailbox = msg.to.parse().map_err(|e| SendError::Invalid(format!("{}: {e}", msg.to)))?;
        let email = Message::builder()
            .message_id(Some(msg.message_id(self.from.email.domain())))
            .from(self.from.clone())
            .to(to)
            .subject(&msg.subject)
            .multipart(MultiPart::alternative_plain_html(msg.text.clone(), msg.html.clone()))
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        match self.transport.send(&email) {
            Ok(response) if response.is_positive() => Ok(()),
            Ok(response) => Err(SendError::Refused {
                transient: true,
                message: format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")),
            }),
            Err(e) if e.is_transient() || e.is_permanent() => {
                Err(SendError::Refused { transient: e.is_transient(), message: e.to_string() })
            }
            Err(e) if is_connect_error(&e) => Err(SendError::Unreachable(e.to_string())),
            Err(e) => Err(SendError::Broken(e.to_string())),
        }
    }
}

/// lettre's kind `Connection` is a failure to open the connection (its
/// `Network` kind is a failure during the conversation). lettre does not
/// expose the kind, only its `Debug` and `Display` show it.
fn is_connect_error(e: &lettre::transport::smtp::Error) -> bool {
    format!("{e:?}").contains("kind: Connection") || e.to_string().starts_with("Connection error")
}
