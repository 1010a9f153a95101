//! `siseri restore ARCHIVE --data DIR`: a data directory rebuilt from a `siseri backup`
//! archive, into an empty or missing directory.
//!
//! Nothing is written before the whole archive was read once and checked: every member is a
//! name of the data directory's own (see [`archive::allowed`]), its size and SHA-256 are the
//! manifest's, none is missing, and the schema is one this binary knows. The archive is then
//! read again into a private directory beside the target (every file 0600, every directory
//! 0700), checked again against the manifest (the file may have changed between the two
//! reads), the database opened as the daemon opens it (migrations of an older archive applied)
//! and its audit log verified; only then is that directory renamed into place.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use super::archive::{self, Hashing, Manifest, Member};
use super::owner_only;
use crate::datadir::DataDir;
use crate::error::AppError;

/// A manifest is a few hundred bytes per document; more than this is not one.
const MANIFEST_LIMIT: u64 = 64 * 1024 * 1024;

pub(super) fn run(target: &DataDir, archive_path: &Path) -> Result<(), AppError> {
    let root = target.root();
    if root.exists() && !root.is_dir() {
        return Err(AppError::DataDir(format!(
            "{} existe et n'est pas un répertoire : rien n'a été restauré",
            root.display()
        )));
    }
    if !target.is_empty() {
        return Err(AppError::DataDir(format!(
            "{} n'est pas vide : la restauration se fait dans un répertoire vide ou inexistant ; rien n'a été modifié",
            root.display()
        )));
    }
    eprintln!("restauration : vérification de l'archive");
    let manifest = check(archive_path)?;
    eprintln!(
        "restauration : archive intègre ({} fichiers, sauvegarde du {} par siseri {})",
        manifest.members.len(),
        manifest.created_at,
        manifest.siseri_version
    );

    let parent = root
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| AppError::io(parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".siseri-restore-")
        .tempdir_in(parent)
        .map_err(|e| AppError::io(parent, e))?;
    extract(archive_path, &manifest, staging.path())?;

    let stage = DataDir::new(staging.path());
    stage.load_config()?;
    {
        let conn = stage.open_db()?;
        let verified = store::audit::verify(&conn)?;
        eprintln!(
            "restauration : base ouverte, journal d'audit intègre ({} entrées)",
            verified.entries
        );
    }
    if root.exists() {
        fs::remove_dir(root).map_err(|e| AppError::io(root, e))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, root).map_err(|e| AppError::io(root, e))?;
    crate::say!("répertoire de données restauré : {}", root.display());
    eprintln!(
        "La phrase secrète de l'AC n'est pas dans la sauvegarde : fournissez-la (SISERI_CA_PASSPHRASE) avant « siseri serve »."
    );
    Ok(())
}

fn refused(why: &str) -> AppError {
    AppError::DataDir(format!("archive refusée : {why} ; rien n'a été restauré"))
}

fn unreadable(e: io::Error) -> AppError {
    let _ = e;
    refused("illisible ou tronquée")
}

