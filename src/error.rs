//! The one error type every layer returns, and the exit code it maps to.
//!
//! DESIGN §7: exit 2 is "bad input, bad manifest, failed preflight, no target, permission
//! refused — nothing changed"; exit 1 is "a failure while applying". The kind decides the code,
//! so no call site picks a number by hand.

use std::fmt;

/// What went wrong, coarse enough to pick an exit code and a `::error` title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Flags, inputs or a comment that do not make a valid request.
    Usage,
    /// The manifest is missing, unreadable or invalid.
    Manifest,
    /// A service, tag, repository or file named by the request does not exist.
    NotFound,
    /// No version satisfies the strategy.
    NoTarget,
    /// A preflight check failed before any change.
    Preflight,
    /// The token or the commenter lacks a permission.
    Permission,
    /// The backend (GitHub or git) failed or answered something unexpected, before any change.
    Remote,
    /// Something failed after the first change; the report says what changed.
    Apply,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Apply => 1,
            _ => 2,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Usage => "Invalid request",
            Kind::Manifest => "Invalid manifest",
            Kind::NotFound => "Not found",
            Kind::NoTarget => "No target version",
            Kind::Preflight => "Preflight failed",
            Kind::Permission => "Permission refused",
            Kind::Remote => "Backend error",
            Kind::Apply => "Rollback failed while applying",
        }
    }
}

/// One clear sentence (`message`), then optional detail lines and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub details: Vec<String>,
    pub help: Option<String>,
    /// A write whose outcome is unknown (a dispatch that ended in a 5xx or a timeout): it may
    /// have happened. Such a write is never sent again blindly (DESIGN §11.15).
    pub ambiguous: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            details: Vec::new(),
            help: None,
            ambiguous: false,
        }
    }

    pub fn ambiguous(mut self) -> Self {
        self.ambiguous = true;
        self
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(Kind::Remote, message)
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    pub fn with_details(mut self, details: impl IntoIterator<Item = String>) -> Self {
        self.details.extend(details);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for d in &self.details {
            write!(f, "\n  {d}")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\nhelp: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
