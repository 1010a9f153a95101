//! The dosimetry bodies (*organismes de dosimétrie*) an establishment has named: the relation
//! that lets a body's certificate send results there, and nowhere else ([`crate::policy::admits`]).
//!
//! **Who a body is.** What the registry reliably knows of a body's request is its certificate:
//! issued by AC SISERI under the profile `organisme`, only by an operator (`siseri cert issue
//! --profile organisme --cn NAME`), never through the public wizard. Its common name is the
//! body's identity here: the operator chooses it, the CA records it, the mutual TLS handshake
//! proves it, and a renewed certificate keeps it (so a body keeps its clients across renewals).
//! There is no SIRET or accreditation number in the certificate to go by; two bodies must
//! therefore never be issued the same common name.
//!
//! **Naming a body.** The correspondent (or an operator) names a body among those that hold a
//! valid certificate: what they type is matched to a certificate's name regardless of case,
//! accents and spacing ([`resolve`]), and the exact certificate name is what is stored and what
//! a request's certificate is compared with.

use serde::Serialize;

use crate::{RegistryError, Result};

/// The longest name a body can have: the upper bound of a certificate's common name.
pub const BODY_NAME_MAX: usize = 64;

/// A dosimetry body named by an establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedBody {
    /// Id of the relation (for removing it).
    pub id: i64,
    /// The establishment that named it.
    pub establishment: i64,
    /// The body: the common name of its certificate.
    pub name: String,
    /// Who named it: `accessor:<habilitation>` or `operator:cli`.
    pub declared_by: String,
    /// When (`2025-06-30T09:15:00Z`).
    pub declared_at: String,
}

/// The certificate name among `known` (the bodies holding a valid certificate) that `input`
/// designates, compared folded (case, accents, spacing); a refusal names the field, never
/// repeats what was typed.
pub fn resolve(input: &str, known: &[String]) -> Result<String> {
    let typed = store::text::label(input, BODY_NAME_MAX).map_err(|e| {
        RegistryError::field(
            "name",
            match e {
                store::text::TextError::Empty => {
                    "Indiquez le nom de l'organisme de dosimétrie.".to_owned()
                }
                _ => format!(
                    "Le nom d'un organisme de dosimétrie compte au plus {BODY_NAME_MAX} caractères, sans caractère de contrôle."
                ),
            },
        )
    })?;
    let key = store::text::fold(&typed);
    known
        .iter()
        .find(|k| store::text::fold(k) == key)
        .cloned()
        .ok_or_else(|| {
            RegistryError::field(
                "name",
                "Aucun organisme de dosimétrie de ce nom ne détient de certificat AC SISERI en cours de validité.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["LABO DOSIMETRIE DE L'EST".into(), "Dosilab Sud".into()]
    }

    #[test]
    fn a_typed_name_designates_the_certificates_exact_name() {
        assert_eq!(
            resolve("  labo dosimétrie  de l'est ", &known()).unwrap(),
            "LABO DOSIMETRIE DE L'EST"
        );
        assert_eq!(resolve("DOSILAB SUD", &known()).unwrap(), "Dosilab Sud");
    }

    #[test]
    fn an_unknown_empty_or_hostile_name_is_refused_without_echo() {
        for typed in ["LABO DE L'OUEST", "", "LABO\u{1b}[2J", &"X".repeat(65)] {
            let e = resolve(typed, &known()).unwrap_err();
            let fields = e.fields().unwrap();
            let message = &fields["name"];
            assert!(typed.is_empty() || !message.contains(typed), "{message}");
            assert!(!message.contains('\u{1b}'), "{message}");
        }
    }
}