/// Reads the whole archive without writing anything; its manifest once every member matched.
fn check(path: &Path) -> Result<Manifest, AppError> {
    let file = File::open(path).map_err(|e| AppError::io(path, e))?;
    let mut tar = tar::Archive::new(io::BufReader::new(file));
    let mut seen: BTreeMap<String, Member> = BTreeMap::new();
    // Under a PKCS#11 token (read from the archive's config.toml) there is no key file.
    let mut key_in_token = false;
    let mut manifest: Option<Manifest> = None;
    for entry in tar.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if manifest.is_some() {
            return Err(refused("des fichiers suivent le manifeste"));
        }
        let name = member_name(&entry)?;
        if name == archive::MANIFEST {
            let mut bytes = Vec::new();
            entry
                .take(MANIFEST_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(unreadable)?;
            manifest =
                Some(serde_json::from_slice(&bytes).map_err(|_| refused("manifeste illisible"))?);
            continue;
        }
        let mut reader = Hashing::new(entry);
        if name == "config.toml" {
            let mut text = String::new();
            reader.read_to_string(&mut text).map_err(unreadable)?;
            key_in_token = toml::from_str::<crate::config::Config>(&text)
                .is_ok_and(|c| c.ca.token().is_some());
        } else {
            io::copy(&mut reader, &mut io::sink()).map_err(unreadable)?;
        }
        let (size, sha256) = reader.finish();
        if seen.contains_key(&name) {
            return Err(refused(&format!("{name} y figure deux fois")));
        }
        seen.insert(
            name.clone(),
            Member {
                path: name,
                size,
                sha256,
            },
        );
    }
    let manifest = manifest.ok_or_else(|| refused("pas de manifeste (archive tronquée ?)"))?;
    if manifest.format != archive::FORMAT {
        return Err(refused(&format!(
            "format {} inconnu de cette version de siseri (format {})",
            manifest.format,
            archive::FORMAT
        )));
    }
    let known = crate::db::known_schema();
    for (component, version) in &manifest.schema {
        let ours = known.get(component).copied().unwrap_or(0);
        if *version > ours {
            return Err(AppError::DataDir(format!(
                "cette sauvegarde vient d'une version plus récente de siseri ({}) : son schéma « {} » est à la version {version}, \
                 cette version-ci ne connaît que la {ours}. Installez une version de siseri au moins aussi récente pour la restaurer ; \
                 rien n'a été restauré",
                out_of(&manifest.siseri_version),
                out_of(component),
            )));
        }
    }
    let listed: BTreeSet<&str> = manifest.members.iter().map(|m| m.path.as_str()).collect();
    if listed.len() != manifest.members.len() {
        return Err(refused("le manifeste nomme un fichier deux fois"));
    }
    for m in &manifest.members {
        match seen.get(&m.path) {
            Some(found) if found == m => {}
            Some(_) if archive::allowed(&m.path) => {
                return Err(refused(&format!(
                    "{} ne correspond pas à son empreinte du manifeste (archive altérée ou abîmée)",
                    m.path
                )))
            }
            _ => return Err(refused("un fichier du manifeste manque à l'archive")),
        }
    }
    if seen.keys().any(|k| !listed.contains(k.as_str())) {
        return Err(refused("un fichier de l'archive manque au manifeste"));
    }
    for required in archive::REQUIRED {
        if key_in_token && required == "ca/ac-siseri.key.pem" {
            continue;
        }
        if !listed.contains(required) {
            return Err(refused(&format!("{required} manque")));
        }
    }
    Ok(manifest)
}

/// A member's path, if it is a regular file with one of the data directory's own names.
fn member_name<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, AppError> {
    if entry.header().entry_type() != tar::EntryType::Regular {
        return Err(refused(
            "elle contient autre chose que des fichiers ordinaires",
        ));
    }
    let path = entry.path_bytes();
    let name = std::str::from_utf8(&path).map_err(|_| refused("un nom de fichier inattendu"))?;
    if name != archive::MANIFEST && !archive::allowed(name) {
        // The name is not echoed: it comes from a file that may have been forged.
        return Err(refused("un nom de fichier inattendu"));
    }
    Ok(name.to_owned())
}

/// A version or component name from the manifest, shown only if it is plain.
fn out_of(s: &str) -> &str {
    let plain = s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
    if plain {
        s
    } else {
        "?"
    }
}

/// Writes every member under `dir` (0600 files, 0700 directories), checking each against
/// the manifest again; adds the empty directories a data directory has.
fn extract(path: &Path, manifest: &Manifest, dir: &Path) -> Result<(), AppError> {
    let expected: BTreeMap<&str, &Member> = manifest
        .members
        .iter()
        .map(|m| (m.path.as_str(), m))
        .collect();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| AppError::io(dir, e))?;
    for sub in [
        "ca",
        "tls",
        "secrets",
        "outbox/mail",
        "outbox/sms",
        "documents",
    ] {
        make_dir(&dir.join(sub))?;
    }
    let file = File::open(path).map_err(|e| AppError::io(path, e))?;
    let mut tar = tar::Archive::new(io::BufReader::new(file));
    let total = manifest.members.len();
    let step = (total / 10).max(1);
    let mut done = 0;
    for entry in tar.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = member_name(&entry)?;
        if name == archive::MANIFEST {
            continue;
        }
        let Some(want) = expected.get(name.as_str()) else {
            return Err(refused("l'archive a changé pendant la restauration"));
        };
        let dest = dir.join(&name);
        if let Some(parent) = dest.parent() {
            make_dir(parent)?;
        }
        let mut out = owner_only::create_new_file(&dest)?;
        let mut reader = Hashing::new(entry);
        io::copy(&mut reader, &mut out).map_err(|e| AppError::io(&dest, e))?;
        out.flush().map_err(|e| AppError::io(&dest, e))?;
        out.sync_all().map_err(|e| AppError::io(&dest, e))?;
        let (size, sha256) = reader.finish();
        if size != want.size || sha256 != want.sha256 {
            return Err(refused("l'archive a changé pendant la restauration"));
        }
        done += 1;
        if (total > 20 && done % step == 0) || done == total {
            eprintln!("restauration : fichiers écrits {done}/{total}");
        }
    }
    if done != total {
        return Err(refused("l'archive a changé pendant la restauration"));
    }
    Ok(())
}

fn make_dir(path: &Path) -> Result<(), AppError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| AppError::io(path, e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|e| AppError::io(path, e))
}
