//! `siseri backup`: a consistent copy of the database, taken while the daemon runs.
//!
//! The copy holds NIRs, medical notes and `.p12` not yet withdrawn: it is readable by its
//! owner only (0600), whatever the umask. SQLite would create the file itself with the
//! umask's mode, so the file is created here first, empty and 0600 (`VACUUM INTO` accepts an
//! empty file), and SQLite only fills it.

use std::path::Path;

use super::owner_only;
use crate::datadir::DataDir;
use crate::error::AppError;

pub(super) fn run(dir: &DataDir, out: &Path) -> Result<(), AppError> {
    dir.load_config()?;
    let conn = dir.open_db()?;
    drop(owner_only::create_new_file(out)?);
    if let Err(e) = conn.execute("VACUUM INTO ?1", [out.to_string_lossy()]) {
        // The empty (or half-written) file would pass for a backup.
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    crate::say!("copie écrite dans {}", out.display());
    Ok(())
}
