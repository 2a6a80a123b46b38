//! The store's files on disk: created private (0600) whatever the umask, and
//! kept private (the database, its `-wal` and its `-shm`). A filesystem
//! failure becomes an error that names the path and what to do.

use std::fs::{self, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Owner read and write, nothing for group or others.
const PRIVATE: u32 = 0o600;

/// The files SQLite keeps for one database in WAL mode.
const SUFFIXES: [&str; 3] = ["", "-wal", "-shm"];

/// Create the database file at `path` as 0600 if it does not exist, so SQLite
/// (which gives its `-wal` and `-shm` the database's mode) never makes a
/// readable one. An existing file is left for [`make_private`].
pub(crate) fn create_private(path: &str) -> Result<()> {
    if Path::new(path).is_dir() {
        return Err(unusable(
            path,
            "it is a directory; give the path of a file (such as jobs.db) inside it".to_owned(),
        ));
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE)
        .open(path)
    {
        // The umask may have taken bits the owner needs (umask 0777).
        Ok(_) => set_private(path).map_err(|e| io_error(path, &e)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(path, &e)),
    }
}

/// Take group and other bits off the database, its `-wal` and its `-shm`
/// (stores made by an older molq were 0644). Files owned by someone else
/// are left as they are: only their owner may change them.
pub(crate) fn make_private(path: &str) -> Result<()> {
    for suffix in SUFFIXES {
        let file = format!("{path}{suffix}");
        let mode = match fs::metadata(&file) {
            Ok(meta) => meta.permissions().mode(),
            Err(_) => continue,
        };
        if mode & 0o077 == 0 {
            continue;
        }
        match set_private(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {}
            Err(e) => return Err(io_error(&file, &e)),
        }
    }
    Ok(())
}

fn set_private(path: &str) -> std::io::Result<()> {
    fs::set_permissions(path, Permissions::from_mode(PRIVATE))
}

fn unusable(path: &str, reason: String) -> Error {
    Error::Unusable {
        path: path.to_owned(),
        reason,
    }
}

/// What an I/O failure on a store file means for the user.
fn io_error(path: &str, e: &std::io::Error) -> Error {
    let dir = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ".".to_owned(), |p| p.display().to_string());
    let reason = match e.kind() {
        ErrorKind::PermissionDenied => {
            format!("no permission to create it in {dir}; choose a folder you can write (MOLQ_HOME or the store path)")
        }
        ErrorKind::ReadOnlyFilesystem => {
            format!("{dir} is on a read-only file system; choose a writable folder")
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            format!("the disk holding {dir} is full; free some space and try again")
        }
        ErrorKind::NotADirectory => {
            format!("a part of {dir} is a file, not a folder; choose another path")
        }
        ErrorKind::NotFound => format!("its directory {dir} does not exist"),
        _ => e.to_string(),
    };
    unusable(path, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_private_and_an_old_one_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.db");
        let db = db.to_str().unwrap();
        create_private(db).unwrap();
        assert_eq!(mode(Path::new(db)), 0o600);
        let wal = format!("{db}-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(db, Permissions::from_mode(0o664)).unwrap();
        make_private(db).unwrap();
        assert_eq!((mode(Path::new(db)), mode(Path::new(&wal))), (0o600, 0o600));
    }

    #[test]
    fn a_directory_or_a_file_in_the_way_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let msg = create_private(dir.path().to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("it is a directory"), "{msg}");
        let file = dir.path().join("afile");
        fs::write(&file, b"x").unwrap();
        let below = format!("{}/x.db", file.display());
        let msg = create_private(&below).unwrap_err().to_string();
        assert!(msg.contains("is a file, not a folder"), "{msg}");
    }
}
