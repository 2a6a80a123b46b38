//! The one error type of the core. Every variant says what to do next; the Python
//! bindings map each variant to a `molq.errors` class in a single `match`.

use crate::state::JobState;

/// Everything the core can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Scheduler output (or a scheduler kind) the core cannot read at all.
    #[error("cannot parse {kind} output: {reason}")]
    Parse { kind: String, reason: String },

    /// No job with this id is stored.
    #[error("job {0} not found")]
    JobNotFound(String),

    /// A job id that is already stored was registered again.
    #[error("job {0} already exists in the job store")]
    DuplicateJob(String),

    /// A state name that is not one of molq's nine states.
    #[error("unknown job state {0:?}")]
    UnknownState(String),

    /// A job field that cannot be set that way (its name or its kind of value).
    #[error("job field {0}")]
    InvalidField(String),

    /// A state change the lifecycle forbids.
    #[error("job {job}: illegal transition {from} -> {to}")]
    InvalidTransition {
        job: String,
        from: JobState,
        to: JobState,
    },

    /// The store file was written by a newer molq.
    #[error(
        "job store {path} has schema version {found}, newer than this molq supports ({supported}); upgrade molq"
    )]
    SchemaTooNew {
        path: String,
        found: i64,
        supported: i64,
    },

    /// The file exists but is not a SQLite database, or holds someone else's tables.
    #[error("job store {path} is not a molq job store: {reason}")]
    NotAStore { path: String, reason: String },

    /// The file cannot be opened or created (missing directory, permissions...).
    #[error("job store {path} cannot be opened: {reason}")]
    Unusable { path: String, reason: String },

    /// A write failed for want of space or permission (nothing was written).
    #[error("job store {path} cannot be written: {reason}")]
    Unwritable { path: String, reason: String },

    /// Another connection held the lock for longer than the busy timeout.
    #[error(
        "job store {path} is locked by another process (gave up after the busy timeout): {detail}"
    )]
    Locked { path: String, detail: String },

    /// The store was closed and cannot be used any more.
    #[error("job store is closed")]
    Closed,

    /// Any other SQLite failure, with the file it happened on.
    #[error("job store {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// `Result` with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn parse(kind: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Parse {
            kind: kind.into(),
            reason: reason.into(),
        }
    }

    /// Classify a SQLite error raised while working on the store at `path`.
    pub(crate) fn sqlite(path: &str, source: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as C;
        match source.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => Error::Locked {
                path: path.to_owned(),
                detail: source.to_string(),
            },
            Some(C::NotADatabase) => Error::NotAStore {
                path: path.to_owned(),
                reason: "the file is not a SQLite database".to_owned(),
            },
            Some(C::DiskFull) => Error::Unwritable {
                path: path.to_owned(),
                reason: "the disk is full; free some space and try again".to_owned(),
            },
            Some(C::ReadOnly) => Error::Unwritable {
                path: path.to_owned(),
                reason: "the file or its folder is read-only; make both writable or choose another path"
                    .to_owned(),
            },
            Some(C::CannotOpen) => Error::Unusable {
                path: path.to_owned(),
                reason: "SQLite cannot open the file or its -wal/-shm beside it; check the folder exists and is writable".to_owned(),
            },
            Some(C::DatabaseCorrupt) => Error::NotAStore {
                path: path.to_owned(),
                reason: format!("the database file is corrupt ({source})"),
            },
            _ => Error::Sqlite {
                path: path.to_owned(),
                source,
            },
        }
    }
}

/// Attach the store path to a rusqlite result.
pub(crate) trait SqlContext<T> {
    fn at(self, path: &str) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn at(self, path: &str) -> Result<T> {
        self.map_err(|e| Error::sqlite(path, e))
    }
}
