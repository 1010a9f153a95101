//! Files the CLI writes outside the data directory that hold personal data (a backup, the
//! supporting documents of a protocol): readable by their owner only, whatever the umask.
//!
//! The mode given at creation is cut by the umask, which can only remove bits; it is then set
//! again explicitly, so that the result depends on the umask in no way.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::AppError;

/// Owner read and write.
const FILE_MODE: u32 = 0o600;

/// Owner read, write and search.
const DIR_MODE: u32 = 0o700;

/// Creates `path`, which must not exist, empty and 0600.
pub(super) fn create_new_file(path: &Path) -> Result<File, AppError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                AppError::DataDir(format!("{} existe déjà", path.display()))
            }
            _ => AppError::io(path, e),
        })?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .map_err(|e| AppError::io(path, e))?;
    Ok(file)
}

/// Creates `path` empty and 0600, replacing what was there: a file of an earlier run, or a
/// symbolic link, which is removed rather than followed.
pub(super) fn replace_file(path: &Path) -> Result<File, AppError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(AppError::io(path, e)),
        _ => {}
    }
    create_new_file(path)
}

/// Makes sure the directory `path` exists; when it is created here, it is 0700 (its parents,
/// if missing, are ordinary directories). An existing directory is the operator's own choice
/// and keeps its mode: the files written into it are 0600 anyway.
pub(super) fn ensure_dir(path: &Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| AppError::io(parent, e))?;
    }
    DirBuilder::new()
        .mode(DIR_MODE)
        .create(path)
        .map_err(|e| AppError::io(path, e))?;
    std::fs::set_permissions(path, Permissions::from_mode(DIR_MODE))
        .map_err(|e| AppError::io(path, e))
}
