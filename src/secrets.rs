//! Secrets handed to siseri from outside: the CA passphrase, the SMTP password, the SMS
//! gateway's token. Each has three sources, the first present wins:
//!
//! 1. the environment variable itself (`SISERI_CA_PASSPHRASE`, …), when not empty;
//! 2. a file named by the same variable with `_FILE` appended (`SISERI_CA_PASSPHRASE_FILE`);
//! 3. systemd's credentials (`LoadCredential=`): `$CREDENTIALS_DIRECTORY/<credential>`.
//!
//! A file's content, its trailing line ends removed, is the secret. A file that is named but
//! unreadable or empty is an error that names the file, never what it holds. What is read goes
//! straight into a [`SecretString`]; the buffer it came through is zeroed.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{french_io, AppError};

/// One secret and where it may come from.
#[derive(Debug, Clone, Copy)]
pub struct Secret {
    /// The environment variable (`SISERI_CA_PASSPHRASE`); `<var>_FILE` names a file.
    pub var: &'static str,
    /// The name of the file under `$CREDENTIALS_DIRECTORY`.
    pub credential: &'static str,
}

/// The CA key's passphrase.
pub const CA_PASSPHRASE: Secret = Secret {
    var: "SISERI_CA_PASSPHRASE",
    credential: "ca-passphrase",
};

/// The PIN of the PKCS#11 token holding the CA key (`[ca] key_store = "pkcs11"`).
pub const CA_PKCS11_PIN: Secret = Secret {
    var: "SISERI_CA_PKCS11_PIN",
    credential: "pkcs11-pin",
};

/// The SMTP password (`[mail] smtp_password`).
pub const SMTP_PASSWORD: Secret = Secret {
    var: "SISERI_MAIL_SMTP_PASSWORD",
    credential: "smtp-password",
};

/// The SMS gateway's token (`[sms] http_token`).
pub const SMS_TOKEN: Secret = Secret {
    var: "SISERI_SMS_HTTP_TOKEN",
    credential: "sms-token",
};

impl Secret {
    /// `<var>_FILE`.
    pub fn file_var(&self) -> String {
        format!("{}_FILE", self.var)
    }

    /// The secret from the process's environment, or `None` when no source gives it.
    pub fn from_process(&self) -> Result<Option<SecretString>, AppError> {
        self.lookup(&|name| std::env::var_os(name))
    }

    /// The secret from `env` (a lookup of environment variables), or `None`.
    pub fn lookup(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Option<SecretString>, AppError> {
        if let Some(value) = env(self.var).filter(|v| !v.is_empty()) {
            return match value.into_string() {
                Ok(v) => Ok(Some(SecretString::from(v))),
                Err(_) => Err(AppError::Config(format!(
                    "{} n'est pas du texte UTF-8",
                    self.var
                ))),
            };
        }
        self.from_files(env)
    }

    /// The secret from `<var>_FILE` or the credentials directory only: what the configuration
    /// file says is overridden by either (see the module's order).
    pub fn from_files(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Option<SecretString>, AppError> {
        let file_var = self.file_var();
        if let Some(path) = env(&file_var).filter(|v| !v.is_empty()) {
            return read(Path::new(&path), &file_var).map(Some);
        }
        if let Some(dir) = env("CREDENTIALS_DIRECTORY").filter(|v| !v.is_empty()) {
            let path = PathBuf::from(dir).join(self.credential);
            // systemd sets the directory for every credential of the unit: this one may not
            // be among them.
            if path.symlink_metadata().is_ok() {
                return read(&path, "CREDENTIALS_DIRECTORY").map(Some);
            }
        }
        Ok(None)
    }
}

/// The content of `path`, trailing line ends removed; `given_by` says where the name came from.
fn read(path: &Path, given_by: &str) -> Result<SecretString, AppError> {
    let failed = |why: String| {
        AppError::Config(format!(
            "secret illisible dans {} (donné par {given_by}) : {why}",
            path.display()
        ))
    };
    let mut file = std::fs::File::open(path).map_err(|e| failed(french_io(&e)))?;
    // Sized up front so that the buffer is not moved (and a copy left behind) while it grows.
    let size = file.metadata().map_or(0, |m| m.len()).min(1 << 16) as usize;
    let mut bytes = Zeroizing::new(Vec::with_capacity(size + 1));
    file.read_to_end(&mut bytes)
        .map_err(|e| failed(french_io(&e)))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| failed("pas du texte UTF-8".into()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(failed("fichier vide".into()));
    }
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_os_str().to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn shown(r: Result<Option<SecretString>, AppError>) -> Option<String> {
        r.unwrap().map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn the_variable_wins_over_its_file_which_wins_over_the_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "du fichier\n").unwrap();
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::write(creds.join("ca-passphrase"), "des identifiants\r\n").unwrap();
        let value = Path::new("de la variable");
        let all = env(&[
            ("SISERI_CA_PASSPHRASE", value),
            ("SISERI_CA_PASSPHRASE_FILE", &file),
            ("CREDENTIALS_DIRECTORY", &creds),
        ]);
        assert_eq!(
            shown(CA_PASSPHRASE.lookup(&all)).as_deref(),
            Some("de la variable")
        );
        let files = env(&[
            ("SISERI_CA_PASSPHRASE_FILE", &file),
            ("CREDENTIALS_DIRECTORY", &creds),
        ]);
        assert_eq!(
            shown(CA_PASSPHRASE.lookup(&files)).as_deref(),
            Some("du fichier")
        );
        let systemd = env(&[("CREDENTIALS_DIRECTORY", &creds)]);
        assert_eq!(
            shown(CA_PASSPHRASE.lookup(&systemd)).as_deref(),
            Some("des identifiants")
        );
        // Another credential of the unit: this secret is simply not given.
        assert_eq!(shown(SMS_TOKEN.lookup(&systemd)), None);
        assert_eq!(shown(SMS_TOKEN.lookup(&env(&[]))), None);
    }

    #[test]
    fn an_empty_or_missing_file_is_an_error_naming_the_file_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("vide");
        std::fs::write(&empty, "\n").unwrap();
        let missing = dir.path().join("absent");
        for (path, why) in [(&empty, "fichier vide"), (&missing, "introuvable")] {
            let e = SMTP_PASSWORD
                .lookup(&env(&[("SISERI_MAIL_SMTP_PASSWORD_FILE", path)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains("SISERI_MAIL_SMTP_PASSWORD_FILE"), "{e}");
            assert!(e.contains(why), "{e}");
        }
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::write(creds.join("sms-token"), "").unwrap();
        let e = SMS_TOKEN
            .lookup(&env(&[("CREDENTIALS_DIRECTORY", &creds)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sms-token") && e.contains("fichier vide"), "{e}");
    }

    #[test]
    fn only_line_ends_are_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, " espaces gardés \n\n").unwrap();
        let got = shown(CA_PASSPHRASE.lookup(&env(&[("SISERI_CA_PASSPHRASE_FILE", &file)])));
        assert_eq!(got.as_deref(), Some(" espaces gardés "));
    }
}
