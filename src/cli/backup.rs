//! `siseri backup`: a consistent copy of the database, taken while the daemon runs.

use std::path::Path;

use crate::datadir::DataDir;
use crate::error::AppError;

pub(super) fn run(dir: &DataDir, out: &Path) -> Result<(), AppError> {
    dir.load_config()?;
    if out.exists() {
        return Err(AppError::DataDir(format!("{} existe déjà", out.display())));
    }
    let conn = dir.open_db()?;
    conn.execute("VACUUM INTO ?1", [out.to_string_lossy()])?;
    crate::say!("copie écrite dans {}", out.display());
    Ok(())
}
