//! `siseri backup`: one archive (see [`super::archive`]) of everything a restore needs, taken
//! while the daemon runs: a `VACUUM INTO` snapshot of the database, then the supporting
//! documents that snapshot refers to, the configuration, AC SISERI's certificate and its
//! ENCRYPTED key (the passphrase is never in a backup), the CRL, the listeners' TLS files and
//! the server key of keyed hashes (without it, no link or code already sent would work).
//!
//! Consistency: documents are content-addressed and never rewritten, so a document the
//! snapshot refers to is either still on disk or was retired after the snapshot (a protocol
//! replaced it meanwhile). In that case the whole archive is written again from a new
//! snapshot, which no longer refers to it.
//!
//! The archive holds NIRs, medical notes, `.p12` not yet withdrawn and the key of keyed
//! hashes: it is readable by its owner only (0600), whatever the umask; the snapshot is made
//! in a private (0700) scratch directory beside it.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::archive::{self, Hashing, Manifest, Member};
use super::owner_only;
use crate::datadir::DataDir;
use crate::error::AppError;

/// How many times a document retired during the copy makes the archive start again.
const ATTEMPTS: u32 = 5;

pub(super) fn run(dir: &DataDir, out: &Path) -> Result<(), AppError> {
    dir.load_config()?;
    let conn = dir.open_db()?;
    let mut file = owner_only::create_new_file(out)?;
    let written = write(dir, &conn, &mut file, out);
    if let Err(e) = written {
        // A half-written file would pass for a backup.
        drop(file);
        let _ = std::fs::remove_file(out);
        return Err(e);
    }
    crate::say!("sauvegarde écrite dans {}", out.display());
    Ok(())
}

fn write(
    dir: &DataDir,
    conn: &rusqlite::Connection,
    file: &mut File,
    out: &Path,
) -> Result<(), AppError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::Builder::new()
        .prefix(".siseri-backup-")
        .tempdir_in(parent)
        .map_err(|e| AppError::io(parent, e))?;
    for attempt in 1..=ATTEMPTS {
        file.set_len(0).map_err(|e| AppError::io(out, e))?;
        file.rewind().map_err(|e| AppError::io(out, e))?;
        let snapshot = scratch.path().join(format!("siseri-{attempt}.db"));
        match write_once(dir, conn, &snapshot, file, out)? {
            Done::Written => {
                file.sync_all().map_err(|e| AppError::io(out, e))?;
                return Ok(());
            }
            Done::DocumentRetired => {
                eprintln!("sauvegarde : une pièce justificative a été remplacée pendant la copie ; nouvel essai");
            }
        }
        let _ = std::fs::remove_file(&snapshot);
    }
    Err(AppError::DataDir(format!(
        "sauvegarde abandonnée : des pièces justificatives ont été remplacées pendant chacun des {ATTEMPTS} essais ; relancez-la"
    )))
}

enum Done {
    Written,
    DocumentRetired,
}

fn write_once(
    dir: &DataDir,
    conn: &rusqlite::Connection,
    snapshot: &Path,
    file: &mut File,
    out: &Path,
) -> Result<Done, AppError> {
    let created_at = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    drop(owner_only::create_new_file(snapshot)?);
    conn.execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])?;
    let (schema, documents) = {
        let copy = rusqlite::Connection::open_with_flags(
            snapshot,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let schema = crate::db::schema_of(&copy)?;
        let mut stmt = copy.prepare("SELECT DISTINCT sha256 FROM enroll_documents ORDER BY 1")?;
        let documents: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        (schema, documents)
    };
    let db_size = std::fs::metadata(snapshot)
        .map_err(|e| AppError::io(snapshot, e))?
        .len();
    eprintln!(
        "sauvegarde : instantané de la base pris ({}), {} pièce(s) justificative(s) à copier",
        megabytes(db_size),
        documents.len()
    );

    let io = |e| AppError::io(out, e);
    let mut tar = tar::Builder::new(BufWriter::new(&mut *file));
    let mut members = Vec::new();
    let mtime = u64::try_from(created_at.unix_timestamp()).unwrap_or(0);
    let failed = |(path, e): (PathBuf, std::io::Error)| AppError::io(&path, e);

    let mut add = |tar: &mut tar::Builder<_>, name: &str, source: &Path| {
        add_file(tar, name, source, mtime).map(|m| members.push(m))
    };
    add(&mut tar, "siseri.db", snapshot).map_err(failed)?;
    for name in archive::FILES {
        let source = dir.root().join(name);
        // Under a PKCS#11 token there is no key file: the key stays in the token.
        let required = archive::REQUIRED.contains(&name)
            && !(name == "ca/ac-siseri.key.pem" && config_has_token(dir));
        if source.exists() || required {
            add(&mut tar, name, &source).map_err(failed)?;
        }
    }
    // The signer's log of signatures, as consistent a snapshot as the database's.
    if dir.signer_audit().exists() {
        let signer_snapshot = snapshot.with_extension("signer.db");
        drop(owner_only::create_new_file(&signer_snapshot)?);
        let signer = rusqlite::Connection::open(dir.signer_audit())?;
        signer.execute("VACUUM INTO ?1", [signer_snapshot.to_string_lossy()])?;
        add(&mut tar, archive::SIGNER_AUDIT, &signer_snapshot).map_err(failed)?;
        let _ = std::fs::remove_file(&signer_snapshot);
    }
    let step = (documents.len() / 10).max(1);
    for (i, sha256) in documents.iter().enumerate() {
        if !archive::is_sha256(sha256) {
            return Err(AppError::DataDir(
                "la base nomme une pièce justificative par une empreinte invalide".into(),
            ));
        }
        let name = archive::document_path(sha256);
        match add_file(&mut tar, &name, &dir.root().join(&name), mtime) {
            Ok(m) if m.sha256 == *sha256 => members.push(m),
            Ok(_) => {
                return Err(AppError::DataDir(format!(
                    "la pièce justificative {name} ne correspond plus à son empreinte : le fichier est altéré"
                )))
            }
            Err((_, e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Done::DocumentRetired)
            }
            Err(e) => return Err(failed(e)),
        }
        if (documents.len() > 20 && (i + 1) % step == 0) || i + 1 == documents.len() {
            eprintln!(
                "sauvegarde : pièces justificatives {}/{}",
                i + 1,
                documents.len()
            );
        }
    }

    let manifest = Manifest {
        format: archive::FORMAT,
        siseri_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: created_at
            .format(&Rfc3339)
            .map_err(|e| AppError::DataDir(e.to_string()))?,
        schema,
        members,
    };
    let bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::DataDir(e.to_string()))?;
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    tar.append_data(&mut header, archive::MANIFEST, bytes.as_slice())
        .map_err(io)?;
    let mut writer = tar.into_inner().map_err(io)?;
    writer.flush().map_err(io)?;
    drop(writer);
    let total = file.metadata().map_err(io)?.len();
    eprintln!("sauvegarde : archive complète ({})", megabytes(total));
    Ok(Done::Written)
}

/// True when the CA key of `dir` lives in a PKCS#11 token.
fn config_has_token(dir: &DataDir) -> bool {
    dir.load_config()
        .map(|c| c.ca.token().is_some())
        .unwrap_or(false)
}

/// Appends the file at `source` as `name`, 0600, hashing what is written.
fn add_file<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    source: &Path,
    mtime: u64,
) -> Result<Member, (PathBuf, std::io::Error)> {
    let opened = File::open(source).and_then(|f| Ok((f.metadata()?.len(), f)));
    let (size, f) = opened.map_err(|e| (source.to_owned(), e))?;
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    let mut reader = Hashing::new(f.take(size));
    tar.append_data(&mut header, name, &mut reader)
        .map_err(|e| (source.to_owned(), e))?;
    let (count, sha256) = reader.finish();
    if count != size {
        // The file shrank while it was read: the member would not match its header.
        return Err((
            source.to_owned(),
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "fichier raccourci"),
        ));
    }
    Ok(Member {
        path: name.to_owned(),
        size,
        sha256,
    })
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1_000_000.0)
}
